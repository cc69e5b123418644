"""The player's lobby and game launch (under /api/player/v1/, docs/games.md).

Thin: call one selector or service, shape. Authenticated as every player endpoint (session or
Bearer); refusals are the games app's and compliance's errors, mapped in apps.common.errors.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common.schema import component, refusals
from apps.games import selectors, services
from apps.games.choices import GameType

_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}


@extend_schema_field(
    component("GameType", {"type": "string", "enum": GameType.values, "description": "what the game is"})
)
class GameTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=GameType.values, **kwargs)


class LobbyGameSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="the game's id, for `games/{game_id}/launch`")
    code = serializers.CharField(help_text="the provider's code for the game")
    name = serializers.CharField()
    provider = serializers.CharField(source="provider.code", help_text="the provider's code")
    game_type = GameTypeField()
    launchable = serializers.SerializerMethodField(help_text="false: listed, but PAM cannot open it")

    def get_launchable(self, game) -> bool:
        return selectors.is_launchable(game)


class LobbySerializer(serializers.Serializer):
    results = LobbyGameSerializer(many=True)


class LaunchSerializer(serializers.Serializer):
    url = serializers.CharField(
        help_text="where to open the game, once, within 10 minutes: relative (same origin) for PAM's own games"
    )


class LobbyApi(APIView):
    @extend_schema(
        operation_id="player_games_list",
        description="The games of the lobby, by name: every enabled game of an enabled provider.",
        responses={200: LobbySerializer, **refusals(_AUTHENTICATED)},
    )
    def get(self, request):
        accounts.get_player_for_user(request.user)
        return Response(LobbySerializer({"results": selectors.list_lobby_games()}).data)


class LaunchApi(APIView):
    @extend_schema(
        operation_id="player_games_launch",
        description="Open a game: its URL, which carries a one-time launch token and the player's jurisdiction "
        "rules for play, signed with the provider's secret. Refused as the wallet would refuse a bet.",
        parameters=[OpenApiParameter("game_id", int, OpenApiParameter.PATH, description="the game's `id`")],
        request=None,
        responses={
            200: LaunchSerializer,
            **refusals({
                **_AUTHENTICATED,
                403: "NOT_A_PLAYER (a staff user), PLAYER_BLOCKED (locked, frozen, excluded, on a time-out, "
                "KYC needed), LIMIT_REACHED (`reason`: responsible_gambling_limit, or reality_check until the "
                "reality check is acknowledged)",
                404: "UNKNOWN_GAME",
                409: "GAME_UNAVAILABLE (the game or its provider disabled, or not launchable from PAM)",
            }),
        },
    )  # fmt: skip
    def post(self, request, game_id: int):
        player = accounts.get_player_for_user(request.user)
        url = services.launch(player=player, game=selectors.get_game(game_id))
        return Response(LaunchSerializer({"url": url}).data)
