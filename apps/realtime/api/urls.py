from django.urls import path

from apps.realtime.api import views

urlpatterns = [
    path("realtime/ticket", views.RealtimeTicketApi.as_view(), name="player-realtime-ticket"),
    path("wallet", views.WalletStateApi.as_view(), name="player-wallet"),
    path("wallet/events", views.WalletEventsApi.as_view(), name="player-wallet-events"),
]
