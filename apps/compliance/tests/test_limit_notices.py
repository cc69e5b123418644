"""A limit that refuses money tells the player's open sockets: a `limit_reached` notice
(contracts/realtime.md) for a casino bet through the wallet API, a deposit at the cashier, a
sportsbook bet, a launch and a session time limit, sent at once since the refusal commits
nothing, and never changing the refusal's answer. A stake that uses a limit up exactly says so
after it commits, after its own frame; one rolled back says nothing. On a real Redis channel
layer, or, where no socket is needed, by the signal the real-time app receives."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import issue_token
from apps.common.money import format_minor
from apps.compliance import services, signals
from apps.compliance.errors import LimitReached, RealityCheckPending
from apps.compliance.tests.factories import START, bet, fresh, funded_player, limit
from apps.compliance.tests.test_websocket import open_socket
from apps.games import services as games
from apps.games.tests.factories import game as a_game
from apps.payments.models import DepositIntent
from apps.payments.tests.factories import a_provider, verified_player
from apps.realtime import push
from apps.wallet.errors import InsufficientFunds
from apps.wallet.tests.test_api_wallet import PROVIDER, SECRET, balance_of, call, ledger, money_body

DEPOSITS = "/api/player/v1/deposits"


def eur(amount: int) -> str:
    """How a message shows an amount of the test players' currency."""
    return f"{format_minor(amount, 2)} EUR"


def wager_refusal(amount: int, remaining: int, message: str | None = None) -> dict:
    return {
        "type": "notice", "kind": "limit_reached",
        "message": message or f"This would pass the 24h wager limit of {eur(amount)} ({eur(remaining)} left).",
        "data": {"kind": "wager", "period": "24h", "amount": amount, "remaining": remaining},
    }  # fmt: skip


def used_up(kind: str, amount: int) -> dict:
    return {
        "type": "notice", "kind": "limit_reached",
        "message": f"The 24h {kind} limit of {eur(amount)} is used up (nothing left).",
        "data": {"kind": kind, "period": "24h", "amount": amount, "remaining": 0},
    }  # fmt: skip


def api_of(player) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(player.user)}")
    return api


@pytest.fixture
def refusals():
    """The `limit_reached` signal's payloads, in order."""
    sent = []

    def collect(sender, signal, **payload):
        sent.append(payload)

    signals.limit_reached.connect(collect, dispatch_uid="compliance_tests.refusals")
    yield sent
    signals.limit_reached.disconnect(dispatch_uid="compliance_tests.refusals")


# --- on a socket ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_wager_limit_through_the_wallet_api_tells_the_socket_of_each_refusal_and_of_its_exact_use():
    """60 taken, 60 refused, 40 taken (the limit now used up), 1 refused: the two refusals send
    one notice each, moving nothing; the 40 sends one after its frame."""
    client = Client()
    await database_sync_to_async(games.save_provider)(code=PROVIDER, secret=SECRET)
    player = await database_sync_to_async(funded_player)(1_000)
    await database_sync_to_async(limit)(player, "wager", "24h", 100)
    socket = await open_socket(player)

    async def wallet_bet(amount: int, tx: str):
        return await database_sync_to_async(call)(client, "bet", money_body(player, amount, tx=tx))

    assert (await wallet_bet(60, "tx-1")).status_code == 200
    assert (await socket.receive_json_from(timeout=5))["type"] == "wallet.updated"
    assert await socket.receive_nothing(timeout=0.3)  # within the limit: no notice

    before = await database_sync_to_async(ledger)()
    refused = await wallet_bet(60, "tx-2")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "LIMIT_REACHED"
    assert await socket.receive_json_from(timeout=5) == wager_refusal(100, 40, refused.json()["error"]["message"])
    assert await socket.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(ledger)() == before
    assert await database_sync_to_async(balance_of)(player) == 940

    assert (await wallet_bet(40, "tx-3")).status_code == 200
    assert (await socket.receive_json_from(timeout=5))["type"] == "wallet.updated"
    assert await socket.receive_json_from(timeout=5) == used_up("wager", 100)
    assert await socket.receive_nothing(timeout=0.3)

    assert (await wallet_bet(1, "tx-4")).status_code == 403
    assert await socket.receive_json_from(timeout=5) == wager_refusal(100, 0)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_deposit_refused_at_the_cashier_tells_the_socket_once_and_starts_nothing():
    await database_sync_to_async(a_provider)(min_deposit=1_000, max_deposit=1_000_000)
    player = await database_sync_to_async(verified_player)()
    await database_sync_to_async(services.set_limit)(player=player, kind="deposit", period="24h", amount=8_000)
    api = await database_sync_to_async(api_of)(player)
    socket = await open_socket(player)

    answer = await database_sync_to_async(api.post)(
        DEPOSITS, {"amount": 9_000, "currency": "EUR", "provider": "sandbox"}, format="json",
        headers={"Idempotency-Key": "key-1"},
    )  # fmt: skip

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "LIMIT_REACHED"
    assert await socket.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "limit_reached", "message": error["message"],
        "data": {"kind": "deposit", "period": "24h", "amount": 8_000, "remaining": 8_000},
    }  # fmt: skip
    assert await socket.receive_nothing(timeout=0.3)
    assert not await database_sync_to_async(DepositIntent.objects.exists)()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_stake_that_would_use_a_limit_up_but_is_rolled_back_tells_nothing():
    """The balance refuses it after compliance found the exact use: nothing commits, no notice."""
    player = await database_sync_to_async(funded_player)(50)
    await database_sync_to_async(limit)(player, "loss", "24h", 100)
    socket = await open_socket(player)

    with pytest.raises(InsufficientFunds):
        await database_sync_to_async(lambda: bet(fresh(player), 100))()

    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


