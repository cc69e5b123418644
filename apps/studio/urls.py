"""The studio's pages and its players' API, served under /studio/ (docs/studio.md)."""

from __future__ import annotations

from django.urls import path

from apps.studio import api, views

app_name = "studio"

urlpatterns = [
    path("play/<slug:game_code>/", views.play, name="play"),
    path("api/sessions/<str:key>/rounds", api.session_rounds, name="rounds"),
    path("crash/verify/", views.crash_verify_page, name="crash_verify"),
]
