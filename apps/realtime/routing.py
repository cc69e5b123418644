from django.urls import path

from apps.realtime import consumers

websocket_urlpatterns = [
    path("ws/player/", consumers.PlayerConsumer.as_asgi()),
    path("ws/backoffice/", consumers.BackofficeFeedConsumer.as_asgi()),
]
