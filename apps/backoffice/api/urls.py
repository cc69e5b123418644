from django.urls import path

from apps.backoffice.api import views

# Under /api/backoffice/v1/.
urlpatterns = [
    path("adjustments", views.AdjustmentsApi.as_view(), name="backoffice-adjustments"),
    path(
        "adjustments/<int:adjustment_id>/approve",
        views.ApproveAdjustmentApi.as_view(),
        name="backoffice-adjustment-approve",
    ),
    path(
        "adjustments/<int:adjustment_id>/reject",
        views.RejectAdjustmentApi.as_view(),
        name="backoffice-adjustment-reject",
    ),
    path(
        "withdrawals/<str:withdrawal_id>/approve",
        views.ApproveWithdrawalApi.as_view(),
        name="backoffice-withdrawal-approve",
    ),
    path(
        "withdrawals/<str:withdrawal_id>/reject",
        views.RejectWithdrawalApi.as_view(),
        name="backoffice-withdrawal-reject",
    ),
]
