"""The odds feed's endpoint, the player's events and the player's bets (contracts/sportsbook.md).

Thin: check, parse, call one service or selector, shape. The feed endpoint has no DRF
authentication or parsing: the feed's signature over the raw body is checked before anything is
parsed. Prices are public: the events need no login. Bets are the player's, authenticated as
every player endpoint (session or Bearer), with the cashier's Idempotency-Key rules.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common.errors import InvalidRequest
from apps.common.fields import StrictIntegerField
from apps.common.money import MAX_AMOUNT
from apps.common.request_params import CURSOR_PATTERN, IDEMPOTENCY_KEY, KEY_PATTERN, cursor, idempotency_key
from apps.common.schema import CurrencyCodeField, refusals
from apps.sportsbook import intake, odds, selectors, services
from apps.sportsbook.api import schema as api_schema
from apps.sportsbook.choices import BetStatus, PriceChanges
from apps.sportsbook.feed import parse_batch
from apps.sportsbook.signature import read_signed_body


@api_schema.documented_feed
class FeedMessagesApi(APIView):
    """No session, no DRF authentication or parsing: the signature over the raw body is the auth."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = api_schema.SignedFeedSchema()

    def post(self, request):
        feed, body = read_signed_body(request._request)
        result = services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(body))
        return Response({"applied": result.applied, "skipped": result.skipped})


class SelectionSerializer(serializers.Serializer):
    selection_id = serializers.CharField()
    name = serializers.CharField()
    price = api_schema.PriceField()


class MarketSerializer(serializers.Serializer):
    market_id = serializers.CharField()
    name = serializers.CharField()
    status = api_schema.MarketStatusField()
    version = serializers.IntegerField(min_value=1, help_text="+1 with each change of its prices or status")
    selections = SelectionSerializer(many=True)


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    name = serializers.CharField()
    sport = serializers.CharField()
    starts_at = serializers.DateTimeField()
    status = api_schema.EventStatusField()
    markets = MarketSerializer(many=True)


class EventsApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        events = EventSerializer(many=True)

    @extend_schema(
        operation_id="player_sportsbook_events",
        tags=["sportsbook"],
        auth=[],
        description="The events on sale, soonest first, with their markets and prices. No login needed.",
        parameters=[
            OpenApiParameter(
                "status", str, OpenApiParameter.QUERY, required=False, enum=api_schema.LISTED_STATUSES,
                description="only the events in play (`live`) or not yet started (`upcoming`); both when left out",
            )
        ],
        responses={200: OutputSerializer, **refusals({400: "INVALID_REQUEST (an unknown status)"})},
    )  # fmt: skip
    def get(self, request):
        status = request.query_params.get("status")
        if status is not None and status not in api_schema.LISTED_STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(api_schema.LISTED_STATUSES)}.")
        statuses = [status] if status is not None else api_schema.LISTED_STATUSES
        return Response(self.OutputSerializer({"events": selectors.list_events(statuses=statuses)}).data)


# --- the player's bets -----------------------------------------------------------------------------

_AUTHENTICATED = {401: "NOT_AUTHENTICATED", 403: "NOT_A_PLAYER (a staff user)"}


# Decimal odds above 1 and at most 99999.99, at most two decimals, no leading zero: what the
# schema says is exactly what the field takes.
_SLIP_PRICE = r"^(?:(?:[2-9]|[1-9][0-9]{1,4})(?:\.[0-9]{1,2})?|1\.(?:0[1-9]|[1-9][0-9]?))$"


@extend_schema_field(
    {"type": "string", "pattern": _SLIP_PRICE,
     "description": "decimal odds as the events list shows them: a string, at most two decimals, above 1"}
)  # fmt: skip
class SlipPriceField(serializers.Field):
    """A price as the events list shows it: a string, at most two decimals, never a number."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(_SLIP_PRICE, data):
            raise serializers.ValidationError("decimal odds as a string with at most two decimals, above 1")
        return odds.parse_decimal(data)

    def to_representation(self, value):
        return odds.decimal_string(value)


@extend_schema_field(api_schema.FEED_ID)
class FeedIdField(serializers.Field):
    """A feed's id, as the feed sent it (never stripped): 1 to 100 printable characters."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not 1 <= len(data) <= 100 or not data.isprintable():
            raise serializers.ValidationError("1 to 100 printable characters")
        return data

    def to_representation(self, value):
        return value


BetStatusField = api_schema.enum_field(
    "SportsbookBetStatus", BetStatus.values,
    "pending: waiting out an in-play delay; then accepted or rejected. An accepted bet is settled by its markets' "
    "results: won (its payout paid), lost, or void (every leg voided: the stake back); a later result may "
    "resettle it",
)  # fmt: skip
PriceChangesField = api_schema.enum_field(
    "SportsbookPriceChanges", PriceChanges.values, "none: only the prices seen; higher: a better price too; any: any"
)


class SportsbookLegInputSerializer(serializers.Serializer):
    selection_id = FeedIdField()
    price = SlipPriceField(help_text="the price the player saw, a string")
    market_version = StrictIntegerField(min_value=1, help_text="the market's version that price was seen at")


class SportsbookBetInputSerializer(serializers.Serializer):
    stake = StrictIntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="minor units")
    currency = CurrencyCodeField()
    legs = serializers.ListField(
        child=SportsbookLegInputSerializer(), min_length=1, max_length=intake.MAX_LEGS,
        help_text="one: a single; more: an accumulator, on different markets",
    )  # fmt: skip
    accept_price_changes = PriceChangesField(default=PriceChanges.NONE)


