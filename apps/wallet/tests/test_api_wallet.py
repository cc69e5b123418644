"""The seamless wallet API over HTTP (shared/contracts/wallet-api.md).

Every row of the contract's error table (LIMIT_REACHED, which needs player protection, is tested in
apps/compliance/tests/test_api.py) with its exact status and `error.code`, and proof that the
refused call moved no money and recorded nothing; the 64 KiB body limit; that odd bodies never
get a 500; the exact keys of successful answers; and the number of queries of one bet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from contextlib import contextmanager

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player
from apps.common.idempotency import ExternalRef
from apps.games import services as games
from apps.wallet import selectors
from apps.wallet import services as wallet
from apps.wallet.api.signature import signature_of
from apps.wallet.choices import BONUS_POOL, TransactionKind
from apps.wallet.models import Account, Entry, Transaction

pytestmark = pytest.mark.django_db

BASE = "/api/wallet/v1/"
PROVIDER = "acme"
SECRET = "acme-secret-0123456789"
START = 1000  # every player's cash balance at the start of a test, in minor units
MAX_BODY = 64 * 1024
UNSIGNED = object()  # `call(..., signature=UNSIGNED)` sends no X-Signature header
OPERATIONS = ("authenticate", "balance", "bet", "win", "rollback")
MONEY_ANSWER_KEYS = {"balance", "currency", "transaction_id", "version"}
PLAYER_ANSWER_KEYS = {"player_id", "currency", "balance"}


# --- helpers -------------------------------------------------------------------------------------


def encode(body: dict | list | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def call(client, operation: str, body, *, provider=PROVIDER, secret=SECRET, sign_as=None, signature=None):
    """POST `body` to `operation`, signed as the contract says unless told otherwise."""
    raw = encode(body)
    headers = {}
    if provider is not None:
        headers["HTTP_X_PROVIDER"] = provider
    if signature is None:
        signature = signature_of(secret, sign_as or operation, raw)
    if signature is not UNSIGNED:
        headers["HTTP_X_SIGNATURE"] = signature
    return client.post(BASE + operation, data=raw, content_type="application/json", **headers)


def with_raw(fields: dict, name: str, raw: str | None) -> bytes:
    """`fields` as a JSON object whose `name` is the raw JSON text `raw` (or absent if None), so
    that values json.dumps would never write (`NaN`, `1e2`, `100.0`) reach the server as typed."""
    parts = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items() if k != name]
    if raw is not None:
        parts.append(f"{json.dumps(name)}: {raw}")
    return ("{" + ", ".join(parts) + "}").encode()


def money_body(player: Player, amount: int = 100, tx: str = "tx-1", round_id: str = "round-1", **extra) -> dict:
    return {
        "player_id": str(player.pk),
        "currency": player.currency_id,
        "amount": amount,
        "transaction_id": tx,
        "round_id": round_id,
        "game_id": "game-1",
        **extra,
    }


def rollback_body(player: Player, target: str = "tx-1", tx: str = "rb-1", round_id: str = "round-1", **extra) -> dict:
    return {
        "player_id": str(player.pk),
        "currency": player.currency_id,
        "transaction_id": tx,
        "rolled_back_transaction_id": target,
        "round_id": round_id,
        "game_id": "game-1",
        **extra,
    }


def body_of(operation: str, player: Player, token: str = "token") -> dict:
    """A valid body for `operation`."""
    if operation == "authenticate":
        return {"token": token}
    if operation == "balance":
        return {"player_id": str(player.pk), "currency": player.currency_id}
    if operation == "rollback":
        return rollback_body(player)
    return money_body(player)


def ledger() -> tuple:
    """Everything a call could move or record: every account's balance and version, and the
    number of transactions and entries."""
    accounts = tuple(Account.objects.order_by("pk").values_list("pk", "balance", "version"))
    return accounts, Transaction.objects.count(), Entry.objects.count()


@contextmanager
def nothing_moves():
    before = ledger()
    yield
    assert ledger() == before, "a refused call moved money or recorded a transaction"


def balance_of(player: Player) -> int:
    return selectors.get_wallet_state(player.pk).balance


def assert_error(response, status: int, code: str, player: Player | None = None) -> dict:
    """The contract's error shape; where the player is known, their balance and currency too."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    if player is not None:
        assert body.get("balance") == balance_of(player), body
        assert body.get("currency") == player.currency_id, body
    return body


