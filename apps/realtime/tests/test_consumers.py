"""The WebSocket consumers on a real Redis channel layer, against pam.asgi.application."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.common.idempotency import ExternalRef
from apps.realtime import protocol, push, services
from apps.wallet import services as wallet
from apps.wallet.errors import InsufficientFunds
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
_refs = iter(range(10**6))


def a_ref() -> ExternalRef:
    n = next(_refs)
    return ExternalRef("provider:ws-test", f"tx-{n}", f"fp-{n}")


@database_sync_to_async
def funded_player(amount: int, username: str = "wsplayer"):
    player = make_player(username=username)
    wallet.adjust_balance(player_id=player.pk, amount=amount, reason="test funds", acting_user=None)
    return player


@database_sync_to_async
def bet(player, amount: int):
    return wallet.place_bet(
        player_id=player.pk, currency="EUR", amount=amount, ref=a_ref(), round_id="r1", game_id="slot-1"
    )


@database_sync_to_async
def ticket_for(player) -> str:
    return services.issue_ticket(player=player)


@database_sync_to_async
def session_cookie(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())
    ]


async def connect(path: str, headers=None) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def assert_closed_with(communicator: WebsocketCommunicator, code: int) -> None:
    message = await communicator.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": code}


async def test_hello_by_ticket_carries_the_current_state():
    player = await funded_player(1000)
    communicator, connected = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    assert connected
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "hello", "player_id": str(player.pk), "version": 1, "balance": 1000, "cash": 1000, "bonus": 0,
        "currency": "EUR",
    }  # fmt: skip
    await communicator.disconnect()


async def test_hello_by_session_cookie():
    player = await funded_player(500)
    communicator, connected = await connect("/ws/player/", await session_cookie(player.user))
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["balance"] == 500
    await communicator.disconnect()


async def test_frames_arrive_in_version_order_after_commit_and_nothing_for_a_refused_bet():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)  # hello

    first, second = await bet(player, 100), await bet(player, 250)
    with pytest.raises(InsufficientFunds):
        await bet(player, 10_000)  # rolled back: no frame

    frames = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [f["version"] for f in frames] == [2, 3]
    assert frames[1] == {
        "type": "wallet.updated", "version": 3, "balance": 650, "cash": 650, "bonus": 0, "currency": "EUR",
        "transaction": {"id": second.transaction_id, "kind": "bet", "amount": -250, "game_id": "slot-1",
                        "created_at": frames[1]["transaction"]["created_at"]},
    }  # fmt: skip
    assert frames[0]["transaction"]["id"] == first.transaction_id
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_resume_replays_missed_frames_from_the_ledger():
    player = await funded_player(1000)
    for amount in (10, 20, 30):
        await bet(player, amount)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    assert (await communicator.receive_json_from(timeout=5))["version"] == 4

    await communicator.send_json_to({"type": "resume", "since_version": 2})

    frames = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [(f["type"], f["version"], f["transaction"]["amount"], f["balance"]) for f in frames] == [
        ("wallet.updated", 3, -20, 970),
        ("wallet.updated", 4, -30, 940),
    ]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_resume_past_the_limit_gets_one_resync(monkeypatch):
    monkeypatch.setattr(protocol, "RESYNC_AFTER", 2)
    player = await funded_player(1000)
    for amount in (10, 20, 30):
        await bet(player, amount)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)

    await communicator.send_json_to({"type": "resume", "since_version": 0})

    assert await communicator.receive_json_from(timeout=5) == {
        "type": "resync", "version": 4, "balance": 940, "cash": 940, "bonus": 0, "currency": "EUR",
        "reason": "gap_too_old",
    }  # fmt: skip
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_heartbeat_carries_the_current_version(monkeypatch):
    monkeypatch.setattr(protocol, "HEARTBEAT_SECONDS", 0.2)
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)
    assert await communicator.receive_json_from(timeout=5) == {"type": "heartbeat", "version": 1}
    await communicator.disconnect()


async def test_no_credentials_is_4401():
    communicator, _ = await connect("/ws/player/")
    await assert_closed_with(communicator, 4401)


async def test_a_ticket_works_once():
    player = await funded_player(1000)
    ticket = await ticket_for(player)
    first, connected = await connect(f"/ws/player/?ticket={ticket}")
    assert connected
    await first.disconnect()
    second, _ = await connect(f"/ws/player/?ticket={ticket}")
    await assert_closed_with(second, 4401)


async def test_staff_session_on_the_player_socket_is_4403():
    staff = await database_sync_to_async(make_staff)(StaffRole.SUPPORT)
    communicator, _ = await connect("/ws/player/", await session_cookie(staff))
    await assert_closed_with(communicator, 4403)


async def test_backoffice_feed_sees_every_players_frames():
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    feed, connected = await connect("/ws/backoffice/", await session_cookie(staff))
    assert connected
    player = await funded_player(1000)
    assert (await feed.receive_json_from(timeout=5))["version"] == 1  # the funding adjustment
    await bet(player, 75)
    frame = await feed.receive_json_from(timeout=5)
    assert (frame["player_id"], frame["version"], frame["transaction"]["amount"]) == (str(player.pk), 2, -75)
    await feed.disconnect()


async def test_backoffice_feed_refuses_anonymous_4401_and_players_4403():
    anonymous, _ = await connect("/ws/backoffice/")
    await assert_closed_with(anonymous, 4401)
    player = await funded_player(10)
    as_player, _ = await connect("/ws/backoffice/", await session_cookie(player.user))
    await assert_closed_with(as_player, 4403)


def test_a_failed_push_never_fails_the_money_movement(settings, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    player = make_player(username="offline")
    before = push.failures

    posted = wallet.adjust_balance(player_id=player.pk, amount=300, reason="while redis is down", acting_user=None)

    assert (posted.balance, posted.version) == (300, 1)
    assert push.failures == before + 1
