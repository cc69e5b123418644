from django.urls import path

from apps.bonuses.api import views

# Under /api/player/v1/.
urlpatterns = [
    path("bonuses", views.BonusesApi.as_view(), name="player-bonuses"),
    path("bonuses/campaigns", views.CampaignsApi.as_view(), name="player-bonuses-campaigns"),
    path("bonuses/opt-in", views.OptInApi.as_view(), name="player-bonuses-opt-in"),
]
