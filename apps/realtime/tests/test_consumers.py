"""The WebSocket consumers on a real Redis channel layer, against pam.asgi.application."""

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.models import User
from apps.accounts.tests.factories import make_player, make_staff
from apps.common import events
from apps.common.idempotency import ExternalRef
from apps.realtime import protocol, push, services
from apps.realtime.groups import BACKOFFICE_FEED, player_group
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


async def test_nothing_is_sent_for_a_transaction_rolled_back_after_its_ledger_write(monkeypatch):
    """The event is written and its after-commit send registered, then the transaction fails:
    the rollback discards both, and the socket gets nothing."""
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)  # hello
    real_dispatch_on_commit = events.dispatch_on_commit

    def register_then_fail(event_id, signal, payload):
        real_dispatch_on_commit(event_id, signal, payload)
        raise RuntimeError("the transaction fails after the ledger write")

    monkeypatch.setattr(events, "dispatch_on_commit", register_then_fail)
    with pytest.raises(RuntimeError):
        await bet(player, 100)
    monkeypatch.setattr(events, "dispatch_on_commit", real_dispatch_on_commit)
    await bet(player, 50)

    frame = await communicator.receive_json_from(timeout=5)
    assert (frame["version"], frame["balance"], frame["transaction"]["amount"]) == (2, 950, -50)
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


async def test_heartbeat_carries_the_current_version(settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 0.2
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)
    assert await communicator.receive_json_from(timeout=5) == {"type": "heartbeat", "version": 1}
    await communicator.disconnect()


async def test_idle_sockets_hold_no_task_beside_their_application_and_still_get_frames(settings):
    """What keeps an idle socket small (docs/architecture.md): one channel-layer receive loop per
    process (mailroom.py) and the next beat as a timer, not tasks and queues per socket."""
    settings.REALTIME_HEARTBEAT_SECONDS = 0.5
    players = [await funded_player(1000, username=f"idle{n}") for n in range(3)]
    await asyncio.sleep(0.2)  # the funding pushes' drain ends
    before = len(asyncio.all_tasks())
    sockets = []
    for player in players:
        communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
        await communicator.receive_json_from(timeout=5)  # hello
        sockets.append(communicator)

    # each socket's application, and the process's mailroom (its guard, its reader and its probe)
    assert len(asyncio.all_tasks()) - before == len(sockets) + 3
    for communicator in sockets:
        assert await communicator.receive_json_from(timeout=5) == {"type": "heartbeat", "version": 1}
    await bet(players[1], 10)
    frame = await sockets[1].receive_json_from(timeout=5)
    while frame["type"] == "heartbeat":
        frame = await sockets[1].receive_json_from(timeout=5)
    assert (frame["type"], frame["version"]) == ("wallet.updated", 2)
    for communicator in sockets:
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


async def test_backoffice_feed_refuses_staff_without_the_permission_4403():
    roleless = await database_sync_to_async(User.objects.create_user)(username="roleless", is_staff=True)
    communicator, _ = await connect("/ws/backoffice/", await session_cookie(roleless))
    await assert_closed_with(communicator, 4403)


async def test_a_malformed_resume_gets_a_notice_and_the_socket_stays_open():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)
    for since in (-1, "3", True, None):
        await communicator.send_json_to({"type": "resume", "since_version": since})
        frame = await communicator.receive_json_from(timeout=5)
        assert (frame["type"], frame["kind"]) == ("notice", "invalid_request")
    await bet(player, 10)
    assert (await communicator.receive_json_from(timeout=5))["version"] == 2
    await communicator.disconnect()


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


async def drop_every_group() -> None:
    """What a Redis that restarted empty looks like to the consumers: no group knows them."""
    layer = get_channel_layer()
    connection = layer.connection(0)
    keys = await connection.keys(f"{layer.prefix}:group:*")
    if keys:
        await connection.delete(*keys)


async def rejoined(group: str) -> None:
    layer = get_channel_layer()
    async with asyncio.timeout(10):
        while not await layer.connection(0).exists(layer._group_key(group)):
            await asyncio.sleep(0.05)


async def test_each_heartbeat_rejoins_the_group_so_live_frames_resume_after_redis_forgot_it(settings):
    # Long enough for the drop and the bet to happen before the first beat (which re-joins).
    settings.REALTIME_HEARTBEAT_SECONDS = 2
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)  # hello
    await drop_every_group()
    await bet(player, 100)  # pushed to a group nobody is in: lost on the backplane

    # The next heartbeat shows the gap (resume fills it from the ledger), and re-joins the group.
    beat = await communicator.receive_json_from(timeout=5)
    assert beat == {"type": "heartbeat", "version": 2}
    await communicator.send_json_to({"type": "resume", "since_version": 1})
    replayed = await communicator.receive_json_from(timeout=5)
    while replayed["type"] == "heartbeat":
        replayed = await communicator.receive_json_from(timeout=5)
    assert (replayed["type"], replayed["version"], replayed["balance"]) == ("wallet.updated", 2, 900)
    await rejoined(player_group(player.pk))  # right after that beat

    await bet(player, 200)  # live again
    live = await communicator.receive_json_from(timeout=5)
    while live["type"] == "heartbeat":
        live = await communicator.receive_json_from(timeout=5)
    assert (live["type"], live["version"], live["balance"]) == ("wallet.updated", 3, 700)
    await communicator.disconnect()


