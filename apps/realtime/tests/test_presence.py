"""Players online: real player sockets on the Redis channel layer are counted from their connect
to their disconnect, across processes (one sorted set in Redis), and a crashed process's sockets
age out."""

import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.accounts.tests.factories import make_player
from apps.realtime import selectors, services
from apps.realtime.presence import LocalPresence, RedisPresence, presence_of
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

players_online = sync_to_async(selectors.players_online)


@pytest.fixture
def presence() -> RedisPresence:
    """The run's presence set, empty (tests of this run share the layer's prefix)."""
    record = presence_of(get_channel_layer())
    assert isinstance(record, RedisPresence)  # the test services run the Redis layer
    record._sync_client().delete(record.key)
    yield record
    record._sync_client().delete(record.key)


@database_sync_to_async
def a_ticket(username: str) -> str:
    return services.issue_ticket(player=make_player(username=username))


async def open_socket(username: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={await a_ticket(username)}")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def test_open_player_sockets_are_counted_until_they_disconnect(presence):
    assert await players_online() == 0

    first = await open_socket("online1")
    second = await open_socket("online2")
    assert await players_online() == 2

    await first.disconnect()
    assert await players_online() == 1
    await second.disconnect()
    assert await players_online() == 0


async def test_a_refused_socket_is_not_counted(presence):
    communicator = WebsocketCommunicator(application, "/ws/player/")
    await communicator.connect(timeout=5)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    assert await players_online() == 0


async def test_a_socket_the_server_closes_drops_out(presence):
    """services.disconnect_player closes every socket of the player (an exclusion, a lock)."""
    player = await database_sync_to_async(make_player)(username="closed1")
    ticket = await database_sync_to_async(services.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")
    await communicator.connect(timeout=5)
    await communicator.receive_json_from(timeout=5)  # hello
    assert await players_online() == 1

    await database_sync_to_async(services.disconnect_player)(player.pk, kind="account_locked", message="Locked.")

    assert (await communicator.receive_json_from(timeout=5))["type"] == "notice"
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
    await communicator.disconnect()
    assert await players_online() == 0


async def test_each_heartbeat_renews_the_sockets_expiry(presence, settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 0.2
    communicator = await open_socket("beating1")
    try:
        ((_, at_connect),) = presence._sync_client().zrange(presence.key, 0, -1, withscores=True)

        assert (await communicator.receive_json_from(timeout=5))["type"] == "heartbeat"
        await communicator.receive_json_from(timeout=5)  # a second beat: the first one's write is done
        ((_, after_beats),) = presence._sync_client().zrange(presence.key, 0, -1, withscores=True)
        assert after_beats > at_connect
    finally:
        await communicator.disconnect()


async def test_a_crashed_processes_sockets_are_not_counted_and_the_next_connect_prunes_them(presence):
    """A process that died ran no disconnect: its sockets stay in the set with an expiry that
    passes, since nothing beats for them any more."""
    client = presence._sync_client()
    client.zadd(presence.key, {"specific.crashed!one": time.time() - 1, "specific.crashed!two": time.time() - 5})
    assert await players_online() == 0

    communicator = await open_socket("after-crash")
    assert await players_online() == 1
    assert client.zcard(presence.key) == 1  # the two stale members are gone
    await communicator.disconnect()


async def test_sockets_of_other_processes_count_too(presence):
    """Another server process's socket is a member of the same set."""
    other = RedisPresence(get_channel_layer())  # a second process's record of the same layer
    await other.seen("specific.otherprocess!socket")
    communicator = await open_socket("here1")

    assert await players_online() == 2
    await communicator.disconnect()
    await other.gone("specific.otherprocess!socket")
    assert await players_online() == 0


async def test_the_in_process_record_of_embedded_mode():
    record = LocalPresence()
    await record.seen("a", prune=True)
    await record.seen("b")
    assert record.count() == 2
    await record.gone("a")
    assert record.count() == 1
    record._expiries["c"] = time.time() - 1  # a socket that stopped beating
    assert record.count() == 1
    await record.seen("d", prune=True)
    assert sorted(record._expiries) == ["b", "d"]
