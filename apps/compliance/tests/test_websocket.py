"""An exclusion closes the player's open sockets on a real Redis channel layer: a `notice`
(kind `account_locked`) first, then close 4403; another player's socket stays open."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.compliance import services
from apps.compliance.tests.factories import funded_player
from apps.realtime import services as realtime
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def open_socket(player) -> WebsocketCommunicator:
    ticket = await database_sync_to_async(realtime.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def test_a_self_exclusion_sends_the_notice_then_closes_the_players_sockets():
    player = await database_sync_to_async(funded_player)(1_000)
    bystander = await database_sync_to_async(funded_player)(1_000)
    socket, other = await open_socket(player), await open_socket(bystander)

    exclusion = await database_sync_to_async(services.self_exclude)(player=player, period="6m")

    notice = await socket.receive_json_from(timeout=5)
    assert (notice["type"], notice["kind"]) == ("notice", "account_locked")
    assert notice["data"] == {"reason": "self_exclusion", "until": exclusion.ends_at.isoformat().replace("+00:00", "Z")}
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert await other.receive_nothing(timeout=0.3)
    await other.disconnect()


async def test_an_excluded_player_gets_no_new_socket_only_the_notice_and_4403():
    player = await database_sync_to_async(funded_player)(1_000)
    exclusion = await database_sync_to_async(services.self_exclude)(player=player, period="1y")
    ticket = await database_sync_to_async(realtime.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")

    connected, _ = await communicator.connect(timeout=5)

    assert connected  # accepted only to say why, then closed: never a hello
    notice = await communicator.receive_json_from(timeout=5)
    assert (notice["type"], notice["kind"]) == ("notice", "account_locked")
    assert notice["data"] == {"reason": "self_exclusion", "until": exclusion.ends_at.isoformat().replace("+00:00", "Z")}
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_the_first_bet_past_the_due_time_brings_a_reality_check_notice():
    import datetime as dt

    from apps.accounts.models import Player
    from apps.compliance.tests.factories import bet, fresh

    player = await database_sync_to_async(funded_player)(1_000)
    await database_sync_to_async(services.start_play_session)(player=player)
    due = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    await database_sync_to_async(Player.objects.filter(pk=player.pk).update)(reality_check_due_at=due)
    socket = await open_socket(player)

    await database_sync_to_async(lambda: bet(fresh(player), 100))()

    frames = [await socket.receive_json_from(timeout=5) for _ in range(2)]
    notice = next(frame for frame in frames if frame["type"] == "notice")
    assert notice["kind"] == "reality_check"
    assert (notice["data"]["net_result"], notice["data"]["currency"]) == (-100, "EUR")
    assert {frame["type"] for frame in frames} == {"notice", "wallet.updated"}
    await socket.disconnect()


async def test_a_reality_check_comes_at_its_time_between_bets():
    import datetime as dt

    from django.utils import timezone

    from apps.accounts.models import Player
    from apps.compliance.models import PlayerProtection

    player = await database_sync_to_async(funded_player)(1_000)
    await database_sync_to_async(services.start_play_session)(player=player)
    due = timezone.now() + dt.timedelta(milliseconds=500)
    await database_sync_to_async(Player.objects.filter(pk=player.pk).update)(reality_check_due_at=due)
    socket = await open_socket(player)

    notice = await socket.receive_json_from(timeout=5)  # no bet: the socket's timer asked for it

    assert (notice["type"], notice["kind"]) == ("notice", "reality_check")
    assert notice["data"]["net_result"] == 0
    protection = await database_sync_to_async(PlayerProtection.objects.get)(player=player)
    assert protection.reality_check_awaits_ack  # play pauses until the player acknowledges
    next_due = await database_sync_to_async(
        lambda: Player.objects.values_list("reality_check_due_at", flat=True).get(pk=player.pk)
    )()
    assert next_due > timezone.now() + dt.timedelta(minutes=59)  # the profile's hour, from now
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