def assert_money_answer(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == MONEY_ANSWER_KEYS, body
    assert type(body["balance"]) is int
    assert type(body["version"]) is int
    assert isinstance(body["transaction_id"], str)
    assert body["transaction_id"]
    return body


def fund(player: Player, amount: int = START) -> None:
    wallet.adjust_balance(player_id=player.pk, amount=amount, reason="test set-up", acting_user=None)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def provider():
    return games.save_provider(code=PROVIDER, secret=SECRET)


@pytest.fixture
def player(provider):
    player = make_player(currency="EUR")
    fund(player)
    return player


@pytest.fixture
def usd_player(provider):
    player = make_player(currency="USD")
    fund(player)
    return player


# --- success answers -----------------------------------------------------------------------------


def test_authenticate_answers_exactly_player_id_currency_balance(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)

    response = call(client, "authenticate", {"token": token})

    assert response.status_code == 200, response.content
    assert response.json() == {"player_id": str(player.pk), "currency": "EUR", "balance": START}


def test_balance_answers_exactly_player_id_currency_balance(client, player):
    response = call(client, "balance", body_of("balance", player))

    assert response.status_code == 200, response.content
    assert response.json() == {"player_id": str(player.pk), "currency": "EUR", "balance": START}
    assert set(response.json()) == PLAYER_ANSWER_KEYS


def test_bet_win_rollback_answer_exactly_the_contract_keys_and_count_versions(client, player):
    version = selectors.get_wallet_state(player.pk).version

    bet = assert_money_answer(call(client, "bet", money_body(player, 300, tx="tx-1")))
    assert (bet["balance"], bet["currency"], bet["version"]) == (START - 300, "EUR", version + 1)

    win = assert_money_answer(call(client, "win", money_body(player, 50, tx="win-1")))
    assert (win["balance"], win["version"]) == (START - 250, version + 2)

    rollback = assert_money_answer(call(client, "rollback", rollback_body(player, target="tx-1")))
    assert (rollback["balance"], rollback["version"]) == (START + 50, version + 3)
    assert len({bet["transaction_id"], win["transaction_id"], rollback["transaction_id"]}) == 3


def test_zero_win_and_rollback_of_unknown_bet_are_recorded_and_keep_the_version(client, player):
    version = selectors.get_wallet_state(player.pk).version

    zero = assert_money_answer(call(client, "win", money_body(player, 0, tx="win-0")))
    unknown = assert_money_answer(call(client, "rollback", rollback_body(player, target="never-seen", tx="rb-0")))

    assert (zero["balance"], zero["version"]) == (START, version)
    assert (unknown["balance"], unknown["version"]) == (START, version)
    assert Transaction.objects.filter(external_id__in=["win-0", "rb-0"]).count() == 2


def test_replay_gets_the_first_answer_and_moves_nothing(client, player):
    first = call(client, "bet", money_body(player, 100))
    call(client, "win", money_body(player, 40, tx="win-1"))

    with nothing_moves():
        again = call(client, "bet", money_body(player, 100))

    assert again.status_code == 200
    assert again.json() == first.json()


def test_transaction_ids_are_scoped_per_provider(client, player):
    games.save_provider(code="other", secret="other-secret")
    call(client, "bet", money_body(player, 100))

    response = call(client, "bet", money_body(player, 100), provider="other", secret="other-secret")

    assert assert_money_answer(response)["balance"] == START - 200


def test_win_is_credited_to_a_blocked_player(client, player):
    Player.objects.filter(pk=player.pk).update(status="frozen")

    response = call(client, "win", money_body(player, 70, tx="win-1"))

    assert assert_money_answer(response)["balance"] == START + 70


# --- INVALID_SIGNATURE -----------------------------------------------------------------------------


def _other_secret(raw: bytes) -> str:
    return signature_of("not-the-secret", "bet", raw)


def _hmac(message: bytes) -> str:
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


BAD_SIGNATURES = {
    "missing": lambda raw: UNSIGNED,
    "empty": lambda raw: "",
    "other secret": _other_secret,
    "zeros": lambda raw: "0" * 64,
    "truncated": lambda raw: signature_of(SECRET, "bet", raw)[:32],
    "extended": lambda raw: signature_of(SECRET, "bet", raw) + "00",
    "upper-case hex": lambda raw: signature_of(SECRET, "bet", raw).upper(),
    "not hex": lambda raw: "not-hex",
    "body alone": lambda raw: _hmac(raw),
    "no newline": lambda raw: _hmac(b"bet" + raw),
    "CR LF": lambda raw: _hmac(b"bet\r\n" + raw),
    "operation upper case": lambda raw: _hmac(b"BET\n" + raw),
    "parts reversed": lambda raw: _hmac(raw + b"\nbet"),
    "another body": lambda raw: signature_of(SECRET, "bet", raw + b" "),
    # A header sent twice arrives joined with a comma: even the right signature twice is refused.
    "right one twice": lambda raw: f"{signature_of(SECRET, 'bet', raw)},{signature_of(SECRET, 'bet', raw)}",
    "right one twice with space": lambda raw: f"{signature_of(SECRET, 'bet', raw)}, {signature_of(SECRET, 'bet', raw)}",
}


@pytest.mark.parametrize("name", BAD_SIGNATURES)
def test_bad_signature_is_invalid_signature_and_moves_nothing(client, player, name):
    raw = encode(money_body(player, 100))

    with nothing_moves():
        response = call(client, "bet", raw, signature=BAD_SIGNATURES[name](raw))

    assert_error(response, 401, "INVALID_SIGNATURE")
    # The same bet, properly signed, then goes through once: the refusal recorded nothing.
    assert assert_money_answer(call(client, "bet", raw))["balance"] == START - 100


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"provider": None}, id="no X-Provider"),
        pytest.param({"provider": ""}, id="empty X-Provider"),
        pytest.param({"provider": "nobody"}, id="unknown provider"),
        pytest.param({"provider": "nobody", "secret": "nobody-secret"}, id="unknown provider, self-signed"),
        pytest.param({"provider": "ACME"}, id="provider code in another case"),
    ],
)
def test_unknown_or_missing_provider_is_invalid_signature(client, player, headers):
    with nothing_moves():
        response = call(client, "bet", money_body(player), **headers)

    assert_error(response, 401, "INVALID_SIGNATURE")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_disabled_provider_is_invalid_signature_on_every_operation(client, provider, player, operation):
    token = games.issue_launch_token(player=player, provider=provider)
    games.save_provider(code=PROVIDER, secret=SECRET, enabled=False)

    with nothing_moves():
        response = call(client, operation, body_of(operation, player, token))

    assert_error(response, 401, "INVALID_SIGNATURE")


