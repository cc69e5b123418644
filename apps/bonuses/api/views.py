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
from apps.bonuses.choices import BonusStatus, CampaignKind, Trigger, WageringBase
from apps.common.request_params import cursor
from apps.common.schema import component, refusals

CURSOR_PATTERN = "^[1-9][0-9]{0,17}$"
_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}


@extend_schema_field(
    component("BonusStatus", {"type": "string", "enum": BonusStatus.values, "description": "the bonus's status"})
)
class BonusStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=BonusStatus.values, **kwargs)


def _choice_field(name: str, choices, description: str):
    """A choice field whose OpenAPI enum is the named component `name` (one per set of choices)."""

    @extend_schema_field(component(name, {"type": "string", "enum": choices.values, "description": description}))
    class Field(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices.values, **kwargs)

    Field.__name__ = f"{name}Field"
    return Field


CampaignKindField = _choice_field("BonusCampaignKind", CampaignKind, "what the campaign grants")
TriggerField = _choice_field("BonusTrigger", Trigger, "what grants the campaign's bonus")
WageringBaseField = _choice_field("BonusWageringBase", WageringBase, "what the wagering multiple multiplies")


class BonusSerializer(serializers.Serializer):
    bonus_id = serializers.CharField(source="public_id")
    campaign = serializers.CharField(source="campaign.code", help_text="the campaign's code")
    status = BonusStatusField()
    amount = serializers.IntegerField(help_text="minor units granted")
    remaining = serializers.IntegerField(help_text="minor units of the bonus still held")
    wagering_required = serializers.IntegerField(help_text="minor units to stake before it converts")
    wagering_done = serializers.IntegerField(help_text="minor units staked so far, weighted by game")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: it does not expire")
    forfeit_on_withdrawal = serializers.BooleanField(
        source="campaign.forfeit_on_withdrawal", help_text="a withdrawal while it is active forfeits it"
    )


class BonusListSerializer(serializers.Serializer):
    results = BonusSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="null on the last page")


class CampaignSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="the opt-in code when `requires_opt_in`")
    name = serializers.CharField()
    kind = CampaignKindField()
    trigger = TriggerField()
    currency = serializers.SerializerMethodField(
        help_text="the currency of its amounts: the player's wallet's (a campaign for every currency counts in it)"
    )
    match_percent = serializers.IntegerField(allow_null=True, help_text="deposit match: % of the deposit")
    cap = serializers.IntegerField(allow_null=True, help_text="deposit match: the largest bonus, minor units")
    amount = serializers.IntegerField(allow_null=True, help_text="fixed or free bet: minor units")
    min_deposit = serializers.IntegerField(allow_null=True, help_text="deposit triggers: minor units")
    wagering_multiple = serializers.IntegerField(help_text="times the wagering base; 0: no wagering")
    wagering_base = WageringBaseField()
    max_stake = serializers.IntegerField(allow_null=True, help_text="the largest stake while wagering, minor units")
    expires_after_days = serializers.IntegerField(allow_null=True, help_text="null: it does not expire")
    forfeit_on_withdrawal = serializers.BooleanField(help_text="a withdrawal while it is active forfeits it")
    requires_opt_in = serializers.BooleanField(help_text="join it first (POST bonuses/opt-in with its code)")

    def get_currency(self, campaign) -> str:
        return campaign.currency_id or self.context["currency"]


class CampaignListSerializer(serializers.Serializer):
    results = CampaignSerializer(many=True)


class OptInInputSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[-A-Za-z0-9_]{1,40}$", help_text="the campaign's opt-in code, in any case")


class OptInSerializer(serializers.Serializer):
    campaign = serializers.CharField(source="campaign.code", help_text="the campaign's code")
    created_at = serializers.DateTimeField(help_text="when the player opted in")


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
        rows, next_cursor = selectors.list_bonuses(player, cursor(request))
        return Response(
            {
                "results": BonusSerializer(rows, many=True).data,
                "next_cursor": None if next_cursor is None else str(next_cursor),
            }
        )


class CampaignsApi(APIView):
    @extend_schema(
        operation_id="player_bonuses_campaigns",
        description="The open campaigns this player may have now, by code (what the cashier offers beside a "
        "deposit); a one-per-player campaign the player already had is left out. Money in minor units.",
        responses={200: CampaignListSerializer, **refusals(_AUTHENTICATED)},
    )
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        offered = selectors.list_eligible_campaigns(player)
        context = {"currency": player.currency_id}
        return Response({"results": CampaignSerializer(offered, many=True, context=context).data})


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
                422: "NOT_ELIGIBLE (currency, brand, country, new players only, or no promotions for this player now)",
            }),
        },
    )  # fmt: skip
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        data = OptInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        joined, created = services.opt_in(player, data.validated_data["code"])
        return Response(OptInSerializer(joined).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