async def test_when_redis_forgot_the_process_every_socket_rejoins_and_beats_at_once(settings):
    """A Redis that lost its data without the receive loop seeing an error (flushed, or a restart
    between two reads) is noticed by the mailroom's probe: the sockets re-join and get a heartbeat
    at once, not at their next beat, and the next frame arrives live."""
    settings.REALTIME_HEARTBEAT_SECONDS = 120  # no beat within the test: only the probe re-joins
    player, other = await funded_player(1000), await funded_player(500, username="wsother")
    sockets = []
    for someone in (player, other):
        communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(someone)}")
        assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
        sockets.append(communicator)
    layer = get_channel_layer()
    with contextlib.suppress(TimeoutError):  # the mailroom's first probe has marked the process
        async with asyncio.timeout(5):
            while not await layer.connection(0).exists(f"{layer.prefix}:mailroom:{layer.client_prefix}"):
                await asyncio.sleep(0.05)

    await forget_everything()

    await rejoined(player_group(player.pk))
    await rejoined(player_group(other.pk))
    assert await sockets[0].receive_json_from(timeout=5) == {"type": "heartbeat", "version": 1}
    assert await sockets[1].receive_json_from(timeout=5) == {"type": "heartbeat", "version": 1}
    await bet(player, 100)
    live = await sockets[0].receive_json_from(timeout=5)
    assert (live["type"], live["version"], live["balance"]) == ("wallet.updated", 2, 900)
    assert await sockets[1].receive_nothing(timeout=0.3)
    for communicator in sockets:
        await communicator.disconnect()


async def forget_everything() -> None:
    """Every key of this run's channel layer deleted, as a Redis restarted empty has none."""
    layer = get_channel_layer()
    connection = layer.connection(0)
    keys = await connection.keys(f"{layer.prefix}*")
    assert keys
    await connection.delete(*keys)


