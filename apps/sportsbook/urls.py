"""The site's sportsbook page, at the site's root (pam/urls.py includes it at `/`)."""

from django.urls import path

from apps.sportsbook import views

urlpatterns = [
    path("sportsbook/", views.sportsbook_page, name="site-sportsbook"),
]
