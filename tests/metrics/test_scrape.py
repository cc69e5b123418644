"""A scrape of /metrics after the real thing: a bet through the signed wallet API, a player's and a
staff member's WebSocket, PSP webhooks (docs/metrics.md). Each figure is read from the scrape
before and after, since the process's counters are shared by every test of the run."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.common.tests.scrape import scrape, value
from apps.games import services as games
from apps.payments.choices import EventType
from apps.payments.tests.factories import a_provider, event, post_webhook, start_deposit, verified_player
from apps.realtime import services as realtime
from apps.wallet import services as wallet
from apps.wallet.tests.test_api_wallet import PROVIDER, SECRET, call, money_body
from pam.asgi import application

BETS = "pam_wallet_transactions_total"
PUSHES = "pam_realtime_push_latency_seconds_count"
SOCKETS = "pam_realtime_open_sockets"
WEBHOOKS = "pam_payments_webhooks_total"


def eventually(read, expected, timeout: float = 5.0):
    """`read()` once it equals `expected` (a push handed to a server loop is sent a moment later),
    or its last value, for the assertion to show."""
    deadline = time.monotonic() + timeout
    while (found := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bet_through_the_wallet_api_is_counted_and_its_push_timed():
    client = Client()
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = make_player(currency="EUR")
    wallet.adjust_balance(player_id=player.pk, amount=1_000, reason="test set-up", acting_user=None)
    before = scrape(client)

    answer = call(client, "bet", money_body(player, 100, tx="metrics-bet-1"))
    replay = call(client, "bet", money_body(player, 100, tx="metrics-bet-1"))  # answered from the ledger

    assert (answer.status_code, replay.status_code) == (200, 200)
    after = scrape(client)
    assert value(after, BETS, kind="bet") == value(before, BETS, kind="bet") + 1  # one bet committed
    assert value(after, BETS, kind="win") == value(before, BETS, kind="win")
    requests = {"name": "pam_http_request_duration_seconds_count", "route": "wallet-bet", "method": "POST"}
    assert value(after, **requests, status="2xx") == value(before, **requests, status="2xx") + 2
    pushes = eventually(lambda: value(scrape(client), PUSHES), value(before, PUSHES) + 1)
    assert pushes == value(before, PUSHES) + 1
    assert value(scrape(client), "pam_realtime_push_latency_seconds_sum") > value(
        before, "pam_realtime_push_latency_seconds_sum"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_kind_of_transaction_is_there_from_the_start_at_its_count():
    samples = scrape(Client())

    kinds = {dict(labels)["kind"] for name, labels in samples if name == BETS}
    assert {"bet", "win", "rollback", "deposit", "withdrawal"} <= kinds


def _open_sockets(kind: str) -> float:
    return value(scrape(Client()), SOCKETS, socket=kind)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_open_sockets_count_up_on_accept_and_down_on_disconnect():
    read = database_sync_to_async(_open_sockets)
    player = await database_sync_to_async(make_player)(username="metricsplayer")
    ticket = await database_sync_to_async(realtime.issue_ticket)(player=player)
    staff = await database_sync_to_async(make_staff)(StaffRole.ADMIN)
    cookie = await database_sync_to_async(_session_cookie)(staff)
    players, backoffice = await read("player"), await read("backoffice")

    player_socket = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")
    staff_socket = WebsocketCommunicator(application, "/ws/backoffice/", headers=cookie)
    assert (await player_socket.connect(timeout=5))[0]
    assert (await staff_socket.connect(timeout=5))[0]
    assert (await read("player"), await read("backoffice")) == (players + 1, backoffice + 1)

    await player_socket.disconnect()
    assert (await read("player"), await read("backoffice")) == (players, backoffice + 1)
    await staff_socket.disconnect()
    assert (await read("player"), await read("backoffice")) == (players, backoffice)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_refused_socket_is_not_counted_open():
    read = database_sync_to_async(_open_sockets)
    players = await read("player")

    refused = WebsocketCommunicator(application, "/ws/player/")  # no ticket, no session
    connected, _ = await refused.connect(timeout=5)
    assert connected  # accepted only to be closed with 4401
    assert await refused.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}

    assert await read("player") == players
    await refused.wait(timeout=5)
    assert await read("player") == players


def _session_cookie(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]


@pytest.mark.django_db
def test_webhooks_are_counted_by_provider_and_verdict(client):
    a_provider()
    deposit = start_deposit(verified_player(), 5_000)
    body = event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)
    before = scrape(client)

    assert post_webhook(body).json() == {"status": "applied"}
    assert post_webhook(body).json() == {"status": "duplicate"}
    assert post_webhook(body, secret="not-the-secret-0123456789").status_code == 401
    assert post_webhook(body, provider="nobody-4711").status_code == 401

    after = scrape(client)

    def counted(provider: str, verdict: str) -> float:
        return value(after, WEBHOOKS, provider=provider, verdict=verdict) - value(
            before, WEBHOOKS, provider=provider, verdict=verdict
        )

    assert [counted("sandbox", verdict) for verdict in ("applied", "duplicate", "refused", "ignored")] == [1, 1, 1, 0]
    assert counted("(unknown)", "refused") == 1  # the name it gave is not a label: anyone can send one
    assert not [labels for name, labels in after if name == WEBHOOKS and ("provider", "nobody-4711") in labels]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_push_the_channel_layer_refused_is_counted_lost_not_timed(settings):
    client = Client()
    player = make_player(username="metricsoffline")
    before = scrape(client)
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }

    wallet.adjust_balance(player_id=player.pk, amount=300, reason="while redis is down", acting_user=None)

    after = scrape(client)
    lost = "pam_realtime_push_failures_total"
    assert value(after, lost) == value(before, lost) + 1
    assert value(after, PUSHES) == value(before, PUSHES)
    assert value(after, BETS, kind="adjustment") == value(before, BETS, kind="adjustment") + 1
