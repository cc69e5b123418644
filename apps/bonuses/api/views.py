"""The player's bonuses and opt-in (under /api/player/v1/).

Thin: parse, call one service or selector, shape. Authenticated as every player endpoint
(session or Bearer); refusals are the bonuses app's errors, mapped in apps.common.errors.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.bonuses import selectors, services
from apps.bonuses.choices import BonusStatus
from apps.common.errors import InvalidRequest
from apps.common.schema import component, refusals

CURSOR_PATTERN = "^[1-9][0-9]{0,17}$"
_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}


@extend_schema_field(
    component("BonusStatus", {"type": "string", "enum": BonusStatus.values, "description": "the bonus's status"})
)
class BonusStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=BonusStatus.values, **kwargs)


class BonusSerializer(serializers.Serializer):
    bonus_id = serializers.CharField(source="public_id")
    campaign = serializers.CharField(source="campaign.code", help_text="the campaign's code")
    status = BonusStatusField()
    amount = serializers.IntegerField(help_text="minor units granted")
    remaining = serializers.IntegerField(help_text="minor units of the bonus still held")
    wagering_required = serializers.IntegerField(help_text="minor units to stake before it converts")
    wagering_done = serializers.IntegerField(help_text="minor units staked so far, weighted by game")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: it does not expire")


class BonusListSerializer(serializers.Serializer):
    results = BonusSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="null on the last page")


class OptInInputSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[-A-Za-z0-9_]{1,40}$", help_text="the campaign's opt-in code, in any case")


class OptInSerializer(serializers.Serializer):
    campaign = serializers.CharField(source="campaign.code", help_text="the campaign's code")
    created_at = serializers.DateTimeField(help_text="when the player opted in")


def _cursor(request) -> int | None:
    raw = request.query_params.get("cursor")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < len(raw) <= 18 or raw.startswith("0"):
        raise InvalidRequest("`cursor` is not one of ours.")
    return int(raw)


class BonusesApi(APIView):
    @extend_schema(
        operation_id="player_bonuses_list",
        description="The player's bonuses, newest first, money in minor units.",
        parameters=[
            OpenApiParameter(
                "cursor", str, OpenApiParameter.QUERY, required=False, pattern=CURSOR_PATTERN,
                description="the previous page's `next_cursor`",
            )
        ],
        responses={200: BonusListSerializer, **refusals({400: "INVALID_REQUEST (cursor)", **_AUTHENTICATED})},
    )  # fmt: skip
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        rows, next_cursor = selectors.list_bonuses(player, _cursor(request))
        return Response(
            {
                "results": BonusSerializer(rows, many=True).data,
                "next_cursor": None if next_cursor is None else str(next_cursor),
            }
        )


class OptInApi(APIView):
    @extend_schema(
        operation_id="player_bonuses_opt_in",
        description="Join an opt-in campaign by its code. The bonus comes with the campaign's qualifying event "
        "(a deposit, for a deposit match). 201 the first time, 200 with the same opt-in after.",
        request=OptInInputSerializer,
        responses={
            200: OptInSerializer,
            201: OptInSerializer,
            **refusals({
                400: "INVALID_REQUEST", 415: "UNSUPPORTED_MEDIA_TYPE", **_AUTHENTICATED,
                404: "UNKNOWN_CAMPAIGN (none with this code takes opt-ins now)",
                422: "NOT_ELIGIBLE (brand, country, new players only, or no promotions for this player now)",
            }),
        },
    )  # fmt: skip
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        data = OptInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        joined, created = services.opt_in(player, data.validated_data["code"])
        return Response(OptInSerializer(joined).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
