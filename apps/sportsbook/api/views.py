"""The odds feed's endpoint, the player's events and the player's bets (contracts/sportsbook.md).

Thin: check, parse, call one service or selector, shape. The feed endpoint has no DRF
authentication or parsing: the feed's signature over the raw body is checked before anything is
parsed. Prices are public: the events need no login. Bets are the player's, authenticated as
every player endpoint (session or Bearer), with the cashier's Idempotency-Key rules.

A bet's placement (POST on the bets' URL) is served by `bets_endpoint`, a plain Django view.
The common request (a Bearer token, a JSON body the slip takes as it is, nothing to negotiate:
`_plain_placement`) is served without DRF's request at all: the token's player (id and currency)
read in the same statement as the slip's legs, the body by `json.loads`, the answer and any
refusal made as the DRF steps make them. Any other request goes through the DRF class's own steps (its
authentication, permissions, parsing and exception handling), which word every refusal of the
request itself; they too skip the input serializer's field machinery for a plainly valid body
(`_slip_fields`; any other body is the serializer's to refuse, in its words), the output
serializer for the new bet, and the renderer. The class stays what drf-spectacular documents.
"""

from __future__ import annotations

import functools
import json
import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors as accounts
from apps.common.errors import InvalidRequest, api_exception_handler
from apps.common.fields import StrictIntegerField
from apps.common.money import MAX_AMOUNT
from apps.common.request_params import CURSOR_PATTERN, IDEMPOTENCY_KEY, KEY_PATTERN, cursor, idempotency_key
from apps.common.responses import json_response
from apps.common.schema import CURRENCY_CODES, CurrencyCodeField, refusals
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
        return Response(self.place(request), status=status.HTTP_201_CREATED)

    def place(self, request) -> dict:
        """The placement's answer (201) to the authenticated `request`; raises a refusal."""
        # The player the authentication read with its user (a Bearer token's look-up: no query).
        player = accounts.get_player_of_user(request.user)
        key = idempotency_key(request)
        fields = _slip_fields(request.data)
        if fields is None:
            data = SportsbookBetInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            fields["legs"] = [intake.LegRequest(leg["selection_id"], leg["price"], leg["market_version"])
                              for leg in fields["legs"]]  # fmt: skip
        return _placement_answer(player, key, fields)


def _placement_answer(player, key: str, fields: dict, read: intake.SlipRead | None = None) -> dict:
    """Place the slip (`_slip_fields`' or the serializer's `fields`; `read`, the slip read with
    the player's token) and answer it: the new bet from the values written, a replay as the first
    answer."""
    placed = services.place_bet(player=player, idempotency_key=key, read=read, **fields)
    if placed.replayed:
        return _first_answer(selectors.get_player_bet(player, placed.bet.public_id))
    return _taken_answer(placed.bet)


_CURRENCIES = frozenset(CURRENCY_CODES)
_ACCEPTED_CHANGES = frozenset(PriceChanges.values)
_PRICE = re.compile(_SLIP_PRICE)


def _slip_fields(data) -> dict | None:
    """The placement's arguments from a body that SportsbookBetInputSerializer takes as it is (each
    field of the type and range it requires, nothing to coerce), or None for any other body: the
    serializer then refuses it (or takes it) in its own words."""
    if type(data) is not dict:
        return None
    stake, currency, legs = data.get("stake"), data.get("currency"), data.get("legs")
    accept = data.get("accept_price_changes", PriceChanges.NONE)
    if (
        type(stake) is not int
        or not 1 <= stake <= MAX_AMOUNT
        or type(currency) is not str
        or currency not in _CURRENCIES
        or not isinstance(accept, str)  # the default is PriceChanges.NONE, a str
        or accept not in _ACCEPTED_CHANGES
        or type(legs) is not list
        or not 1 <= len(legs) <= intake.MAX_LEGS
    ):
        return None
    requests = []
    for leg in legs:
        if type(leg) is not dict:
            return None
        selection_id, price, version = leg.get("selection_id"), leg.get("price"), leg.get("market_version")
        if (
            type(selection_id) is not str
            or not 1 <= len(selection_id) <= 100
            or not selection_id.isprintable()
            or type(price) is not str
            or not _PRICE.fullmatch(price)
            or type(version) is not int
            or version < 1
        ):
            return None
        requests.append(intake.LegRequest(selection_id, odds.parse_decimal(price), version))
    return {"stake": stake, "currency": currency, "legs": requests, "accept_price_changes": accept}


_DATETIME = serializers.DateTimeField()