@pytest.mark.parametrize(
    ("signed_as", "sent_to", "body_kind"),
    [
        ("bet", "win", "money"),
        ("bet", "rollback", "money"),
        ("win", "bet", "money"),
        ("rollback", "bet", "rollback"),
        ("balance", "bet", "money"),
        ("bet", "balance", "balance"),
        ("balance", "authenticate", "token"),
    ],
)
def test_body_signed_for_another_operation_is_invalid_signature(
    client, provider, player, signed_as, sent_to, body_kind
):
    token = games.issue_launch_token(player=player, provider=provider)
    body = {
        "money": money_body(player),
        "rollback": rollback_body(player),
        "balance": body_of("balance", player),
        "token": {"token": token},
    }[body_kind]

    with nothing_moves():
        response = call(client, sent_to, body, sign_as=signed_as)

    assert_error(response, 401, "INVALID_SIGNATURE")


@pytest.mark.parametrize("raw", [b"not json", b"", b"[]", b'{"amount": NaN}'])
def test_signature_is_checked_before_the_body_is_parsed(client, player, raw):
    response = call(client, "bet", raw, signature="0" * 64)

    assert_error(response, 401, "INVALID_SIGNATURE")


def test_refused_authenticate_does_not_use_up_the_token(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)

    assert_error(call(client, "authenticate", {"token": token}, signature="0" * 64), 401, "INVALID_SIGNATURE")

    assert call(client, "authenticate", {"token": token}).status_code == 200


# --- INVALID_REQUEST -------------------------------------------------------------------------------

