from django.urls import path

from apps.games.api import views

# Under /api/player/v1/.
urlpatterns = [
    path("games", views.LobbyApi.as_view(), name="player-games"),
    path("games/<int:game_id>/launch", views.LaunchApi.as_view(), name="player-games-launch"),
]
