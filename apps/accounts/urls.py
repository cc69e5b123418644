"""The site's account pages, at the site's root (pam/urls.py includes them at `/`)."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("login/", views.SiteLoginView.as_view(), name="site-login"),
    path("logout/", views.SiteLogoutView.as_view(), name="site-logout"),
    path("register/", views.register_view, name="site-register"),
    path("account/", views.account_view, name="site-account"),
]