NOT_JSON = [b"", b"not json", b"{", b'{"a": 1', b"\xff\xfe\x00", b"{'token': 'x'}", b"\x00", b'{"a": 1} {"b": 2}']
NOT_OBJECT = [b"[]", b'["token"]', b'"bet"', b"1", b"null", b"true", b"NaN"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("raw", NOT_JSON + NOT_OBJECT)
def test_body_not_a_json_object_is_invalid_request(client, player, operation, raw):
    with nothing_moves():
        response = call(client, operation, raw)

    assert_error(response, 400, "INVALID_REQUEST")


REQUIRED = {
    "authenticate": ["token"],
    "balance": ["player_id", "currency"],
    "bet": ["player_id", "currency", "amount", "transaction_id", "round_id", "game_id"],
    "win": ["player_id", "currency", "amount", "transaction_id", "round_id", "game_id"],
    "rollback": ["player_id", "currency", "transaction_id", "rolled_back_transaction_id", "round_id", "game_id"],
}


@pytest.mark.parametrize(("operation", "field"), [(op, f) for op, fields in REQUIRED.items() for f in fields])
def test_missing_field_is_invalid_request(client, provider, player, operation, field):
    token = games.issue_launch_token(player=player, provider=provider)
    body = body_of(operation, player, token)

    with nothing_moves():
        response = call(client, operation, with_raw(body, field, None))

    assert_error(response, 400, "INVALID_REQUEST")
    assert field in response.json()["error"]["fields"]


BAD_AMOUNTS = {
    "float": "1.5",
    "float with zero fraction": "100.0",
    "exponent": "1e2",
    "upper-case exponent": "1E2",
    "string": '"100"',
    "true": "true",
    "false": "false",
    "null": "null",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "huge exponent": "1e400",
    "negative": "-1",
    "negative zero float": "-0.0",
    "over 10^12": str(10**12 + 1),
    "far over 10^12": "9" * 40,
    "list": "[100]",
    "object": '{"value": 100}',
}


@pytest.mark.parametrize("operation", ["bet", "win"])
@pytest.mark.parametrize("name", BAD_AMOUNTS)
def test_bad_amount_is_invalid_request(client, player, operation, name):
    with nothing_moves():
        response = call(client, operation, with_raw(money_body(player), "amount", BAD_AMOUNTS[name]))

    # NaN and Infinity are not JSON: refused as a body, with no per-field details.
    assert_error(response, 400, "INVALID_REQUEST")


def test_zero_bet_is_invalid_request(client, player):
    with nothing_moves():
        response = call(client, "bet", money_body(player, 0))

    assert_error(response, 400, "INVALID_REQUEST")


def test_amount_of_10_to_the_12_is_in_range(client, player):
    """10^12 is the largest amount: a bet of it is judged on the money (402), a win of it is paid."""
    with nothing_moves():
        assert_error(call(client, "bet", money_body(player, 10**12)), 402, "INSUFFICIENT_FUNDS", player)

    assert assert_money_answer(call(client, "win", money_body(player, 10**12, tx="win-1")))["balance"] == (
        START + 10**12
    )


BAD_CURRENCIES = {
    "lower case": '"eur"',
    "mixed case": '"Eur"',
    "unknown code": '"ZZZ"',
    "four letters": '"EURO"',
    "two letters": '"EU"',
    "empty": '""',
    "padded left": '" EUR"',
    "padded right": '"EUR "',
    "trailing newline": '"EUR\\n"',
    "cyrillic E": '"\\u0415UR"',
    "number": "978",
    "null": "null",
    "list": '["EUR"]',
    "true": "true",
}


@pytest.mark.parametrize("operation", ["balance", "bet", "win", "rollback"])
@pytest.mark.parametrize("name", BAD_CURRENCIES)
def test_bad_currency_is_invalid_request(client, player, operation, name):
    with nothing_moves():
        response = call(client, operation, with_raw(body_of(operation, player), "currency", BAD_CURRENCIES[name]))

    assert_error(response, 400, "INVALID_REQUEST")


BAD_IDS = {
    "empty": '""',
    "101 characters": json.dumps("x" * 101),
    "newline": '"a\\nb"',
    "tab": '"\\t"',
    "NUL": '"a\\u0000"',
    "escape": '"\\u001b[31m"',
    "lone surrogate": '"\\ud800"',
    "line separator": '"a\\u2028"',
    "number": "123",
    "null": "null",
    "list": '["tx-1"]',
    "true": "true",
}
ID_FIELDS = [
    ("bet", "transaction_id"),
    ("bet", "round_id"),
    ("bet", "game_id"),
    ("win", "transaction_id"),
    ("rollback", "transaction_id"),
    ("rollback", "rolled_back_transaction_id"),
]


@pytest.mark.parametrize(("operation", "field"), ID_FIELDS)
@pytest.mark.parametrize("name", BAD_IDS)
def test_bad_id_is_invalid_request(client, player, operation, field, name):
    with nothing_moves():
        response = call(client, operation, with_raw(body_of(operation, player), field, BAD_IDS[name]))

    assert_error(response, 400, "INVALID_REQUEST")
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("value", ["x", "x" * 100, "é" * 100, "round 1/2 ✓"])
def test_ids_of_1_to_100_printable_characters_are_accepted(client, player, value):
    response = call(client, "bet", money_body(player, 10, tx=value, round_id=value, game_id=value))

    assert assert_money_answer(response)["balance"] == START - 10


@pytest.mark.parametrize("operation", ["balance", "bet", "win", "rollback"])
@pytest.mark.parametrize("raw", ["{pk}", "null", "true", '["{pk}"]', "{pk}.0"])
def test_player_id_that_is_not_a_string_is_invalid_request(client, player, operation, raw):
    with nothing_moves():
        response = call(client, operation, with_raw(body_of(operation, player), "player_id", raw.format(pk=player.pk)))

    assert_error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("raw", ["123", "null", '""', json.dumps("x" * 201), "[]"])
def test_bad_token_is_invalid_request(client, player, raw):
    with nothing_moves():
        response = call(client, "authenticate", with_raw({}, "token", raw))

    assert_error(response, 400, "INVALID_REQUEST")


# --- body size -------------------------------------------------------------------------------------


def padded(body: dict, size: int) -> bytes:
    """`body` as JSON followed by JSON whitespace up to exactly `size` bytes."""
    raw = encode(body)
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


@pytest.mark.parametrize("size", [MAX_BODY + 1, 65 * 1024, 3 * 1024 * 1024])
def test_body_over_64_kib_is_413_invalid_request(client, player, size):
    raw = padded(money_body(player), size)

    with nothing_moves():
        response = call(client, "bet", raw)

    assert_error(response, 413, "INVALID_REQUEST")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_body_over_64_kib_is_refused_before_it_is_parsed(client, player, operation):
    """Invalid JSON over the limit gets 413, not 400: the size is judged first, without parsing."""
    raw = b"{" + b"x" * MAX_BODY
    assert len(raw) == MAX_BODY + 1

    with nothing_moves():
        response = call(client, operation, raw)

    assert_error(response, 413, "INVALID_REQUEST")


def test_body_of_exactly_64_kib_is_accepted(client, player):
    raw = padded(money_body(player, 100), MAX_BODY)
    assert len(raw) == MAX_BODY

    response = call(client, "bet", raw)

    assert assert_money_answer(response)["balance"] == START - 100


# --- nothing answers 500 -----------------------------------------------------------------------------

ODD_BODIES = {
    "deeply nested lists": b"[" * 60_000,
    "deeply nested objects": b'{"a":' * 13_000,
    "integer of 5000 digits": b'{"amount": ' + b"1" * 5000 + b"}",
    "utf-16": '{"token": "x"}'.encode("utf-16"),
    "utf-8 BOM": b'\xef\xbb\xbf{"token": "x"}',
    "invalid utf-8 in a string": b'{"token": "\xff\xfe"}',
    "lone surrogate everywhere": json.dumps(
        dict.fromkeys(
            ["token", "player_id", "currency", "transaction_id", "rolled_back_transaction_id", "round_id", "game_id"],
            "\ud800",
        )
        | {"amount": 1}
    ).encode(),
    "duplicate keys": b'{"token": 1, "token": "x", "amount": 1, "amount": "1"}',
    "huge player id": b'{"player_id": "' + b"9" * 18 + b'", "currency": "EUR", "amount": 1, "transaction_id": "t",'
    b' "round_id": "r", "game_id": "g", "rolled_back_transaction_id": "t0", "token": "x"}',
    "player id over bigint": b'{"player_id": "' + b"9" * 40 + b'", "currency": "EUR", "amount": 1, '
    b'"transaction_id": "t", "round_id": "r", "game_id": "g", "rolled_back_transaction_id": "t0"}',
    "only whitespace": b" \n\t ",
    "nested object values": b'{"token": {"a": 1}, "player_id": {"a": 1}, "currency": {"a": 1}, "amount": {"a": 1}}',
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("name", ODD_BODIES)
def test_odd_bodies_never_answer_500(client, player, operation, name):
    with nothing_moves():
        response = call(client, operation, ODD_BODIES[name])

    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response.json()["error"]["code"] in {"INVALID_REQUEST", "UNKNOWN_PLAYER", "TOKEN_INVALID"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", BASE + "bet/", 404),  # exactly the path: no trailing slash, no redirect
        ("POST", BASE + "steal", 404),
        ("GET", BASE + "bet", 405),
        ("PUT", BASE + "bet", 405),
    ],
)
def test_wrong_path_or_method_is_a_client_error_not_a_redirect(client, player, method, path, status):
    raw = encode(money_body(player))

    with nothing_moves():
        response = client.generic(
            method,
            path,
            data=raw,
            content_type="application/json",
            HTTP_X_PROVIDER=PROVIDER,
            HTTP_X_SIGNATURE=signature_of(SECRET, "bet", raw),
        )

    assert response.status_code == status


def test_a_wrong_method_names_the_allowed_one(client, player):
    response = client.get(BASE + "bet")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_a_bug_in_the_service_is_a_logged_500_in_the_error_shape(client, player, monkeypatch, caplog):
    def broken(**_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(wallet, "place_bet", broken)
    with nothing_moves():
        response = call(client, "bet", money_body(player))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "INTERNAL_ERROR", "message": "Internal error; it has been logged."}}
    assert "RuntimeError: a bug" in caplog.text


