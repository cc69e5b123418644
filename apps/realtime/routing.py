from django.urls import path

from apps.realtime import consumers, odds

websocket_urlpatterns = [
    path("ws/player/", consumers.PlayerConsumer.as_asgi()),
    path("ws/backoffice/", consumers.BackofficeFeedConsumer.as_asgi()),
]

# The odds socket needs no login: pam/asgi.py routes it past the session and ticket look-ups.
odds_websocket_urlpatterns = [
    path("ws/odds/", odds.OddsConsumer.as_asgi()),
]
