from django.urls import path

from apps.payments.api import views

# Under /api/player/v1/.
player_urlpatterns = [
    path("deposits", views.DepositsApi.as_view(), name="player-deposits"),
    path("deposits/<str:deposit_id>", views.DepositApi.as_view(), name="player-deposit"),
    path("withdrawals", views.WithdrawalsApi.as_view(), name="player-withdrawals"),
    path("withdrawals/<str:withdrawal_id>", views.WithdrawalApi.as_view(), name="player-withdrawal"),
    path(
        "withdrawals/<str:withdrawal_id>/cancel", views.CancelWithdrawalApi.as_view(), name="player-withdrawal-cancel"
    ),
]

# Under /api/payments/v1/.
webhook_urlpatterns = [
    path("webhooks/<str:provider>", views.WebhookApi.as_view(), name="payments-webhook"),
]
