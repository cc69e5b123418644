from django.urls import path

from apps.sportsbook.api import views

# Under /api/player/v1/.
player_urlpatterns = [
    path("sportsbook/events", views.EventsApi.as_view(), name="player-sportsbook-events"),
    path("sportsbook/bets", views.bets_endpoint(), name="player-sportsbook-bets"),
    path("sportsbook/bets/<str:bet_id>", views.BetApi.as_view(), name="player-sportsbook-bet"),
]

# Under /api/feed/v1/: exactly this path, no trailing slash (contracts/sportsbook.md).
feed_urlpatterns = [
    path("messages", views.FeedMessagesApi.as_view(), name="feed-messages"),
]
