"""The player-protection API (its exact shapes, session or Bearer), and the wallet API's answers
for limits and exclusions (LIMIT_REACHED, PLAYER_BLOCKED, as contracts/wallet-api.md says)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import issue_token
from apps.compliance import services
from apps.compliance.tests.factories import START, deposit, funded_player, limit
from apps.games import services as games
from apps.wallet.tests.test_api_wallet import assert_error, call, money_body, nothing_moves

pytestmark = pytest.mark.django_db

LIMITS = "/api/player/v1/limits"


@pytest.fixture
def player():
    return funded_player(10_000)


@pytest.fixture
def api(player):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return client


def test_limits_document_shapes(clock, api, player):
    deposit(player, 2_500)
    assert api.get(LIMITS).json() == {"limits": []}

    api.put(LIMITS, {"kind": "deposit", "period": "24h", "amount": 10_000}, format="json")
    api.put(LIMITS, {"kind": "session", "period": None, "amount": 90}, format="json")
    response = api.put(LIMITS, {"kind": "deposit", "period": "24h", "amount": 20_000}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "limits": [
            {"kind": "deposit", "period": "24h", "amount": 10_000, "used": 2_500,
             "pending": {"amount": 20_000, "effective_at": "2026-03-03T12:00:00Z", "needs_confirmation": True}},
            {"kind": "session", "period": None, "amount": 90, "used": 0, "pending": None},
        ]
    }  # fmt: skip


def test_removal_and_confirmation(clock, api):
    api.put(LIMITS, {"kind": "wager", "period": "7d", "amount": 500}, format="json")
    removed = api.put(LIMITS, {"kind": "wager", "period": "7d", "amount": None}, format="json").json()
    assert removed["limits"][0]["pending"]["amount"] is None

    early = api.post(f"{LIMITS}/confirm", {"kind": "wager", "period": "7d"}, format="json")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "COOLING_OFF_NOT_ENDED"

    clock.move_to(START + dt.timedelta(hours=24))
    confirmed = api.post(f"{LIMITS}/confirm", {"kind": "wager", "period": "7d"}, format="json")
    assert confirmed.json() == {"limits": []}


@pytest.mark.parametrize(
    "body",
    [{"kind": "deposit", "period": "24h", "amount": "100"}, {"kind": "deposit", "period": "24h", "amount": 1.5},
     {"kind": "deposit", "period": "24h", "amount": True}, {"kind": "deposit", "period": "24h", "amount": -1},
     {"kind": "deposit", "period": None, "amount": 100}, {"kind": "deposit", "period": "24h"},
     {"kind": "casino", "period": "24h", "amount": 100}],
)  # fmt: skip
def test_bad_limit_bodies_are_invalid_request(api, body):
    response = api.put(LIMITS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


def test_time_out_answers_its_dates_and_logs_the_token_out(clock, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/player/v1/time-out", {"hours": 24}, format="json")

    assert response.status_code == 201
    assert response.json() == {"kind": "time_out", "starts_at": "2026-03-02T12:00:00Z",
                               "ends_at": "2026-03-03T12:00:00Z", "returns_at": None}  # fmt: skip
    assert api.get(LIMITS).status_code == 401


@pytest.mark.parametrize("hours", [23, 1009, "24"])
def test_time_out_out_of_range_is_invalid_request(api, hours):
    assert api.post("/api/player/v1/time-out", {"hours": hours}, format="json").status_code == 400


def test_self_exclusion_and_the_return(clock, player):
    client = APIClient()
    client.force_authenticate(player.user)  # the token is revoked by the exclusion
    response = client.post("/api/player/v1/self-exclusion", {"period": "6m"}, format="json")
    assert response.status_code == 201
    assert response.json()["ends_at"] == "2026-09-02T12:00:00Z"

    early = client.post("/api/player/v1/self-exclusion/return")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "EXCLUSION_NOT_ENDED")
    clock.move_to(dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC))
    back = client.post("/api/player/v1/self-exclusion/return")
    assert back.json()["returns_at"] == "2026-09-03T12:00:00Z"


def test_self_exclusion_period_must_be_one_of_the_three(api):
    assert api.post("/api/player/v1/self-exclusion", {"period": "1m"}, format="json").status_code == 400


def test_reality_check_interval_and_ack(clock, api, player):
    services.start_play_session(player=player)
    response = api.put("/api/player/v1/reality-check", {"interval_minutes": 30}, format="json")
    assert response.json() == {"interval_minutes": 30, "next_due_at": "2026-03-02T12:30:00Z",
                               "last_sent_at": None, "awaiting_acknowledgement": False}  # fmt: skip
    assert api.put("/api/player/v1/reality-check", {"interval_minutes": 5}, format="json").status_code == 400
    assert api.post("/api/player/v1/reality-check/ack").status_code == 204


def test_wallet_bet_after_an_unacknowledged_reality_check_is_limit_reached(
    clock, client, provider, api, player, django_capture_on_commit_callbacks
):
    services.start_play_session(player=player)
    api.put("/api/player/v1/reality-check", {"interval_minutes": 30}, format="json")
    clock.move_to(START + dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert call(client, "bet", money_body(player, 100, tx="tx-1")).status_code == 200  # sends the check
    state = api.get("/api/player/v1/reality-check").json()
    assert state == {"interval_minutes": 30, "next_due_at": "2026-03-02T13:00:00Z",
                     "last_sent_at": "2026-03-02T12:30:00Z", "awaiting_acknowledgement": True}  # fmt: skip

    with nothing_moves():
        response = call(client, "bet", money_body(player, 100, tx="tx-2"))
    assert_error(response, 403, "LIMIT_REACHED", player)
    assert call(client, "win", money_body(player, 500, tx="tx-3")).status_code == 200

    assert api.post("/api/player/v1/reality-check/ack").status_code == 204
    assert api.get("/api/player/v1/reality-check").json()["awaiting_acknowledgement"] is False
    assert call(client, "bet", money_body(player, 100, tx="tx-4")).status_code == 200


def test_session_authentication_works_too(client, player):
    client.force_login(player.user)
    assert client.get(LIMITS).json() == {"limits": []}


def test_anonymous_is_401(client):
    assert client.get(LIMITS).status_code == 401


# --- the wallet API ------------------------------------------------------------------------------


@pytest.fixture
def provider():
    from apps.wallet.tests.test_api_wallet import PROVIDER, SECRET

    return games.save_provider(code=PROVIDER, secret=SECRET)


def test_wallet_bet_over_a_limit_is_limit_reached_and_moves_nothing(client, provider, player):
    limit(player, "wager", "24h", 1_000)
    assert call(client, "bet", money_body(player, 600, tx="tx-1")).status_code == 200

    with nothing_moves():
        response = call(client, "bet", money_body(player, 401, tx="tx-2"))
    assert_error(response, 403, "LIMIT_REACHED", player)
    assert call(client, "bet", money_body(player, 400, tx="tx-3")).status_code == 200


def test_wallet_bet_while_excluded_is_player_blocked_and_wins_are_still_paid(client, provider, player):
    assert call(client, "bet", money_body(player, 100, tx="tx-1")).status_code == 200
    services.start_time_out(player=player, hours=24)

    with nothing_moves():
        response = call(client, "bet", money_body(player, 100, tx="tx-2"))
    assert_error(response, 403, "PLAYER_BLOCKED", player)
    assert call(client, "win", money_body(player, 500, tx="tx-3")).status_code == 200
