"""The studio's WebSocket routes (combined with realtime's in pam/asgi.py: the studio imports no
other app)."""

from django.urls import path

from apps.studio import consumers

websocket_urlpatterns = [
    path("ws/studio/crash/", consumers.CrashConsumer.as_asgi()),
]