async def test_a_socket_opened_while_redis_is_down_is_served_from_the_ledger(settings):
    """No backplane at connect: the socket is still accepted, with hello and heartbeats read from
    the database (the client converges by `resume`), instead of failing the handshake."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]},
        }
    }
    settings.REALTIME_HEARTBEAT_SECONDS = 0.3
    player = await funded_player(1000)
    communicator, connected = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    await bet(player, 100)  # its push fails: Redis is down
    assert await communicator.receive_json_from(timeout=5) == {"type": "heartbeat", "version": 2}
    await communicator.send_json_to({"type": "resume", "since_version": 1})
    frame = await communicator.receive_json_from(timeout=5)
    while frame["type"] == "heartbeat":
        frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["version"], frame["balance"]) == ("wallet.updated", 2, 900)
    await communicator.disconnect()


# --- notices and server-side disconnects (services.notify_player, services.disconnect_player) ----


async def test_notify_player_sends_a_notice_to_every_socket_of_the_player_and_keeps_them_open():
    player = await funded_player(1000)
    other = await funded_player(1000, username="someoneelse")
    sockets = [(await connect(f"/ws/player/?ticket={await ticket_for(player)}"))[0] for _ in range(2)]
    bystander, _ = await connect(f"/ws/player/?ticket={await ticket_for(other)}")
    for communicator in (*sockets, bystander):
        await communicator.receive_json_from(timeout=5)  # hello

    await database_sync_to_async(services.notify_player)(
        player.pk, kind="reality_check", message="You have played for an hour.", data={"minutes": 60}
    )

    for communicator in sockets:
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notice", "kind": "reality_check", "message": "You have played for an hour.",
            "data": {"minutes": 60},
        }  # fmt: skip
    assert await bystander.receive_nothing(timeout=0.3)
    await bet(player, 10)  # still open and live
    for communicator in sockets:
        assert (await communicator.receive_json_from(timeout=5))["version"] == 2
        await communicator.disconnect()
    await bystander.disconnect()


async def test_disconnect_player_sends_the_notice_then_closes_every_socket_of_the_player():
    player = await funded_player(1000)
    other = await funded_player(1000, username="stays")
    sockets = [(await connect(f"/ws/player/?ticket={await ticket_for(player)}"))[0] for _ in range(2)]
    bystander, _ = await connect(f"/ws/player/?ticket={await ticket_for(other)}")
    for communicator in (*sockets, bystander):
        await communicator.receive_json_from(timeout=5)  # hello

    await database_sync_to_async(services.disconnect_player)(
        player.pk, kind="account_locked", message="You have excluded yourself.", data={"until": None}
    )

    for communicator in sockets:
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notice", "kind": "account_locked", "message": "You have excluded yourself.",
            "data": {"until": None},
        }  # fmt: skip
        await assert_closed_with(communicator, 4403)
    assert await bystander.receive_nothing(timeout=0.3)
    await bystander.disconnect()


async def test_disconnect_player_with_another_code_and_no_data():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)

    await database_sync_to_async(services.disconnect_player)(
        player.pk, kind="session_ended", message="Signed out.", code=4401
    )

    assert await communicator.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "session_ended", "message": "Signed out.", "data": {},
    }  # fmt: skip
    await assert_closed_with(communicator, 4401)


async def test_a_disconnect_decided_in_a_rolled_back_transaction_sends_nothing():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)

    @database_sync_to_async
    def decide_then_roll_back():
        with transaction.atomic():
            services.disconnect_player(player.pk, kind="account_locked", message="no")
            services.notify_player(player.pk, kind="limit_reached", message="no")
            transaction.set_rollback(True)

    await decide_then_roll_back()
    assert await communicator.receive_nothing(timeout=0.5)
    await bet(player, 10)
    assert (await communicator.receive_json_from(timeout=5))["version"] == 2
    await communicator.disconnect()


def test_notices_and_disconnects_never_raise_when_redis_is_down(settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    before = push.failures

    services.notify_player(1, kind="bonus_granted", message="A bonus.")
    services.disconnect_player(1, kind="account_locked", message="Locked.")

    assert push.failures == before + 2


async def test_the_backoffice_feed_rejoins_after_redis_forgot_it(settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 0.3
    staff = await database_sync_to_async(make_staff)(StaffRole.SUPPORT)
    feed, _ = await connect("/ws/backoffice/", await session_cookie(staff))
    await drop_every_group()
    await rejoined(BACKOFFICE_FEED)  # on a beat
    player = await funded_player(1000)
    frame = await feed.receive_json_from(timeout=5)
    assert (frame["player_id"], frame["version"]) == (str(player.pk), 1)
    await feed.disconnect()


async def test_an_idle_socket_outlives_the_layers_blocking_receive(settings):
    """channels-redis blocks 5 s per receive; a read timeout at or below that (redis-py 8's
    default) ended every idle consumer after about 5 s. The socket stays open and live."""
    settings.REALTIME_HEARTBEAT_SECONDS = 1
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)  # hello
    loop = asyncio.get_running_loop()
    idle_until = loop.time() + 7  # past one blocking receive, with margin
    while loop.time() < idle_until:
        message = await communicator.receive_output(timeout=5)
        assert message["type"] == "websocket.send", message  # a close would end the test here
    await bet(player, 10)
    frame = await communicator.receive_json_from(timeout=5)
    while frame["type"] == "heartbeat":
        frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["version"]) == ("wallet.updated", 2)
    await communicator.disconnect()


async def test_a_settled_sportsbook_bet_reaches_the_players_socket(settings):
    """Through the player's socket, not a stand-in for the push: a won single's win comes as its
    `wallet.updated` frame and right after it its `bet_settled` notice; a lost single's notice
    comes alone, in the losing bets' own event."""
    from decimal import Decimal

    from apps.sportsbook import intake
    from apps.sportsbook import services as sportsbook
    from apps.sportsbook.tests.factories import a_match, result, send

    settings.REALTIME_HEARTBEAT_SECONDS = 25
    player = await funded_player(5_000)
    seq = await database_sync_to_async(a_match)(delay=0)

    @database_sync_to_async
    def single(selection_id: str, price: str, key: str):
        return sportsbook.place_bet(
            player=player, idempotency_key=key, stake=1_000, currency="EUR",
            legs=[intake.LegRequest(selection_id, Decimal(price), 1)], accept_price_changes="none",
        ).bet  # fmt: skip

    won, lost = await single("mk-1-home", "3.10", "k1"), await single("mk-1-draw", "3.20", "k2")
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    hello = await communicator.receive_json_from(timeout=5)
    assert (hello["type"], hello["balance"]) == ("hello", 3_000)

    await database_sync_to_async(send)(result(seq, winners=["mk-1-home"]))  # settled in the committing thread

    frames = []
    while sum(frame["type"] == "notice" for frame in frames) < 2:
        frame = await communicator.receive_json_from(timeout=10)
        if frame["type"] != "heartbeat":
            frames.append(frame)
    assert sorted(frame["type"] for frame in frames) == ["notice", "notice", "wallet.updated"]
    notices = {frame["data"]["bet_id"]: (frame["kind"], frame["data"]["status"], frame["data"]["payout"])
               for frame in frames if frame["type"] == "notice"}  # fmt: skip
    assert notices == {won.public_id: ("bet_settled", "won", 3_100), lost.public_id: ("bet_settled", "lost", 0)}
    win_at = next(n for n, frame in enumerate(frames) if frame["type"] == "wallet.updated")
    assert (frames[win_at]["transaction"]["kind"], frames[win_at]["balance"]) == ("win", 6_100)
    assert frames[win_at + 1]["data"]["bet_id"] == won.public_id  # the won bet's notice right after its win
    await communicator.disconnect()


