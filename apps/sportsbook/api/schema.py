"""The OpenAPI description of the feed endpoint and the player's events: exactly what
`feed.parse_batch` accepts and what the views answer (contracts/sportsbook.md). Documentation
only for the feed: its view parses the raw body by hand, never through these declarations."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from apps.common.schema import (
    ErrorDetailSerializer,
    SignedRequestSchema,
    component,
    enum_field,
    printable_pattern,
    refusals,
)
from apps.sportsbook import odds
from apps.sportsbook.choices import LISTED_EVENT_STATUSES, MarketStatus, MessageType
from apps.sportsbook.feed import MAX_SELECTIONS, MAX_SEQ
from apps.sportsbook.models import MAX_IN_PLAY_DELAY_S
from apps.sportsbook.signature import MAX_BODY_BYTES


class SignedFeedSchema(SignedRequestSchema):
    """The feed's code names the secret; the signature proves the sender holds it."""

    security_schemes = {
        "feedCode": {"type": "apiKey", "in": "header", "name": "X-Feed", "description": "the feed's code"},
        "feedSignature": {
            "type": "apiKey", "in": "header", "name": "X-Signature",
            "description": "lowercase hex HMAC-SHA256, keyed with the feed's secret, of the raw request body",
        },
    }  # fmt: skip


def _text(max_length: int, description: str) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_length,
            "pattern": printable_pattern(1, max_length), "description": description}  # fmt: skip


_ID = component("FeedId", _text(100, "1 to 100 printable characters: the feed's own id, unique in the feed"))
# A feed's id as a player's slip names it.
FEED_ID = _ID
_NAME = component("FeedName", _text(200, "1 to 200 printable characters: a name as players read it"))
_SPORT = component("FeedSport", _text(50, "1 to 50 printable characters"))
_PRICE_PATTERN = r"^[0-9]{1,5}(\.[0-9]{1,2})?$"
_PRICE = {
    "type": "string",
    "pattern": _PRICE_PATTERN,
    "description": f"decimal odds, at most two decimals, above 1, at most {odds.MAX_PRICE}: a string, never a number",
}


def _message(kind: str, description: str, fields: dict, required: list[str], **extra) -> dict:
    """A feed message's schema as a component named after its type."""
    schema = {
        "type": "object",
        "description": description,
        "properties": {
            "seq": {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_SEQ,
                    "description": "per feed, strictly increasing; at or below the highest applied: skipped"},
            # A pattern, not a one-value enum: drf-spectacular would turn each into a component.
            "type": {"type": "string", "pattern": f"^{kind}$"},
            **fields,
        },
        "required": ["seq", "type", *required],
        "additionalProperties": False,
        **extra,
    }  # fmt: skip
    return component(f"Feed{kind.title()}Message", schema)


_SELECTION = component(
    "FeedSelectionPrice",
    {
        "type": "object",
        "properties": {"selection_id": _ID, "name": _NAME, "price": _PRICE},
        "required": ["selection_id", "name", "price"],
        "additionalProperties": False,
    },
)
_SELECTION_IDS = {"type": "array", "items": _ID, "uniqueItems": True}
_SCOPE = {"market_id": _ID, "event_id": _ID}
_ONE_SCOPE = {"oneOf": [{"required": ["market_id"]}, {"required": ["event_id"]}]}

MESSAGES = {
    MessageType.EVENT: _message(
        "event", "creates or updates an event",
        {"event_id": _ID, "name": _NAME, "sport": _SPORT,
         "starts_at": {"type": "string", "format": "date-time", "description": "ISO 8601 with its UTC offset"},
         "in_play_delay_s": {"type": "integer", "minimum": 0, "maximum": MAX_IN_PLAY_DELAY_S}},
        ["event_id", "name", "sport", "starts_at", "in_play_delay_s"],
    ),
    MessageType.MARKET: _message(
        "market", "opens a market or replaces its prices (a suspended market stays suspended until `resume`)",
        {"event_id": _ID, "market_id": _ID, "name": _NAME,
         "selections": {"type": "array", "items": _SELECTION, "minItems": 1, "maxItems": MAX_SELECTIONS}},
        ["event_id", "market_id", "name", "selections"],
    ),
    MessageType.SUSPEND: _message("suspend", "suspends the market, or every market of the event", _SCOPE, [],
                                  **_ONE_SCOPE),
    MessageType.RESUME: _message("resume", "resumes the market, or every market of the event", _SCOPE, [],
                                 **_ONE_SCOPE),
    MessageType.LIVE: _message("live", "the event is in play", {"event_id": _ID}, ["event_id"]),
    MessageType.RESULT: _message(
        "result", "settles the market (a later one with another outcome resettles it)",
        {"market_id": _ID, "winners": _SELECTION_IDS, "void": _SELECTION_IDS}, ["market_id", "winners", "void"],
    ),
    MessageType.HEARTBEAT: _message("heartbeat", "the feed is alive", {}, []),
}  # fmt: skip

_FEED_MESSAGE = component(
    "FeedMessage",
    {
        "oneOf": list(MESSAGES.values()),
        "discriminator": {
            "propertyName": "type",
            "mapping": {kind.value: reference["$ref"] for kind, reference in MESSAGES.items()},
        },
    },
)


@extend_schema_field({"type": "array", "items": _FEED_MESSAGE, "description": "applied in order"})
class FeedMessagesField(serializers.Field):
    pass


class FeedBatch(serializers.Serializer):
    messages = FeedMessagesField()


class FeedBatchAnswer(serializers.Serializer):
    applied = serializers.IntegerField(min_value=0)
    skipped = serializers.IntegerField(min_value=0, help_text="resends: `seq` at or below the highest applied")


class FeedErrorDetail(ErrorDetailSerializer):
    index = serializers.IntegerField(required=False, min_value=0, help_text="the refused message's place, from 0")
    fields = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="INVALID_REQUEST: what is wrong with the message"
    )


class FeedError(serializers.Serializer):
    error = FeedErrorDetail()


documented_feed = extend_schema_view(
    post=extend_schema(
        operation_id="feed_messages",
        tags=["sportsbook"],
        description="A batch of an odds feed's messages, applied in order in one transaction: all of it, or "
        "nothing when a message is refused.",
        request=FeedBatch,
        responses={
            200: FeedBatchAnswer,
            **refusals(
                {
                    400: "INVALID_REQUEST (not JSON, or a message that is not valid: `error.index`), UNKNOWN_EVENT, "
                    "UNKNOWN_MARKET, UNKNOWN_SELECTION (a message names what the feed has not sent)",
                    401: "INVALID_SIGNATURE (missing or wrong signature, unknown feed)",
                    413: f"INVALID_REQUEST (body over {MAX_BODY_BYTES} bytes, never parsed)",
                },
                FeedError,
            ),
        },
    )
)


# --- the player's events ------------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "pattern": r"^[0-9]{1,5}\.[0-9]{2}$", "description": "decimal odds, two decimals"}
)
class PriceField(serializers.Field):
    def to_representation(self, value):
        return odds.decimal_string(value)


LISTED_STATUSES = [status.value for status in LISTED_EVENT_STATUSES]
EventStatusField = enum_field("SportsbookEventStatus", LISTED_STATUSES, "live: in play")
MarketStatusField = enum_field("MarketStatus", MarketStatus.values, "bets are taken on open markets only")