class SportsbookLegSerializer(serializers.Serializer):
    selection_id = serializers.CharField(source="selection.selection_id")
    market_id = serializers.CharField(source="market.market_id")
    event_id = serializers.CharField(source="event.event_id")
    price = api_schema.PriceField(help_text="the price taken")
    market_version = serializers.IntegerField(help_text="the market's version the player saw")


class SportsbookBetSerializer(serializers.Serializer):
    bet_id = serializers.CharField(source="public_id")
    status = BetStatusField()
    reason = serializers.SerializerMethodField(help_text="why it was rejected after its delay; null otherwise")
    stake = serializers.IntegerField(help_text="minor units")
    currency = serializers.CharField(source="currency_id")
    potential_payout = serializers.IntegerField(help_text="stake x the product of the prices, rounded down")
    payout = serializers.IntegerField(
        allow_null=True, help_text="minor units: what the settled bet pays (0 lost, the stake void); null until settled"
    )
    placed_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True, help_text="its last settlement; null until settled")
    legs = SportsbookLegSerializer(many=True)

    def get_reason(self, bet) -> str | None:
        return bet.reject_reason or None


class SportsbookBetListSerializer(serializers.Serializer):
    results = SportsbookBetSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="null on the last page")


def _first_answer(bet) -> dict:
    """A placement's answer: as the bet was when taken (a replay gets the same, whatever the bet
    became since: decided after its delay, settled)."""
    body = SportsbookBetSerializer(bet).data
    taken = BetStatus.PENDING if bet.release_at is not None else BetStatus.ACCEPTED
    return {**body, "status": taken, "reason": None, "payout": None, "settled_at": None}


class BetsApi(APIView):
    @extend_schema(
        operation_id="player_sportsbook_bets_list",
        tags=["sportsbook"],
        description="The player's bets, newest first, with their legs; money in minor units.",
        parameters=[
            OpenApiParameter(
                "cursor", str, OpenApiParameter.QUERY, required=False, pattern=CURSOR_PATTERN,
                description="the previous page's `next_cursor`",
            )
        ],
        responses={200: SportsbookBetListSerializer, **refusals({400: "INVALID_REQUEST (cursor)", **_AUTHENTICATED})},
    )  # fmt: skip
    def get(self, request):
        player = accounts.get_player_for_user(request.user)
        rows, next_cursor = selectors.list_player_bets(player, cursor(request))
        return Response(
            {"results": SportsbookBetSerializer(rows, many=True).data,
             "next_cursor": None if next_cursor is None else str(next_cursor)}
        )  # fmt: skip

    @extend_schema(
        operation_id="player_sportsbook_bets_place",
        tags=["sportsbook"],
        description="Place a single (one leg) or an accumulator (legs on different markets). `accepted`, or "
        "`pending` while an in-play delay runs (the stake is taken at once; after the delay the bet is accepted, "
        "or rejected with its reason and the stake comes back). A refusal moves no money.",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY, str, OpenApiParameter.HEADER, required=True,
                description="1 to 100 printable ASCII characters, scoped to the player: the same key and body give "
                "the first answer again; the same key with another body is 409 DUPLICATE_TRANSACTION",
                pattern=KEY_PATTERN,
            )
        ],
        request=SportsbookBetInputSerializer,
        responses={
            201: SportsbookBetSerializer,
            **refusals({
                400: "INVALID_REQUEST",
                404: "UNKNOWN_SELECTION (no market, or more than one, has the selection id: `error.selection_id`)",
                422: "INVALID_SLIP (legs on one market, a market version not reached yet)",
                415: "UNSUPPORTED_MEDIA_TYPE", 401: "NOT_AUTHENTICATED",
                402: "INSUFFICIENT_FUNDS",
                403: "STAKE_TOO_HIGH (`error.max_stake`), PLAYER_BLOCKED, LIMIT_REACHED, NOT_A_PLAYER",
                409: "MARKET_SUSPENDED, PRICE_CHANGED (`error.price`), MARKET_SETTLED, CURRENCY_MISMATCH, "
                "DUPLICATE_TRANSACTION (the key with another body)",
            }),
        },
    )  # fmt: skip
    def post(self, request):
        player = accounts.get_player_for_user(request.user)
        key = idempotency_key(request)
        data = SportsbookBetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        legs = [intake.LegRequest(leg["selection_id"], leg["price"], leg["market_version"]) for leg in fields["legs"]]
        placed = services.place_bet(
            player=player, idempotency_key=key, stake=fields["stake"], currency=fields["currency"], legs=legs,
            accept_price_changes=fields["accept_price_changes"],
        )  # fmt: skip
        # A new bet comes with its legs as written (intake.py); a replay is read back whole.
        bet = placed.bet if not placed.replayed else selectors.get_player_bet(player, placed.bet.public_id)
        return Response(_first_answer(bet), status=status.HTTP_201_CREATED)


class BetApi(APIView):
    @extend_schema(
        operation_id="player_sportsbook_bet",
        tags=["sportsbook"],
        description="One of the player's bets as it is now: a pending bet whose delay has run out is decided "
        "first, so the answer shows the outcome.",
        responses={200: SportsbookBetSerializer, **refusals({**_AUTHENTICATED, 404: "NOT_FOUND"})},
    )
    def get(self, request, bet_id: str):
        player = accounts.get_player_for_user(request.user)
        bet = selectors.get_player_bet(player, bet_id)
        if bet.status == BetStatus.PENDING:
            services.release_pending_bet(bet_id=bet.pk)
            bet = selectors.get_player_bet(player, bet_id)
        return Response(SportsbookBetSerializer(bet).data)
