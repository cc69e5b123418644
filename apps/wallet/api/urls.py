from django.urls import path

from apps.wallet.api import views

# Exactly these paths: no trailing slash, no redirect (contract: Transport).
urlpatterns = [
    path("authenticate", views.AuthenticateApi.as_view(), name="wallet-authenticate"),
    path("balance", views.BalanceApi.as_view(), name="wallet-balance"),
    path("bet", views.BetApi.as_view(), name="wallet-bet"),
    path("win", views.WinApi.as_view(), name="wallet-win"),
    path("rollback", views.RollbackApi.as_view(), name="wallet-rollback"),
]
