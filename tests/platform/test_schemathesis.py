"""The OpenAPI schema says exactly what the server accepts and answers: schemathesis loads the
schema PAM serves at /api/schema/, generates requests for every operation from it (valid ones
and, for each constraint, ones that break it) and runs every one of its checks on each answer
(no server error; a status, content type, headers and body the schema declares; schema-invalid
data refused; schema-valid data never refused as invalid; authentication enforced).

Requests go in-process through Django's WSGI application, on this run's test database with real
commits: the fuzzer's money movements are real ledger transactions. The wallet API is signed by a
`before_call` hook over the exact bytes sent; the player API carries a real Bearer token of a real
funded player, one player per operation so that one operation's time-out or self-exclusion does
not log the others out. Deterministic (`derandomize`) and bounded (`MAX_EXAMPLES` per operation).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies._internal import regex as hypothesis_regex
from schemathesis.core import NotSet
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from apps.accounts import services as accounts_services
from apps.games import services as games
from apps.wallet.api.signature import signature_of
from apps.wallet.tests.factories import funded_player

MAX_EXAMPLES = 20
PROVIDER, SECRET = "fuzz", "fuzz-secret-0123456789"
WALLET_PREFIX = "/api/wallet/v1/"
# What the auth provider puts in X-Signature; the hook replaces it with the real signature. A
# request without it (schemathesis's own probes of unauthenticated and wrongly signed calls) is
# sent as it is, and must be refused.
SIGN_HERE = "sign-here"
FUNDS = 10**12  # minor units: the most one call may move

# Every check schemathesis has (all are on unless configured off). 422 is PAM's answer to a
# well-formed request refused by a rule no schema can express (an age, the password validators):
# schema-valid data refused as malformed, a 400, still fails the positive check.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}}}
)


def _built_once(regex_strategy: Callable) -> Callable:
    """Hypothesis's `regex_strategy`, building each pattern's strategy once.

    Hypothesis builds a character class by walking every code point of its ranges; the schema's
    free-text fields are checked against the class of all printable characters (about 280,000),
    and schemathesis asks for the same patterns again for each operation and case kind: about 80
    builds of a third of a second to a second each, most of the run's collection. A strategy is an
    immutable description of what to draw, so one pattern's is the same object every time."""
    built: dict[tuple, object] = {}

    def regex_strategy_once(regex, fullmatch, *, alphabet, **options):
        pattern = (regex.pattern, regex.flags) if hasattr(regex, "pattern") else (regex, 0)
        key = (*pattern, fullmatch, repr(alphabet), tuple(sorted(options.items())))
        if key not in built:
            built[key] = regex_strategy(regex, fullmatch, alphabet=alphabet, **options)
        return built[key]

    return regex_strategy_once


hypothesis_regex.regex_strategy = _built_once(hypothesis_regex.regex_strategy)

# Loaded at collection, from the URL clients read it at; serving it touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
# The fuzzing player's bearer token. Schemathesis builds some requests at collection, before any
# database exists, so the token is fixed here and issued to each test's player (see `_sandbox`).
PLAYER_TOKEN = "pam_fuzz-player-token-0123456789abcdef"


@schema.auth(refresh_interval=None, retry_on=[]).apply_to(path_regex=f"^{WALLET_PREFIX}")
class ProviderSignature:
    def get(self, case, context):
        return PROVIDER

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "X-Provider": data, "X-Signature": SIGN_HERE}


@schema.auth(refresh_interval=None, retry_on=[]).apply_to(path_regex="^/api/player/")
class PlayerToken:
    def get(self, case, context):
        return PLAYER_TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _wire_bytes(body) -> bytes:
    """The bytes schemathesis's WSGI transport sends for `body` (its JSON serializer, werkzeug's
    `json.dumps`)."""
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes):
        return body
    return b"null" if body is None else json.dumps(body).encode()


def _sign(context, case, kwargs):
    """HMAC over the operation name and the body bytes exactly as the WSGI transport sends them."""
    headers = case.headers or {}
    if not case.operation.path.startswith(WALLET_PREFIX) or headers.get("X-Signature") != SIGN_HERE:
        return
    raw = _wire_bytes(case.body)
    operation = case.operation.path.removeprefix(WALLET_PREFIX)
    case.headers = {**headers, "X-Signature": signature_of(SECRET, operation, raw)}


@pytest.fixture(autouse=True)
def _sandbox(settings, monkeypatch):
    """Each operation's test starts on an empty database (transactional tests are flushed) with
    the provider and a funded player of its own, so that one operation's time-out or
    self-exclusion logs out no other."""
    # Throttling state (registrations per address, login failures) of the fuzz under keys of its
    # own: nothing the fuzzer does counts against another test of the run.
    settings.CACHES = {
        name: {**options, "KEY_PREFIX": f"{options.get('KEY_PREFIX', '')}fuzz{secrets.token_hex(4)}"}
        for name, options in settings.CACHES.items()
    }
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = funded_player(FUNDS, username="fuzzer")
    monkeypatch.setattr(accounts_services, "new_token", lambda prefix: PLAYER_TOKEN)
    accounts_services.issue_token(player.user)
    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(_sign, "before_call")
    yield
    GLOBAL_HOOK_DISPATCHER.unregister(_sign)


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_every_operation_answers_as_the_schema_says(case):
    case.call_and_validate()