# --- the refusal's answer, and what else refuses ---------------------------------------------------


@pytest.fixture
def provider():
    return games.save_provider(code=PROVIDER, secret=SECRET)


@pytest.mark.django_db
def test_the_refusals_answer_is_the_same_when_the_backplane_is_down(client, provider, monkeypatch):
    player = funded_player(1_000)
    limit(player, "wager", "24h", 100)
    up = call(client, "bet", money_body(player, 101, tx="tx-1"))
    failures = push.failures

    def backplane_down(messages):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(push, "push", backplane_down)
    down = call(client, "bet", money_body(player, 101, tx="tx-2"))

    assert (down.status_code, down.json()) == (up.status_code, up.json())
    assert down.status_code == 403
    assert down.json()["error"]["limit"] == {"kind": "wager", "period": "24h", "amount": 100, "remaining": 100}
    assert push.failures == failures + 1
    assert call(client, "bet", money_body(player, 100, tx="tx-3")).status_code == 200


@pytest.mark.django_db
def test_a_sportsbook_bet_over_a_limit_is_told_as_a_casino_bet_is(refusals):
    from apps.sportsbook.tests.factories import BETS, a_match, slip

    player = funded_player(10_000)
    api = api_of(player)
    a_match()
    limit(player, "wager", "24h", 500)

    response = api.post(
        BETS, slip(("mk-1-home", "3.10", 1), stake=501), format="json", headers={"Idempotency-Key": "k"}
    )

    assert response.status_code == 403
    assert refusals == [
        {"player_id": str(player.pk), "message": response.json()["error"]["message"],
         "data": {"kind": "wager", "period": "24h", "amount": 500, "remaining": 500}},
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_session_time_limit_is_told_with_the_sessions_start_at_a_bet_and_at_a_launch(clock, refusals):
    player = funded_player(10_000)
    services.start_play_session(player=player)
    limit(player, "session", None, 60)
    clock.move_to(START + dt.timedelta(minutes=60))

    with pytest.raises(LimitReached) as refused:
        bet(fresh(player), 100)
    with pytest.raises(LimitReached):
        games.launch(player=fresh(player), game=a_game())

    data = {"kind": "session", "period": "", "amount": 60, "remaining": 0, "started_at": "2026-03-02T12:00:00Z"}
    expected = {"player_id": str(player.pk), "message": "The session time limit of 60 minutes has been reached.",
                "data": data}  # fmt: skip
    assert refusals == [expected, expected]
    assert refused.value.details["limit"] == {"kind": "session", "period": "", "amount": 60, "remaining": 0}


@pytest.mark.django_db
def test_a_reality_check_awaiting_its_answer_is_not_a_limit_reached(clock, refusals, committed):
    """Its own notice told the player already; the pause is not a limit."""
    player = funded_player(10_000)
    services.start_play_session(player=player)
    services.set_reality_check_interval(player=player, minutes=30)
    clock.move_to(START + dt.timedelta(minutes=30))
    with committed():
        bet(fresh(player), 100)  # sends the check

    with pytest.raises(RealityCheckPending):
        bet(fresh(player), 100)

    assert refusals == []


@pytest.mark.django_db
def test_a_bet_within_the_limit_and_a_launch_at_its_exact_use_tell_nothing(notices, refusals, committed):
    player = funded_player(1_000)
    limit(player, "wager", "24h", 100)

    with committed():
        bet(fresh(player), 99)  # 1 left: the launch's smallest stake would use it up, but stakes nothing
        games.launch(player=fresh(player), game=a_game())

    assert (notices, refusals) == ([], [])


@pytest.mark.django_db
def test_a_stake_that_uses_a_loss_limit_up_tells_once_after_commit(notices, refusals, committed):
    player = funded_player(1_000)
    limit(player, "loss", "24h", 100)
    limit(player, "wager", "7d", 500)

    with committed():
        bet(fresh(player), 100)

    assert refusals == []
    assert [{key: notice[key] for key in ("player_id", "kind", "message", "data")} for notice in notices] == [
        {"player_id": str(player.pk), "kind": "limit_reached",
         "message": "The 24h loss limit of 1.00 EUR is used up (nothing left).",
         "data": {"kind": "loss", "period": "24h", "amount": 100, "remaining": 0}},
    ]  # fmt: skip
