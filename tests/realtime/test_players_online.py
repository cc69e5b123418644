"""Players online across server processes: a player socket on each of two PAM servers is counted
once each, by any process (the test's own, and the other server's dashboard JSON); a socket that
closes drops out at once, and the sockets of a server that crashed (SIGKILL: no disconnect runs)
age out after their heartbeats stop."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.realtime import selectors
from apps.realtime.presence import presence_of
from tests.realtime.support import Server, kill_server, start_server, stop_server, ticket

# The servers run in their own processes, with the settings' hashers: the players log in there.
pytestmark = [
    pytest.mark.production_password_hashers,
    pytest.mark.timeout(180),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
HEARTBEAT = "1"  # seconds: a crashed server's sockets expire three heartbeats after their last one

players_online = sync_to_async(selectors.players_online)


@database_sync_to_async
def set_up() -> tuple[list[str], str]:
    """Two players, and a support staff member's session (support may see players online)."""
    names = [make_player(username=f"online-{n}").user.username for n in (1, 2)]
    client = Client()
    client.force_login(make_staff(StaffRole.SUPPORT))
    return names, client.cookies[settings.SESSION_COOKIE_NAME].value


def dashboard_count(server: Server, session: str) -> int:
    request = urllib.request.Request(
        f"{server.http}/backoffice/dashboard.json", headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["figures"]["players_online"]["count"]


async def until_online(expected: int, timeout: float = 15) -> None:
    """Wait until the count is `expected` (an expiry is judged on the clock, so poll for it)."""
    async with asyncio.timeout(timeout):
        while await players_online() != expected:
            await asyncio.sleep(0.2)


async def player_socket(server: Server, username: str):
    """A player's socket on `server`, past its `hello`."""
    one_time = await asyncio.to_thread(ticket, server, username, PASSWORD)
    socket = await websockets.connect(f"{server.ws}/ws/player/?ticket={one_time}", open_timeout=10)
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "hello"
    return socket


async def test_sockets_of_two_servers_are_counted_and_a_crashed_servers_sockets_age_out(tmp_path):
    record = presence_of(get_channel_layer())
    await asyncio.to_thread(record._sync_client().delete, record.key)
    (first, second), session = await set_up()
    servers: list[Server] = []
    try:
        for name in ("online-1", "online-2"):
            servers.append(await asyncio.to_thread(start_server, tmp_path, name, REALTIME_HEARTBEAT_SECONDS=HEARTBEAT))
        one, two = servers
        on_one = await player_socket(one, first)
        on_two = await player_socket(two, second)

        assert await players_online() == 2
        assert await asyncio.to_thread(dashboard_count, one, session) == 2

        await on_one.close()
        await until_online(1)
        assert await asyncio.to_thread(dashboard_count, two, session) == 1

        # SIGKILL: nothing of that server runs again, so only the expiry can take its socket out.
        await asyncio.to_thread(kill_server, two)
        await until_online(0)
        assert await asyncio.to_thread(dashboard_count, one, session) == 0
        with pytest.raises(websockets.ConnectionClosed):
            await on_two.recv()
    finally:
        for server in servers:
            await asyncio.to_thread(stop_server, server)
        await asyncio.to_thread(record._sync_client().delete, record.key)