# --- TOKEN_INVALID ---------------------------------------------------------------------------------


def test_unknown_token_is_token_invalid(client, player):
    with nothing_moves():
        response = call(client, "authenticate", {"token": "garbage-token"})

    assert_error(response, 401, "TOKEN_INVALID")


def test_altered_token_is_token_invalid(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = call(client, "authenticate", {"token": altered})

    assert_error(response, 401, "TOKEN_INVALID")
    assert call(client, "authenticate", {"token": token}).status_code == 200


def test_reused_token_is_token_invalid(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)
    assert call(client, "authenticate", {"token": token}).status_code == 200

    with nothing_moves():
        response = call(client, "authenticate", {"token": token})

    assert_error(response, 401, "TOKEN_INVALID")


def test_token_expires_after_10_minutes_unused(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10, seconds=1), tick=False):
        response = call(client, "authenticate", {"token": token})

    assert_error(response, 401, "TOKEN_INVALID")


def test_token_is_still_valid_just_before_10_minutes(client, provider, player):
    token = games.issue_launch_token(player=player, provider=provider)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=9, seconds=59), tick=False):
        response = call(client, "authenticate", {"token": token})

    assert response.status_code == 200


def test_token_minted_for_another_provider_is_token_invalid(client, player):
    other = games.save_provider(code="other", secret="other-secret")
    token = games.issue_launch_token(player=player, provider=other)

    response = call(client, "authenticate", {"token": token})

    assert_error(response, 401, "TOKEN_INVALID")


