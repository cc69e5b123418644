"""Two PAM server processes on one channel layer: a bet through the wallet API on instance 1
reaches a WebSocket client connected to instance 2 (contracts/realtime.md, "Guarantees"), and the
back-office feed on instance 2 sees it too; a server-side disconnect from another process closes
the player's socket there."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.games import services as games
from apps.realtime import services as realtime
from apps.wallet import services as wallet
from tests.realtime.support import Provider, start_server, stop_server, tail, ticket

PROVIDER = Provider("rt-two", "rt-two-secret-0123456789")
# The servers run in their own processes, with the settings' hashers: the player logs in there.
pytestmark = pytest.mark.production_password_hashers


@database_sync_to_async
def set_up() -> tuple[int, str, str]:
    """A funded player (version 1, 1000), the provider, and a finance staff member's session."""
    games.save_provider(code=PROVIDER.code, secret=PROVIDER.secret)
    player = make_player(username="two-instances")
    wallet.adjust_balance(player_id=player.pk, amount=1000, reason="test funds", acting_user=None)
    client = Client()
    client.force_login(make_staff(StaffRole.FINANCE))
    return player.pk, player.user.username, client.cookies[settings.SESSION_COOKIE_NAME].value


async def next_frame(socket, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


async def frame_of_type(socket, kind: str, timeout: float = 10) -> dict:
    """The next frame of `kind`, skipping heartbeats."""
    while True:
        frame = await next_frame(socket, timeout)
        if frame["type"] != "heartbeat":
            assert frame["type"] == kind, frame
            return frame


@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_bet_on_instance_1_reaches_the_player_and_the_feed_on_instance_2(tmp_path):
    player_id, username, staff_session = await set_up()
    one = await asyncio.to_thread(start_server, tmp_path, "instance-1")
    try:
        two = await asyncio.to_thread(start_server, tmp_path, "instance-2")
        try:
            one_time = await asyncio.to_thread(ticket, two, username, PASSWORD)
            cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={staff_session}"}
            async with (
                websockets.connect(f"{two.ws}/ws/player/?ticket={one_time}", open_timeout=10) as player,
                websockets.connect(f"{two.ws}/ws/backoffice/", additional_headers=cookie, open_timeout=10) as feed,
            ):
                hello = await frame_of_type(player, "hello")
                assert (hello["player_id"], hello["version"], hello["balance"]) == (str(player_id), 1, 1000)
                # Both sockets joined their groups before their handshake completed: every bet
                # from now on reaches them, whichever instance commits it.
                status, answer = await asyncio.to_thread(PROVIDER.bet, one, player_id, 100, "two-1")
                assert (status, answer["version"], answer["balance"]) == (200, 2, 900), answer
                status, answer = await asyncio.to_thread(PROVIDER.bet, one, player_id, 250, "two-2")
                assert (status, answer["version"], answer["balance"]) == (200, 3, 650), answer

                frames = [await frame_of_type(player, "wallet.updated") for _ in range(2)]
                assert [(f["version"], f["balance"], f["transaction"]["amount"]) for f in frames] == [
                    (2, 900, -100),
                    (3, 650, -250),
                ]
                assert frames[1]["transaction"]["id"] == answer["transaction_id"]
                assert frames[1]["transaction"]["kind"] == "bet"

                seen = [await frame_of_type(feed, "wallet.updated") for _ in range(2)]
                assert [(f["player_id"], f["version"], f["balance"]) for f in seen] == [
                    (str(player_id), 2, 900),
                    (str(player_id), 3, 650),
                ]

                # A server-side disconnect decided in another process (here: this one) reaches
                # the socket on instance 2: the notice, then the close code.
                await database_sync_to_async(realtime.disconnect_player)(
                    player_id, kind="account_locked", message="Self-excluded.", data={"days": 30}
                )
                notice = await frame_of_type(player, "notice")
                assert notice == {
                    "type": "notice", "kind": "account_locked", "message": "Self-excluded.", "data": {"days": 30},
                }  # fmt: skip
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await next_frame(player)
                assert closed.value.rcvd.code == 4403
            # uvicorn logged the socket's accept with its path: the one-time ticket is not in it.
            log = two.log.read_text()
            assert '"WebSocket /ws/player/?ticket=[redacted]" [accepted]' in log
            assert one_time not in log
        except BaseException:
            print(f"--- instance 2 log ---\n{tail(two.log)}")
            raise
        finally:
            await asyncio.to_thread(stop_server, two)
    except BaseException:
        print(f"--- instance 1 log ---\n{tail(one.log)}")
        raise
    finally:
        await asyncio.to_thread(stop_server, one)
