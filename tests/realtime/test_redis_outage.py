"""A Redis outage under a running PAM server (contracts/realtime.md, "Guarantees").

The test runs its own redis-server, so that it can stop it and start it again on the same port:
with it stopped, bets through the wallet API still answer 200 with the right balances and the
connected player still converges through heartbeat and `resume`; once it is back (empty: it
keeps nothing), the server notices that Redis forgot its groups and every socket re-joins its
group and gets a heartbeat at once, so live frames flow again without waiting for a beat. The
client, which behaves as the contract's client does, ends holding every version 1..N in order,
on the one socket it opened: no server-side close during the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis
from channels.db import database_sync_to_async

from apps.accounts.tests.factories import make_player
from apps.games import services as games
from apps.realtime import services as realtime
from apps.realtime.groups import player_group
from apps.wallet import services as wallet
from tests.realtime.support import (
    ContractClient,
    Provider,
    RedisServer,
    Server,
    own_redis,
    start_server,
    stop_server,
    tail,
)

PROVIDER = Provider("rt-outage", "rt-outage-secret-0123456789")
HEARTBEAT = 1.0  # seconds, through REALTIME_HEARTBEAT_SECONDS
CONVERGE = 30.0  # seconds a step may take on a busy machine before the test fails (not a measure)
BET = 10


@database_sync_to_async
def set_up():
    games.save_provider(code=PROVIDER.code, secret=PROVIDER.secret)
    player = make_player(username="outage")
    wallet.adjust_balance(player_id=player.pk, amount=1000, reason="test funds", acting_user=None)
    return player


def redis_knows_the_socket(port: int, player_id: int) -> bool:
    """The restarted Redis holds the player's group again and a receive loop is blocked on it."""
    client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)
    group = f"{os.environ['CHANNEL_LAYER_PREFIX']}:group:{player_group(player_id)}"
    blocked = any(c.get("cmd") == "bzmpop" for c in client.client_list())
    return bool(client.exists(group)) and blocked


@dataclass
class Rig:
    """A server on the test's own Redis, one contract client on it, and the bets the test makes."""

    server: Server
    backplane: RedisServer
    client: ContractClient
    player_id: int
    name: str
    balance: int = 1000
    version: int = 1
    bets: int = 0

    async def bet(self) -> None:
        """One signed bet, answered 200 with the balance and version the test expects."""
        self.bets += 1
        status, answer = await asyncio.to_thread(
            PROVIDER.bet, self.server, self.player_id, BET, f"{self.name}-{self.bets}"
        )
        self.balance, self.version = self.balance - BET, self.version + 1
        assert (status, answer.get("balance"), answer.get("version")) == (200, self.balance, self.version), answer

    async def until_redis_knows_the_socket(self) -> None:
        deadline = asyncio.get_running_loop().time() + CONVERGE
        while not await asyncio.to_thread(redis_knows_the_socket, self.backplane.port, self.player_id):
            assert asyncio.get_running_loop().time() < deadline, "the socket never re-joined its group"
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def rig(tmp_path, name: str, **server_env: str) -> AsyncIterator[Rig]:
    """Start the rig, hand it to the test once the client holds its hello, and afterwards: the
    server's log on a failure, and no traceback in it in any case."""
    player = await set_up()
    with own_redis() as backplane:
        server = await asyncio.to_thread(start_server, tmp_path, name, redis_url=backplane.url, **server_env)
        issue = database_sync_to_async(realtime.issue_ticket)

        async def url() -> str:
            return f"{server.ws}/ws/player/?ticket={await issue(player=player)}"

        client = ContractClient(url)
        client.start()
        try:
            await client.wait_for(lambda c: c.version == 1, CONVERGE, "hello and the funding frame")
            yield Rig(server, backplane, client, player.pk, name)
        except BaseException:
            print(f"--- server log ---\n{tail(server.log, 120)}")
            raise
        finally:
            await client.close()
            await asyncio.to_thread(stop_server, server)
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log, tail(server.log, 120)


@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_bets_answer_and_the_client_converges_through_a_redis_outage(tmp_path):
    async with rig(tmp_path, "outage", REALTIME_HEARTBEAT_SECONDS=str(HEARTBEAT)) as r:
        client = r.client

        # Redis up: live frames.
        for _ in range(3):
            await r.bet()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "the frames with Redis up")

        # Redis down: the money still moves, the pushes fail, and the socket stays open;
        # heartbeats read from the ledger show the gap and `resume` fills it.
        r.backplane.stop()
        down_from = r.version + 1
        for _ in range(5):
            await r.bet()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "convergence while Redis is down")
        assert set(range(down_from, r.version + 1)).isdisjoint(client.applied_live), client.describe()

        for _ in range(2):  # more, unseen until Redis is back
            await r.bet()

        # Redis back, empty: heartbeats and `resume` bring the client up to date, and once
        # the socket has re-joined its group live frames flow again.
        r.backplane.start()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "convergence after Redis is back")
        await r.until_redis_knows_the_socket()
        # One bet first, applied live or through the next heartbeat: its push may race the re-join.
        # (A push on a connection pooled before the restart reconnects and goes through: the
        # layer retries once on a connection error, settings.py.)
        await r.bet()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "the first bet after Redis is back")
        live_from = r.version + 1
        for _ in range(3):
            # Right after a heartbeat, so that the next one (a period away) cannot show the
            # gap before the pushed frame arrives: the frame has to come live.
            await client.next_heartbeat(CONVERGE)
            await r.bet()
            await client.wait_for(lambda c: c.version == r.version, CONVERGE, "a live frame after the outage")

        assert client.applied == list(range(1, r.version + 1)), client.describe()
        assert set(range(live_from, r.version + 1)) <= set(client.applied_live), client.describe()
        assert client.balance == r.balance
        assert client.connections == 1, f"the server closed the socket during the outage; {client.describe()}"


@pytest.mark.timeout(240)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_socket_that_never_reconnected_gets_live_frames_as_soon_as_redis_is_back_empty(tmp_path):
    """Redis stopped and started again empty, under a server whose heartbeat does not come within
    the test (tests/realtime/long_heartbeat_settings.py): the socket opened before the outage
    re-joins its group as soon as Redis answers and gets a heartbeat showing what it missed, and
    a bet made right after gets to it live, on the same socket."""
    async with rig(tmp_path, "rejoin", DJANGO_SETTINGS_MODULE="tests.realtime.long_heartbeat_settings") as r:
        client = r.client
        await r.bet()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "a live frame with Redis up")
        assert r.version in client.applied_live, client.describe()

        r.backplane.stop()
        await r.bet()  # committed, its push lost: only a heartbeat can show it to the client
        assert client.heartbeats == 0, client.describe()
        r.backplane.start()  # empty: no group knows the socket

        await r.until_redis_knows_the_socket()
        # The heartbeat sent with the re-join shows the gap; `resume` fills it from the ledger.
        await client.wait_for(lambda c: c.heartbeats == 1 and c.version == r.version, CONVERGE, "the recovery")

        await r.bet()
        await client.wait_for(lambda c: c.version == r.version, CONVERGE, "a live frame after the outage")

        assert r.version in client.applied_live, client.describe()
        assert client.applied == list(range(1, r.version + 1)), client.describe()
        assert client.balance == r.balance
        assert client.heartbeats == 1, client.describe()
        assert client.connections == 1, f"the server closed the socket during the outage; {client.describe()}"
    assert "realtime.backplane_forgot" in r.server.log.read_text(errors="replace")