# --- UNKNOWN_PLAYER --------------------------------------------------------------------------------

UNKNOWN_IDS = ["999999999", "0", "-1", "01", "1.0", "abc", "", " 1", "9" * 19, "{pk}\n", "{pk} ", " {pk}", "+{pk}"]


@pytest.mark.parametrize("operation", ["balance", "bet", "win", "rollback"])
@pytest.mark.parametrize("player_id", UNKNOWN_IDS)
def test_unknown_player_is_404(client, player, operation, player_id):
    """Only the string create_player printed names a player; anything else names nobody."""
    body = {**body_of(operation, player), "player_id": player_id.format(pk=player.pk)}

    with nothing_moves():
        response = call(client, operation, body)

    assert_error(response, 404, "UNKNOWN_PLAYER")


def test_player_without_accounts_yet_is_known(client, provider):
    """A player who never had money is known all the same (balance 0), and a refused bet
    leaves nothing behind."""
    player = make_player(currency="EUR")

    response = call(client, "balance", body_of("balance", player))
    assert response.json() == {"player_id": str(player.pk), "currency": "EUR", "balance": 0}

    with nothing_moves():
        assert_error(call(client, "bet", money_body(player, 1)), 402, "INSUFFICIENT_FUNDS", player)


# --- CURRENCY_MISMATCH -----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["balance", "bet", "win", "rollback"])
def test_known_currency_that_is_not_the_wallets_is_currency_mismatch(client, player, usd_player, operation):
    for wallet_owner, other in [(player, "USD"), (usd_player, "EUR")]:
        body = {**body_of(operation, wallet_owner), "currency": other}

        with nothing_moves():
            response = call(client, operation, body)

        answer = assert_error(response, 409, "CURRENCY_MISMATCH", wallet_owner)
        assert answer["currency"] == wallet_owner.currency_id
        assert answer["balance"] == START


# --- INSUFFICIENT_FUNDS ----------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [START + 1, 10**12])
def test_bet_over_the_playable_balance_is_insufficient_funds(client, player, amount):
    with nothing_moves():
        response = call(client, "bet", money_body(player, amount))

    assert_error(response, 402, "INSUFFICIENT_FUNDS", player)