# --- wallet frames in version order -------------------------------------------------------------


async def bets_unpushed(player, amounts: list[int]) -> list[dict]:
    """Bets whose live frames are kept back (the test sends them itself, in its own order): the
    wallet frames they would have pushed to the player, by version."""
    kept: list[dict] = []
    group = player_group(player.pk)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "apps.realtime.receivers.push", lambda messages: kept.extend(m for g, m in messages if g == group)
        )
        for amount in amounts:
            await bet(player, amount)
    return sorted((m for m in kept if m["type"] == "wallet.updated"), key=lambda m: m["frame"]["version"])


async def send_live(player, *messages: dict) -> None:
    layer = get_channel_layer()
    for message in messages:
        await layer.group_send(player_group(player.pk), message)


async def versions_received(communicator, count: int) -> list[int]:
    return [(await communicator.receive_json_from(timeout=5))["version"] for _ in range(count)]


async def test_live_frames_that_come_out_of_order_reach_the_player_in_version_order():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    assert (await communicator.receive_json_from(timeout=5))["version"] == 1
    v2, v3, v4, v5 = await bets_unpushed(player, [10, 20, 30, 40])

    await send_live(player, v4, v3, v2, v5)

    frames = [await communicator.receive_json_from(timeout=5) for _ in range(4)]
    assert frames == [v2["frame"], v3["frame"], v4["frame"], v5["frame"]]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_frame_missing_before_a_live_one_is_read_from_the_ledger_and_sent_first():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)  # hello, version 1
    v2, v3, v4 = await bets_unpushed(player, [10, 20, 30])

    await send_live(player, v4)  # 2 and 3 never come live (lost on the backplane)

    frames = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    assert frames == [v2["frame"], v3["frame"], v4["frame"]]
    await send_live(player, v3, v2)  # late: sent already
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_live_frame_the_player_has_is_not_sent_again():
    player = await funded_player(1000)
    (v2,) = await bets_unpushed(player, [10])
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    assert (await communicator.receive_json_from(timeout=5))["version"] == 2  # hello

    await send_live(player, v2)

    assert await communicator.receive_nothing(timeout=0.3)
    await bet(player, 5)
    assert await versions_received(communicator, 1) == [3]
    await communicator.disconnect()


async def test_a_resume_fills_a_gap_and_the_held_frames_follow_it(monkeypatch):
    monkeypatch.setattr("apps.realtime.consumers.GAP_WAIT_SECONDS", 30)  # only the resume fills it
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)
    _, v3 = await bets_unpushed(player, [10, 20])
    await send_live(player, v3)
    assert await communicator.receive_nothing(timeout=0.2)

    await communicator.send_json_to({"type": "resume", "since_version": 1})

    assert await versions_received(communicator, 2) == [2, 3]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_the_movement_that_closes_the_account_reaches_the_socket_before_the_close():
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)
    (v2,) = await bets_unpushed(player, [10])  # its live frame comes after the close

    await database_sync_to_async(services.disconnect_player)(player.pk, kind="account_locked", message="Locked.")

    frame = await communicator.receive_json_from(timeout=5)
    assert frame == v2["frame"]
    assert (await communicator.receive_json_from(timeout=5))["kind"] == "account_locked"
    await assert_closed_with(communicator, 4403)


@pytest.mark.parametrize("sent", [{"bytes": b"\x00\x01"}, {"text": ""}, {"text": "not json"}])
async def test_a_message_that_is_not_json_text_gets_a_notice_and_the_socket_stays_open(sent):
    player = await funded_player(1000)
    communicator, _ = await connect(f"/ws/player/?ticket={await ticket_for(player)}")
    await communicator.receive_json_from(timeout=5)

    await communicator.send_input({"type": "websocket.receive", **sent})

    frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["kind"]) == ("notice", "invalid_request")
    await bet(player, 10)
    assert await versions_received(communicator, 1) == [2]
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/player", "/ws/player/extra/"])
async def test_a_socket_path_nothing_serves_is_refused_at_the_handshake(path):
    communicator = WebsocketCommunicator(application, path)

    connected, code = await communicator.connect(timeout=5)

    assert (connected, code) == (False, 4404)
