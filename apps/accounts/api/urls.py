from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="player-register"),
    path("auth/login", views.LoginApi.as_view(), name="player-login"),
    path("auth/logout", views.LogoutApi.as_view(), name="player-logout"),
    path("me", views.MeApi.as_view(), name="player-me"),
]