def _taken_answer(bet: intake.TakenBet) -> dict:
    """A new bet's answer, from the values written: what `_first_answer` makes of the bet read back."""
    return {
        "bet_id": bet.public_id, "status": bet.status, "reason": None, "stake": bet.stake,
        "currency": bet.currency_id, "potential_payout": bet.potential_payout, "payout": None,
        "placed_at": _DATETIME.to_representation(bet.placed_at), "settled_at": None,
        "legs": [{"selection_id": leg.selection_id, "market_id": leg.market_id, "event_id": leg.event_id,
                  "price": odds.decimal_string(leg.price), "market_version": leg.market_version} for leg in bet.legs],
    }  # fmt: skip


# What `_plain_placement` takes: an Accept header the JSON renderer answers as it is (DRF's
# negotiation would pick it), and the body's charset as DRF's JSON parser reads it.
_PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})
_PLAIN_CHARSETS = frozenset({"utf-8", "utf8"})
# A slip of the most legs is a few KiB: a longer body, or one of no stated length, is the DRF
# steps', with Django's own limit on what a request may send.
_PLAIN_MAX_BODY = 16_384


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # DRF's parser refuses NaN and Infinity (STRICT_JSON)


def _plain_placement(request: HttpRequest) -> HttpResponse | None:
    """The placement of a request the DRF steps would authenticate by its Bearer token and parse
    without a word (no query string, an Accept the JSON renderer answers, a UTF-8 JSON body of a
    stated length within `_PLAIN_MAX_BODY` that `_slip_fields` takes, a live token of a player),
    served without them and answered as they answer; None for any other request, which they then
    take whole, so that every refusal of the request itself (401, 403, 406, 415, a body's or an
    Idempotency-Key's 400) is theirs, in their words."""
    meta = request.META
    header = meta.get("HTTP_AUTHORIZATION", "")
    if (
        not header.startswith("Bearer ")
        or not header.isascii()
        or meta.get("QUERY_STRING")
        or meta.get("HTTP_ACCEPT", "") not in _PLAIN_ACCEPTS
        or request.content_type != "application/json"
        or request.content_params.get("charset", "utf-8").lower() not in _PLAIN_CHARSETS
    ):
        return None
    credentials = header.split()
    length = meta.get("CONTENT_LENGTH", "")
    if len(credentials) != 2 or not length.isdigit() or int(length) > _PLAIN_MAX_BODY:
        return None
    try:
        fields = _slip_fields(json.loads(request.body.decode(), parse_constant=_no_constant))
    except ValueError:  # not UTF-8, not JSON
        return None
    if fields is None:
        return None
    try:
        key = idempotency_key(request)
    except InvalidRequest:  # the DRF steps' to answer: a token they refuse comes first (401)
        return None
    try:
        # The token's player and the slip's legs in one statement: None when the token is not a
        # live player's (the DRF steps answer it), having read no leg.
        found = intake.read_slip_of_token(credentials[1], fields["legs"])
        if found is None:
            return None
        player, read = found
        body, code = _placement_answer(player, key, fields, read=read), 201
    except Exception as exc:  # answered as DRF's handle_exception answers every exception
        answer = api_exception_handler(exc, {"view": BetsApi()})
        body, code = answer.data, answer.status_code
    response = json_response(body, code)
    for name, value in _bets_headers().items():
        response[name] = value
    return response


@functools.cache
def _bets_headers() -> dict[str, str]:
    """The headers DRF adds to every answer of BetsApi (`Allow`), set up as for a request (which
    adds HEAD beside GET)."""
    api = BetsApi()
    api.setup(HttpRequest())
    return dict(api.default_response_headers)


def bets_endpoint():
    """The bets' URL: GET is BetsApi's DRF view; POST is `_plain_placement`'s when it takes the
    request, else served here by BetsApi's own steps (DRF's
    `initial`: content negotiation, authentication, permissions, throttles; `place`; every refusal
    and unexpected error through `handle_exception`, hence `api_exception_handler`), answered
    without DRF's response rendering. Carries `cls` and `initkwargs` as DRF's `as_view` does, so
    the schema generator documents both methods from the class."""
    listing = BetsApi.as_view()

    @csrf_exempt  # as every DRF view: SessionAuthentication enforces CSRF for a session's request
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return listing(request, *args, **kwargs)
        plain = _plain_placement(request)
        if plain is not None:
            return plain
        api = BetsApi()
        api.setup(request, *args, **kwargs)
        api.request = drf_request = api.initialize_request(request, *args, **kwargs)
        api.headers = api.default_response_headers
        headers = {}
        try:
            api.initial(drf_request, *args, **kwargs)
            body, code = api.place(drf_request), 201
        except Exception as exc:
            answer = api.handle_exception(exc)
            body, code = answer.data, answer.status_code
            headers = {name: value for name, value in answer.items() if name.lower() != "content-type"}
        response = json_response(body, code)
        for name, value in {**api.headers, **headers}.items():
            response[name] = value
        return response

    view.cls, view.initkwargs = BetsApi, {}
    return view


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
