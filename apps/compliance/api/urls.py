from django.urls import path

from apps.compliance.api import views

urlpatterns = [
    path("limits", views.LimitsApi.as_view(), name="player-limits"),
    path("limits/confirm", views.ConfirmLimitApi.as_view(), name="player-limits-confirm"),
    path("time-out", views.TimeOutApi.as_view(), name="player-time-out"),
    path("self-exclusion", views.SelfExclusionApi.as_view(), name="player-self-exclusion"),
    path("self-exclusion/return", views.ReturnApi.as_view(), name="player-return"),
    path("reality-check", views.RealityCheckApi.as_view(), name="player-reality-check"),
    path("reality-check/ack", views.RealityCheckAckApi.as_view(), name="player-reality-check-ack"),
]