def test_playable_balance_is_cash_plus_bonus(client, player):
    ref = ExternalRef(origin="test", external_id="bonus-1", fingerprint="f")
    wallet.credit(
        player_id=player.pk,
        currency="EUR",
        amount=500,
        kind=TransactionKind.BONUS,
        ref=ref,
        counter=BONUS_POOL,
        to_bonus=True,
    )

    with nothing_moves():
        answer = assert_error(call(client, "bet", money_body(player, START + 501)), 402, "INSUFFICIENT_FUNDS", player)
    assert answer["balance"] == START + 500

    assert assert_money_answer(call(client, "bet", money_body(player, START + 500)))["balance"] == 0


# --- PLAYER_BLOCKED --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["locked", "frozen", "closed"])
def test_bet_of_a_blocked_player_is_player_blocked(client, player, status):
    Player.objects.filter(pk=player.pk).update(status=status)

    with nothing_moves():
        response = call(client, "bet", money_body(player, 100))

    assert_error(response, 403, "PLAYER_BLOCKED", player)


# --- DUPLICATE_TRANSACTION -------------------------------------------------------------------------

BET_DUPLICATES = {
    "other amount": ("bet", {"amount": 101}),
    "other round": ("bet", {"round_id": "round-2"}),
    "other game": ("bet", {"game_id": "game-2"}),
    "as a win": ("win", {}),
    "as a zero win": ("win", {"amount": 0}),
}


@pytest.mark.parametrize("name", BET_DUPLICATES)
def test_bet_id_reused_for_another_call_is_duplicate_transaction(client, player, name):
    assert call(client, "bet", money_body(player, 100)).status_code == 200
    operation, changes = BET_DUPLICATES[name]

    with nothing_moves():
        response = call(client, operation, money_body(player, **{"amount": 100, "tx": "tx-1", **changes}))

    assert_error(response, 409, "DUPLICATE_TRANSACTION", player)


def test_bet_id_reused_as_a_rollback_id_is_duplicate_transaction(client, player):
    assert call(client, "bet", money_body(player, 100, tx="tx-1")).status_code == 200
    assert call(client, "bet", money_body(player, 100, tx="tx-2")).status_code == 200

    with nothing_moves():
        response = call(client, "rollback", rollback_body(player, target="tx-2", tx="tx-1"))

    assert_error(response, 409, "DUPLICATE_TRANSACTION", player)


def test_bet_id_reused_by_another_player_is_duplicate_transaction(client, player):
    other = make_player(currency="EUR")
    fund(other)
    assert call(client, "bet", money_body(player, 100)).status_code == 200

    with nothing_moves():
        response = call(client, "bet", money_body(other, 100))

    assert_error(response, 409, "DUPLICATE_TRANSACTION", other)


def test_win_id_reused_for_another_call_is_duplicate_transaction(client, player):
    assert call(client, "win", money_body(player, 100, tx="win-1")).status_code == 200

    for operation, amount in [("win", 99), ("bet", 100)]:
        with nothing_moves():
            response = call(client, operation, money_body(player, amount, tx="win-1"))
        assert_error(response, 409, "DUPLICATE_TRANSACTION", player)


def test_rollback_id_reused_for_another_rollback_is_duplicate_transaction(client, player):
    call(client, "bet", money_body(player, 100, tx="tx-1"))
    call(client, "bet", money_body(player, 100, tx="tx-2"))
    assert call(client, "rollback", rollback_body(player, target="tx-1", tx="rb-1")).status_code == 200

    with nothing_moves():
        response = call(client, "rollback", rollback_body(player, target="tx-2", tx="rb-1"))

    assert_error(response, 409, "DUPLICATE_TRANSACTION", player)


def test_rolled_back_bet_replayed_with_another_amount_is_duplicate_transaction(client, player):
    first = call(client, "bet", money_body(player, 100))
    call(client, "rollback", rollback_body(player, target="tx-1"))

    with nothing_moves():
        replay = call(client, "bet", money_body(player, 100))
        changed = call(client, "bet", money_body(player, 200))

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert_error(changed, 409, "DUPLICATE_TRANSACTION", player)


# --- TRANSACTION_ROLLED_BACK -----------------------------------------------------------------------


