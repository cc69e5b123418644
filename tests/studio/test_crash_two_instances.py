"""Two server processes on one Redis serve one crash room: clients on each see the same rounds and
each other's bets; one runner leads; when the leader is killed mid-round the other takes the round
over where it stood and settles every bet in it, the dead instance's players' included."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from apps.studio.models import CrashBet, CrashBetState
from tests.realtime.support import kill_server, stop_server, tail
from tests.studio.support import RoomClient, crash_server, player_session
from tests.studio.test_crash_room import audits_clean

pytestmark = [pytest.mark.timeout(240), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def leaderships(log: str) -> int:
    return sum(1 for line in log.splitlines() if '"studio.crash.leading"' in line)


@database_sync_to_async
def bets_of(number: int) -> list[tuple[int, str, int, bool]]:
    rows = CrashBet.objects.filter(round__number=number).order_by("stake")
    return [(b.stake, b.state, b.win, b.settled) for b in rows]


async def test_two_instances_serve_one_room_and_the_survivor_takes_over(tmp_path):
    one = await asyncio.to_thread(crash_server, tmp_path, "crash-1", STUDIO_CRASH_BETTING_MS="2000")
    two = await asyncio.to_thread(crash_server, tmp_path, "crash-2", STUDIO_CRASH_BETTING_MS="2000")
    clients: list[RoomClient] = []
    try:
        _p, key_p = await player_session(one, "room-p")
        _q, key_q = await player_session(two, "room-q")
        p = await RoomClient.connect(one, key_p)  # instance 1's runner starts first, and leads
        clients.append(p)
        await p.frame("crash.betting", timeout=30)
        q = await RoomClient.connect(two, key_q)
        clients.append(q)
        me_p = (await p.frame("crash.snapshot"))["you"]["player"]
        me_q = (await q.frame("crash.snapshot"))["you"]["player"]

        # The same rounds, frame for frame, on both instances.
        opened = await q.frame("crash.betting", after=len(q.frames), timeout=30)
        number = opened["number"]
        assert (await p.frame("crash.betting", number=number))["betting_closes_at"] == opened["betting_closes_at"]
        bet_p, bet_q = await asyncio.gather(p.request("bet", stake=300), q.request("bet", stake=700))
        assert (bet_p["type"], bet_p["number"], bet_p["balance"]) == ("crash.bet_accepted", number, 9700)
        assert (bet_q["type"], bet_q["number"], bet_q["balance"]) == ("crash.bet_accepted", number, 9300)
        await p.frame("crash.bet", number=number, player=me_q, stake=700)
        await q.frame("crash.bet", number=number, player=me_p, stake=300)
        assert leaderships(one.log.read_text()) == 1
        assert leaderships(two.log.read_text()) == 0

        # The leader dies mid-round (in its window, or running).
        await asyncio.to_thread(kill_server, one)
        crashed = await q.frame("crash.crashed", number=number, timeout=60)
        settled = await q.frame("crash.settled", number=number, timeout=30)
        results = {r["player"]: r for r in settled["results"]}
        assert results == {
            me_p: {"player": me_p, "stake": 300, "cashout_x100": None, "win": 0},
            me_q: {"player": me_q, "stake": 700, "cashout_x100": None, "win": 0},
        }
        # The outcomes are told at the crash; the ledger's closing calls (zero wins) follow.
        for _ in range(300):
            bets = await bets_of(number)
            if all(settled for *_, settled in bets):
                break
            await asyncio.sleep(0.1)
        assert bets == [(300, CrashBetState.LOST, 0, True), (700, CrashBetState.LOST, 0, True)]
        assert leaderships(two.log.read_text()) == 1
        # The room goes on under its new leader: the next rounds, numbered on.
        after = await q.frame("crash.betting", number=number + 1, timeout=30)
        await q.frame("crash.settled", number=after["number"], timeout=60)
        numbers = [f["number"] for f in q.frames if f["type"] == "crash.crashed"]
        assert numbers == sorted(set(numbers))
        assert crashed["seed"]
        snap = await q.snapshot()
        assert await q.balance() == 9300
        assert snap["round"]["number"] >= number + 1
    except BaseException:
        for server in (one, two):
            print(f"--- {server.log.name} ---\n{tail(server.log, 60)}")
        print(json.dumps([c.frames[-20:] for c in clients])[:4000])
        raise
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(stop_server, two)
        await asyncio.to_thread(stop_server, one)
    await database_sync_to_async(audits_clean)()
