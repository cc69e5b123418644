from django.urls import path

from apps.payments import sandbox_views

# Under /sandbox-psp/.
urlpatterns = [
    path("checkout/<str:deposit_id>", sandbox_views.checkout, name="sandbox-psp-checkout"),
]
