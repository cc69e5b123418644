"""The feed's batches, parsed strictly into messages (contracts/sportsbook.md, "Feed").

Hand-written rather than DRF serializers, like the wallet API's parsing: the contract is stricter
than DRF's coercion (a price is a string with at most two decimals, never a number; `seq` an
integer, never `"7"` or `7.0`), and a batch of hundreds of messages is parsed per request. A
batch is parsed whole before anything is applied, so a malformed message anywhere refuses it
all, resends included. Unknown fields are refused too: a feed that sends what PAM would ignore
learns so at once rather than from a missing price.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from apps.sportsbook import odds
from apps.sportsbook.choices import MessageType
from apps.sportsbook.errors import InvalidMessage
from apps.sportsbook.models import MAX_IN_PLAY_DELAY_S

MAX_SEQ = 2**63 - 1  # the column is a bigint
MAX_SELECTIONS = 200


@dataclass(frozen=True)
class EventMessage:
    seq: int
    event_id: str
    name: str
    sport: str
    starts_at: dt.datetime
    in_play_delay_s: int


@dataclass(frozen=True)
class SelectionPrice:
    selection_id: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class MarketMessage:
    seq: int
    event_id: str
    market_id: str
    name: str
    selections: tuple[SelectionPrice, ...]


@dataclass(frozen=True)
class SuspendMessage:
    """`suspend`, or `resume` (`resume=True`), of one market or of every market of an event:
    exactly one of `market_id` and `event_id` is set."""

    seq: int
    market_id: str | None
    event_id: str | None
    resume: bool = False


@dataclass(frozen=True)
class LiveMessage:
    seq: int
    event_id: str


@dataclass(frozen=True)
class ResultMessage:
    seq: int
    market_id: str
    winners: tuple[str, ...]
    void: tuple[str, ...]


@dataclass(frozen=True)
class HeartbeatMessage:
    seq: int


Message = EventMessage | MarketMessage | SuspendMessage | LiveMessage | ResultMessage | HeartbeatMessage


# --- fields --------------------------------------------------------------------------------------


def _text(max_length: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= max_length or not value.isprintable():
            raise ValueError(f"must be a string of 1 to {max_length} printable characters")
        return value

    return check


_identifier = _text(100)
_name = _text(200)
_sport = _text(50)


def _seq(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SEQ:
        raise ValueError(f"must be an integer from 1 to {MAX_SEQ}")
    return value


def _delay(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_IN_PLAY_DELAY_S:
        raise ValueError(f"must be an integer from 0 to {MAX_IN_PLAY_DELAY_S} (seconds)")
    return value


def _moment(value: object) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be an ISO 8601 date and time with its UTC offset")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time with its UTC offset") from None
    if moment.tzinfo is None:
        raise ValueError("must carry its UTC offset (Z or +hh:mm)")
    return moment


def _price(value: object) -> Decimal:
    try:
        return odds.parse_decimal(value)
    except odds.InvalidPrice:
        raise ValueError(
            f"must be decimal odds as a string with at most two decimals, above 1 and at most {odds.MAX_PRICE}"
        ) from None


def _identifiers(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("must be a list of selection ids")
    ids = tuple(_identifier(item) for item in value)
    if len(set(ids)) != len(ids):
        raise ValueError("names a selection twice")
    return ids


def _selections(value: object) -> tuple[SelectionPrice, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SELECTIONS:
        raise ValueError(f"must be a list of 1 to {MAX_SELECTIONS} selections")
    parsed = []
    for position, item in enumerate(value):
        try:
            fields = _fields(item, SELECTION_FIELDS)
        except _Invalid as invalid:
            wrong = "; ".join(f"{name} {problem}" for name, problem in invalid.problems.items())
            raise ValueError(f"selection {position}: {wrong}") from None
        parsed.append(SelectionPrice(**fields))
    ids = [selection.selection_id for selection in parsed]
    if len(set(ids)) != len(ids):
        raise ValueError("names a selection twice")
    return tuple(parsed)


SELECTION_FIELDS = {"selection_id": _identifier, "name": _name, "price": _price}

# What each type carries besides `seq` and `type`; the optional fields (suspend's and resume's
# two scopes) are checked by `_scope`.
FIELDS: dict[str, dict[str, Callable[[object], object]]] = {
    MessageType.EVENT: {"event_id": _identifier, "name": _name, "sport": _sport, "starts_at": _moment,
                        "in_play_delay_s": _delay},
    MessageType.MARKET: {"event_id": _identifier, "market_id": _identifier, "name": _name,
                         "selections": _selections},
    MessageType.SUSPEND: {},
    MessageType.RESUME: {},
    MessageType.LIVE: {"event_id": _identifier},
    MessageType.RESULT: {"market_id": _identifier, "winners": _identifiers, "void": _identifiers},
    MessageType.HEARTBEAT: {},
}  # fmt: skip
_SCOPES = ("market_id", "event_id")


class _Invalid(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(str(problems))


def _fields(data: object, fields: dict[str, Callable[[object], object]], optional: tuple[str, ...] = ()) -> dict:
    """The fields of `data` checked; _Invalid naming every missing, invalid or unknown one."""
    if not isinstance(data, dict):
        raise _Invalid({"message": "must be a JSON object"})
    problems: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for name, check in fields.items():
        if name not in data:
            problems[name] = "is required"
            continue
        try:
            parsed[name] = check(data[name])
        except ValueError as error:
            problems[name] = str(error)
    for name in optional:
        if name in data:
            try:
                parsed[name] = _identifier(data[name])
            except ValueError as error:
                problems[name] = str(error)
    for name in sorted(set(data) - set(fields) - set(optional)):
        problems[name] = "is not a field of this message"
    if problems:
        raise _Invalid(problems)
    return parsed


def _message(data: object) -> Message:
    if not isinstance(data, dict):
        raise _Invalid({"message": "must be a JSON object"})
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise _Invalid({"type": f"must be one of {', '.join(FIELDS)}"})
    fields = {"seq": _seq, "type": lambda value: value, **FIELDS[kind]}
    optional = _SCOPES if kind in (MessageType.SUSPEND, MessageType.RESUME) else ()
    parsed = _fields(data, fields, optional)
    del parsed["type"]
    if kind == MessageType.EVENT:
        return EventMessage(**parsed)
    if kind == MessageType.MARKET:
        return MarketMessage(**parsed)
    if kind in (MessageType.SUSPEND, MessageType.RESUME):
        if len([scope for scope in _SCOPES if scope in parsed]) != 1:
            raise _Invalid({"market_id": "exactly one of market_id and event_id is required"})
        return SuspendMessage(
            seq=parsed["seq"], market_id=parsed.get("market_id"), event_id=parsed.get("event_id"),
            resume=kind == MessageType.RESUME,
        )  # fmt: skip
    if kind == MessageType.LIVE:
        return LiveMessage(**parsed)
    if kind == MessageType.RESULT:
        if set(parsed["winners"]) & set(parsed["void"]):
            raise _Invalid({"void": "names a selection that is also a winner"})
        return ResultMessage(**parsed)
    return HeartbeatMessage(**parsed)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_batch(body: bytes) -> list[Message]:
    """The messages of a batch, in order; InvalidMessage for a body that is not `{"messages":
    [...]}` or for the first message that is not valid (`error.index`, its place from 0, and
    `error.fields`, what is wrong with it)."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidMessage("The body is not valid JSON.") from None
    if not isinstance(data, dict) or set(data) != {"messages"} or not isinstance(data["messages"], list):
        raise InvalidMessage('The body must be {"messages": [...]}.')
    messages = []
    for index, item in enumerate(data["messages"]):
        try:
            messages.append(_message(item))
        except _Invalid as invalid:
            raise InvalidMessage(
                f"Message {index} of the batch is not valid.", details={"index": index, "fields": invalid.problems}
            ) from None
    return messages