def test_bet_named_by_an_earlier_rollback_is_transaction_rolled_back(client, player):
    assert call(client, "rollback", rollback_body(player, target="tx-late", tx="rb-1")).status_code == 200

    with nothing_moves():
        response = call(client, "bet", money_body(player, 100, tx="tx-late"))

    assert_error(response, 409, "TRANSACTION_ROLLED_BACK", player)


def test_win_in_a_round_whose_bets_were_all_rolled_back_is_transaction_rolled_back(client, player):
    call(client, "bet", money_body(player, 100, tx="tx-1", round_id="round-1"))
    call(client, "rollback", rollback_body(player, target="tx-1", tx="rb-1", round_id="round-1"))

    with nothing_moves():
        response = call(client, "win", money_body(player, 300, tx="win-1", round_id="round-1"))

    assert_error(response, 409, "TRANSACTION_ROLLED_BACK", player)


def test_win_in_a_round_with_one_bet_left_is_paid(client, player):
    call(client, "bet", money_body(player, 100, tx="tx-1"))
    call(client, "bet", money_body(player, 100, tx="tx-2"))
    call(client, "rollback", rollback_body(player, target="tx-1"))

    response = call(client, "win", money_body(player, 300, tx="win-1"))

    assert assert_money_answer(response)["balance"] == START - 100 + 300


# --- ROLLBACK_NOT_ALLOWED --------------------------------------------------------------------------


def test_rollback_of_a_win_is_rollback_not_allowed(client, player):
    call(client, "win", money_body(player, 100, tx="win-1"))

    with nothing_moves():
        response = call(client, "rollback", rollback_body(player, target="win-1"))

    assert_error(response, 409, "ROLLBACK_NOT_ALLOWED", player)


def test_second_rollback_of_a_bet_is_rollback_not_allowed(client, player):
    call(client, "bet", money_body(player, 100))
    call(client, "rollback", rollback_body(player, target="tx-1", tx="rb-1"))

    with nothing_moves():
        response = call(client, "rollback", rollback_body(player, target="tx-1", tx="rb-2"))

    assert_error(response, 409, "ROLLBACK_NOT_ALLOWED", player)


def test_second_rollback_of_a_never_seen_bet_is_rollback_not_allowed(client, player):
    call(client, "rollback", rollback_body(player, target="tx-ghost", tx="rb-1"))

    with nothing_moves():
        response = call(client, "rollback", rollback_body(player, target="tx-ghost", tx="rb-2"))

    assert_error(response, 409, "ROLLBACK_NOT_ALLOWED", player)


def test_rollback_of_another_players_bet_is_rollback_not_allowed(client, player):
    other = make_player(currency="EUR")
    fund(other)
    call(client, "bet", money_body(player, 100))

    with nothing_moves():
        response = call(client, "rollback", rollback_body(other, target="tx-1"))

    assert_error(response, 409, "ROLLBACK_NOT_ALLOWED", other)


# --- queries ---------------------------------------------------------------------------------------

# One signed bet of a free player through the API, measured with warm per-process caches (the
# provider, known currencies). One statement, one round trip in production:
#   1. SAVEPOINT                        only here, because the test runs inside a transaction
#   2. SELECT * FROM wallet_place_bet(…)  the bet function (apps/wallet/fast_bet.py): the lock of
#                                       the player's accounts, idempotency, the checks, the bet, its
#                                       entries (player cash, house), the cash account's new balance
#                                       and version and the domain event's outbox row; sent in
#                                       autocommit in production, its own transaction
#   3. RELEASE SAVEPOINT                only here
# A bet the function leaves to the Python path is pinned in test_query_count.py.
PINNED_BET_QUERIES = 3
PINNED_BET_SHAPE = ["SAVEPOINT", "SELECT", "RELEASE"]


def test_number_of_queries_of_one_bet(client, player, django_assert_num_queries):
    assert call(client, "bet", money_body(player, 1, tx="warm-up")).status_code == 200
    raw = encode(money_body(player, 100, tx="tx-measured"))
    signature = signature_of(SECRET, "bet", raw)

    with django_assert_num_queries(PINNED_BET_QUERIES) as captured:
        response = client.post(
            BASE + "bet",
            data=raw,
            content_type="application/json",
            HTTP_X_PROVIDER=PROVIDER,
            HTTP_X_SIGNATURE=signature,
        )

    assert response.status_code == 200, response.content
    queries = [q["sql"] for q in captured.captured_queries]
    assert [sql.split()[0] for sql in queries] == PINNED_BET_SHAPE, queries
    assert queries[1].startswith("SELECT * FROM wallet_place_bet(")
