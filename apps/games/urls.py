"""The site's lobby and game pages, at the site's root (pam/urls.py includes it at `/`)."""

from django.urls import path

from apps.games import views

urlpatterns = [
    path("games/", views.lobby_page, name="site-games"),
    path("games/<int:game_id>/play/", views.play_page, name="site-game-play"),
]
