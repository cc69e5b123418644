"""Crash-room sockets and a player's wallet socket in one server process each get every frame of
their own, live: the room's frames come through the process's relay (apps/studio/crash_relay.py),
and no crash socket reads the process's list of consumer messages, which realtime's mailroom reads
for the wallet sockets (apps/realtime/mailroom.py). The heartbeat is two minutes, so the wallet
frames can only have been pushed."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from apps.accounts.models import Player
from apps.realtime import services as realtime
from tests.realtime.support import ContractClient, stop_server, tail
from tests.studio.support import RoomClient, crash_server, player_session

pytestmark = [pytest.mark.timeout(240), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROUNDS = 3


async def test_crash_sockets_and_a_wallet_socket_in_one_process_each_get_their_frames_live(tmp_path):
    server = await asyncio.to_thread(
        crash_server, tmp_path, "crash-beside", DJANGO_SETTINGS_MODULE="tests.realtime.long_heartbeat_settings"
    )
    rooms: list[RoomClient] = []
    wallet_socket = None
    try:
        player_id, key = await player_session(server, "beside")
        player = await database_sync_to_async(Player.objects.get)(pk=player_id)
        issue = database_sync_to_async(realtime.issue_ticket)

        async def url() -> str:
            return f"{server.ws}/ws/player/?ticket={await issue(player=player)}"

        wallet_socket = ContractClient(url)
        wallet_socket.start()
        await wallet_socket.wait_for(lambda c: c.version == 1, 30, "hello and the funding frame")
        rooms = [await RoomClient.connect(server, key) for _ in range(3)]
        me = (await rooms[0].frame("crash.snapshot"))["you"]["player"]

        for _ in range(ROUNDS):
            opened = await rooms[0].frame("crash.betting", after=len(rooms[0].frames), timeout=30)
            version = wallet_socket.version
            accepted = await rooms[0].request("bet", stake=100)
            assert accepted["type"] == "crash.bet_accepted", accepted
            # The bet's frame on the wallet socket, and the bet's frame on every crash socket.
            await wallet_socket.wait_for(lambda c, v=version: c.version == v + 1, 30, "the bet's wallet frame")
            for room in rooms:
                await room.frame("crash.bet", number=opened["number"], player=me)
            await rooms[0].frame("crash.settled", number=opened["number"], timeout=60)

        # Every bet's frame was pushed live (a zero win moves nothing and has no version).
        bets = set(range(2, 2 + ROUNDS))
        assert bets <= set(wallet_socket.applied_live), wallet_socket.describe()
    except BaseException:
        print(f"--- server log ---\n{tail(server.log, 80)}")
        raise
    finally:
        for room in rooms:
            await room.close()
        if wallet_socket is not None:
            await wallet_socket.close()
        await asyncio.to_thread(stop_server, server)
