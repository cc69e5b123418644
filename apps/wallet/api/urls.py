from django.urls import path

from apps.wallet.api import views

# Exactly these paths: no trailing slash, no redirect (contract: Transport).
urlpatterns = [
    path("authenticate", views.endpoint(views.AuthenticateApi), name="wallet-authenticate"),
    path("balance", views.endpoint(views.BalanceApi), name="wallet-balance"),
    path("bet", views.endpoint(views.BetApi), name="wallet-bet"),
    path("win", views.endpoint(views.WinApi), name="wallet-win"),
    path("rollback", views.endpoint(views.RollbackApi), name="wallet-rollback"),
]
