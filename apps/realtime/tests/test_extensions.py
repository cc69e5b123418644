"""What other apps add to a player's socket goes through the real-time app's extension point and
its receivers, on a real Redis channel layer: compliance's events become notices and closed
sockets here, and an extension's refusal and timers run in their fixed order."""

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from apps.accounts.tests.factories import make_player
from apps.common.events import send_after_commit
from apps.compliance import signals as compliance
from apps.compliance import sockets as compliance_sockets
from apps.realtime import extensions, services
from apps.realtime.extensions import Notice, PlayerSocketExtension
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def open_socket(player) -> WebsocketCommunicator:
    ticket = await database_sync_to_async(services.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.fixture
def registered():
    """Register extensions for one test; compliance's, registered at start-up, stays."""
    names = []

    def register(extension: PlayerSocketExtension) -> PlayerSocketExtension:
        extensions.register(extension)
        names.append(extension.name)
        return extension

    yield register
    for name in names:
        extensions.unregister(name)


# --- compliance's events, received here -----------------------------------------------------------


def test_compliance_plugs_into_the_player_socket_at_start_up():
    assert compliance_sockets.PLAYER_SOCKET in extensions.player_socket_extensions()


async def test_a_player_notice_event_is_a_notice_on_every_socket_of_the_player_after_commit():
    player = await database_sync_to_async(make_player)(username="noticed")
    socket = await open_socket(player)
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"

    await database_sync_to_async(send_after_commit)(
        compliance.player_notice, player_id=str(player.pk), kind="reality_check", message="An hour.",
        data={"minutes_played": 60},
    )  # fmt: skip

    assert await socket.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "reality_check", "message": "An hour.", "data": {"minutes_played": 60},
    }  # fmt: skip
    assert await socket.receive_nothing(timeout=0.2)  # a notice leaves the socket open
    await socket.disconnect()


async def test_a_player_notice_recorded_before_notices_carried_their_data_is_the_same_notice():
    """The outbox sweeper may re-send an event stored with the former payload (`reason`)."""
    player = await database_sync_to_async(make_player)(username="oldevent")
    socket = await open_socket(player)
    await socket.receive_json_from(timeout=5)  # hello

    await database_sync_to_async(compliance.player_notice.send)(
        sender=None, player_id=str(player.pk), reason="kyc_required", message="Verify.", event_id=None
    )

    assert await socket.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "account_locked", "message": "Verify.", "data": {"reason": "kyc_required"},
    }  # fmt: skip
    await socket.disconnect()


async def test_an_account_locked_event_sends_the_notice_then_closes_the_players_sockets():
    player = await database_sync_to_async(make_player)(username="locked")
    socket = await open_socket(player)
    await socket.receive_json_from(timeout=5)  # hello

    await database_sync_to_async(send_after_commit)(
        compliance.account_locked, player_id=str(player.pk), message="Excluded.", data={"reason": "time_out"}
    )

    assert await socket.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "account_locked", "message": "Excluded.", "data": {"reason": "time_out"},
    }  # fmt: skip
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


# --- the extension point ------------------------------------------------------------------------------


async def test_the_first_refusal_in_order_is_sent_instead_of_hello_then_the_socket_closes(registered):
    asked = []

    def refuse(name):
        def refusal(player):
            asked.append(name)
            return Notice("account_locked", f"refused by {name}", {"by": name})

        return refusal

    registered(PlayerSocketExtension(name="test-late", order=900, refusal=refuse("test-late")))
    registered(PlayerSocketExtension(name="test-early", order=1, refusal=refuse("test-early")))
    player = await database_sync_to_async(make_player)(username="refused")

    socket = await open_socket(player)

    assert await socket.receive_json_from(timeout=5) == {
        "type": "notice", "kind": "account_locked", "message": "refused by test-early", "data": {"by": "test-early"},
    }  # fmt: skip
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert asked == ["test-early"]  # the later ones are not asked


async def test_a_timer_runs_its_callable_when_due_and_again_at_the_due_time_it_returns(registered):
    fired = []
    first = timezone.now() + dt.timedelta(milliseconds=200)

    def when_due(player_id, due_at):
        fired.append((player_id, due_at))
        return due_at + dt.timedelta(milliseconds=200) if len(fired) < 2 else None  # twice, then stop

    registered(PlayerSocketExtension(name="test-timer", first_due=lambda player: first, when_due=when_due))
    player = await database_sync_to_async(make_player)(username="timed")

    socket = await open_socket(player)
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    for _ in range(100):  # bounded: 5 s at most
        if len(fired) == 2:
            break
        await asyncio.sleep(0.05)

    assert fired == [(player.pk, first), (player.pk, first + dt.timedelta(milliseconds=200))]
    await socket.disconnect()


async def test_a_timer_whose_callable_raises_stops_and_the_socket_stays_open(registered):
    calls = []

    def when_due(player_id, due_at):
        calls.append(due_at)
        raise RuntimeError("the database went away")

    registered(PlayerSocketExtension(name="test-failing", first_due=lambda player: timezone.now(), when_due=when_due))
    player = await database_sync_to_async(make_player)(username="survives")

    socket = await open_socket(player)
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    for _ in range(100):
        if calls:
            break
        await asyncio.sleep(0.05)

    assert len(calls) == 1
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_json_to({"type": "resume", "since_version": -1})  # still served
    assert (await socket.receive_json_from(timeout=5))["kind"] == "invalid_request"
    await socket.disconnect()
    assert len(calls) == 1


def test_a_timer_needs_both_its_first_due_time_and_its_callable():
    with pytest.raises(ValueError, match="needs both"):
        PlayerSocketExtension(name="half", first_due=lambda player: None)
