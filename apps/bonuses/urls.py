"""The site's bonuses page, at the site's root (pam/urls.py includes it at `/`)."""

from django.urls import path

from apps.bonuses import views

urlpatterns = [
    path("bonuses/", views.bonuses_page, name="site-bonuses"),
]
