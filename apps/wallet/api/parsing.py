"""Strict parsing of wallet API bodies: exactly the types the contract allows, else
INVALID_REQUEST. Hand-written rather than a DRF serializer because the contract is stricter than
DRF's coercion (`"100"`, `100.0`, `true` and `NaN` are all refused as amounts) and this is the
hot path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from apps.common.errors import InvalidRequest
from apps.common.money import MAX_AMOUNT

_PLAYER_ID = re.compile(r"[1-9][0-9]{0,17}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_object(body: bytes) -> dict:
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deep enough to exhaust the parser is refused like any bad JSON.
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return data


def _identifier(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100 or not value.isprintable():
        raise ValueError("must be a string of 1 to 100 printable characters")
    return value


def _player_id(value: object) -> int | None:
    """PAM's player id as a string; a string that can't be one names nobody (None: 404 later)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return int(value) if _PLAYER_ID.fullmatch(value) else None


def _amount(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_AMOUNT:
        raise ValueError(f"must be an integer from 0 to {MAX_AMOUNT} (minor units)")
    return value


def _positive_amount(value: object) -> int:
    if _amount(value) == 0:
        raise ValueError("must be positive")
    return value


def currency_field(known: Callable[[str], bool]) -> Callable[[object], str]:
    def _currency(value: object) -> str:
        if not isinstance(value, str) or not _CURRENCY.fullmatch(value) or not known(value):
            raise ValueError("must be an upper-case ISO 4217 code that PAM knows")
        return value

    return _currency


def _token(value: object) -> str:
    # Launch tokens are URL-safe ASCII; anything else (a lone surrogate, say) names no token.
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not (value.isascii() and value.isprintable()):
        raise ValueError("must be a launch token")
    return value


FIELDS: dict[str, dict[str, Callable[[object], object]]] = {
    "authenticate": {"token": _token},
    "balance": {"player_id": _player_id, "currency": None},
    "bet": {"player_id": _player_id, "currency": None, "amount": _positive_amount, "transaction_id": _identifier,
            "round_id": _identifier, "game_id": _identifier},
    "win": {"player_id": _player_id, "currency": None, "amount": _amount, "transaction_id": _identifier,
            "round_id": _identifier, "game_id": _identifier},
    "rollback": {"player_id": _player_id, "currency": None, "transaction_id": _identifier,
                 "rolled_back_transaction_id": _identifier, "round_id": _identifier, "game_id": _identifier},
}  # fmt: skip


def parse_call(operation: str, body: bytes, known_currency: Callable[[str], bool]) -> tuple[dict, dict]:
    """(validated fields, the raw fields as sent) for `operation`; raises InvalidRequest naming
    every missing or invalid field."""
    data = parse_object(body)
    currency = currency_field(known_currency)
    parsed, problems = {}, {}
    for name, check in FIELDS[operation].items():
        if name not in data:
            problems[name] = "is required"
            continue
        try:
            parsed[name] = (check or currency)(data[name])
        except ValueError as exc:
            problems[name] = str(exc)
    if problems:
        raise InvalidRequest("Some fields are missing or invalid.", details={"fields": problems})
    return parsed, {name: data[name] for name in FIELDS[operation]}
