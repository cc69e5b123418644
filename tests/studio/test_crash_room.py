"""The crash room through a real server (uvicorn, PostgreSQL, Redis, the signed wallet API): rounds
end to end, bets and their refusals, a cash-out paid at once, losers settled with a zero win, a
late joiner's snapshot; the verifier and the wallet's audit clean afterwards."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from apps.common import launch
from apps.studio import crash
from apps.studio.models import CrashBet, CrashBetState, CrashRound
from apps.studio.sessions import open_session
from apps.wallet.models import Transaction
from tests.realtime.support import stop_server, tail
from tests.studio.support import LAUNCH, RoomClient, crash_server, funded_player, player_session
from tests.support import call_audit_command

pytestmark = [pytest.mark.timeout(240), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROUNDS = 8  # rounds tried for a cash-out before an instant crash every time is called a failure


def audits_clean() -> None:
    code, lines = call_audit_command("wallet_audit")
    assert code in (None, 0), lines
    code, lines = call_audit_command("crash_verify")
    assert code in (None, 0), lines
    assert lines[-1].endswith(" 0 mismatches"), lines
    assert not lines[-1].startswith("verified 0 "), lines


@database_sync_to_async
def transactions_of(external_id: str) -> int:
    return Transaction.objects.filter(external_id=external_id).count()


@database_sync_to_async
def player_calls_in(player_id: int, number: int) -> int:
    return Transaction.objects.filter(player_id=player_id, round_id=CrashBet.wallet_round_id(number)).count()


@database_sync_to_async
def bets_of(number: int) -> list[CrashBet]:
    """The round's bets, largest stake first (A's and B's are placed at once: their order is not)."""
    return list(CrashBet.objects.filter(round__number=number).order_by("-stake"))


async def test_a_room_end_to_end(tmp_path):
    server = await asyncio.to_thread(crash_server, tmp_path, "crash")
    clients: list[RoomClient] = []
    try:
        _a_id, key_a = await player_session(server, "crash-a")
        _b_id, key_b = await player_session(server, "crash-b")
        c_id, key_c = await player_session(server, "crash-c")
        _d_id, key_d = await player_session(server, "crash-d", balance=100)
        a = await RoomClient.connect(server, key_a)
        b = await RoomClient.connect(server, key_b)
        d = await RoomClient.connect(server, key_d)
        clients += [a, b, d]
        me_d = (await d.frame("crash.snapshot"))["you"]["player"]
        first = await a.frame("crash.snapshot", timeout=10)
        assert first["you"]["balance"] is None  # the wallet's follows, in crash.balance
        assert (await a.frame("crash.balance"))["balance"] == 10_000
        assert first["you"]["bet"] is None
        assert first["you"]["player"].startswith("Player ")
        assert first["you"]["show_session_info"] is True
        assert first["you"]["net_position"] == 0
        me_a, me_b = first["you"]["player"], (await b.frame("crash.snapshot"))["you"]["player"]
        assert me_a != me_b

        bad = await a.request("bet", stake=0)
        assert bad["type"] == "crash.refused"
        assert bad["code"] in ("INVALID_BET", "BETTING_CLOSED")
        for stake in (0, -5, 1.5, "100", True, None):
            assert (await a.request("bet", stake=stake))["code"] == "INVALID_BET", stake

        balance_a, balance_b = 10_000, 10_000
        cashed = None
        for attempt in range(ROUNDS):
            # A round that opens from now: both bet in its window.
            opened = await a.frame("crash.betting", after=len(a.frames), timeout=30)
            number = opened["number"]
            early = await a.request("cashout")
            assert (early["type"], early["code"]) == ("crash.refused", "NOT_RUNNING")
            bet_a, bet_b = await asyncio.gather(a.request("bet", stake=1000), b.request("bet", stake=500))
            players = {me_a, me_b}
            if attempt == 0:
                first_number = number  # D's wallet refuses a stake it cannot cover; D may bet again
                poor = await d.request("bet", stake=500)
                assert (poor["type"], poor["code"]) == ("crash.refused", "INSUFFICIENT_FUNDS")
                within = await d.request("bet", stake=100)
                assert (within["type"], within["balance"]) == ("crash.bet_accepted", 0)
                players.add(me_d)
            assert (bet_a["type"], bet_a["number"], bet_a["balance"]) == (
                "crash.bet_accepted",
                number,
                balance_a - 1000,
            )
            assert (bet_b["type"], bet_b["number"], bet_b["balance"]) == ("crash.bet_accepted", number, balance_b - 500)
            balance_a, balance_b = balance_a - 1000, balance_b - 500
            again = await a.request("bet", stake=100)
            assert (again["type"], again["code"]) == ("crash.refused", "ALREADY_BET")
            # Each sees the other's bet.
            await a.frame("crash.bet", number=number, player=me_b, stake=500)
            await b.frame("crash.bet", number=number, player=me_a, stake=1000)

            await a.frame("crash.started", number=number)
            out = await a.request("cashout")
            # After the window: refused before any wallet call.
            late = await RoomClient.connect(server, key_c)
            clients.append(late)
            refused = await late.request("bet", stake=100)
            assert (refused["type"], refused["code"]) == ("crash.refused", "BETTING_CLOSED")
            assert await player_calls_in(c_id, number) == 0
            snap = await late.frame("crash.snapshot")
            assert snap["round"]["number"] == number
            assert snap["round"]["phase"] in ("running", "crashed")
            assert snap["commitment"] == first["commitment"] or first["commitment"] is None
            stakes = sorted((bet["player"], bet["stake"]) for bet in snap["bets"])
            assert stakes == sorted([(me_a, 1000), (me_b, 500)] + ([(me_d, 100)] if attempt == 0 else []))
            assert snap["you"]["bet"] is None
            assert (await late.frame("crash.balance"))["balance"] == 10_000
            if snap["round"]["phase"] == "running":
                assert snap["round"]["crash_x100"] is None
                assert snap["round"]["multiplier_x100"] >= 100

            # Any of b's frames: a round that crashes low may crash before the late joiner is in.
            crashed = await b.frame("crash.crashed", number=number)
            assert crash.crash_point(bytes.fromhex(crashed["seed"])) == crashed["crash_x100"]
            settled = await b.frame("crash.settled", number=number)
            results = {r["player"]: r for r in settled["results"]}
            assert set(results) == players
            assert results[me_b] == {"player": me_b, "stake": 500, "cashout_x100": None, "win": 0}
            lost = await b.request("cashout")
            assert lost["code"] in ("TOO_LATE", "NOT_RUNNING"), lost  # NOT_RUNNING: the next round opened
            await late.close()
            clients.remove(late)

            if out["type"] == "crash.cashed_out":
                cashed = out
                assert out["number"] == number
                assert 100 <= out["cashout_x100"] < crashed["crash_x100"]
                assert out["win"] == 1000 * out["cashout_x100"] // 100
                assert out["balance"] == balance_a + out["win"]
                balance_a += out["win"]
                assert results[me_a] == {
                    "player": me_a,
                    "stake": 1000,
                    "cashout_x100": out["cashout_x100"],
                    "win": out["win"],
                }
                await b.frame("crash.cashout", number=number, player=me_a, win=out["win"])
                twice = await a.request("cashout")
                assert twice["code"] in ("ALREADY_CASHED_OUT", "NOT_RUNNING"), twice
                break
            # Crashed before A could cash out (one round in 33 crashes at once): A lost too.
            assert out["code"] == "TOO_LATE", out
            assert results[me_a]["win"] == 0
        assert cashed is not None, f"no round let A cash out in {ROUNDS} rounds"

        # The outcomes are told at the crash; the ledger's closing calls (zero wins) follow.
        for _ in range(300):
            bets = await bets_of(cashed["number"])
            if all(b.settled for b in bets):
                break
            await asyncio.sleep(0.1)
        d_lost = [(100, CrashBetState.LOST, 0, True)] if cashed["number"] == first_number else []
        assert [(b.stake, b.state, b.win, b.settled) for b in bets] == [
            (1000, CrashBetState.CASHED_OUT, cashed["win"], True),
            (500, CrashBetState.LOST, 0, True),
            *d_lost,
        ]
        # Every bet's win call, a zero one for a loss, is in the wallet with the derived ids.
        for bet in bets:
            assert await transactions_of(CrashBet.transaction_id(cashed["number"], bet.session_id, "bet")) == 1
            assert await transactions_of(CrashBet.transaction_id(cashed["number"], bet.session_id, "win")) == 1
        snap_a = await a.snapshot()
        assert (await a.balance(), await b.balance()) == (balance_a, balance_b)
        assert snap_a["you"]["net_position"] == balance_a - 10_000
    except BaseException:
        print(f"--- server log ---\n{tail(server.log, 80)}")
        raise
    finally:
        for client in clients:
            await client.close()
        await asyncio.to_thread(stop_server, server)
    log = server.log.read_text()
    assert "session=[redacted]" in log
    assert key_a not in log
    await database_sync_to_async(audits_clean)()
    assert await database_sync_to_async(CrashRound.objects.filter(phase="crashed").count)() >= 1


async def test_only_a_crash_session_opens_a_socket_and_garbage_is_answered(tmp_path):
    server = await asyncio.to_thread(crash_server, tmp_path, "crash-refused")
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await RoomClient.connect(server, "ss_no-such-session")
        assert refused.value.response.status_code == 403
        # A session of another game opens no crash socket either.
        _player, token = await funded_player("crash-slot", 100)
        query = dict(
            parse_qsl(launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-slot", {"token": token, **LAUNCH}))
        )
        with override_settings(STUDIO_WALLET_URL=server.http):
            _session, slot_key, _balance = await open_session(game_code="pam-slot", query=query)
        with pytest.raises(websockets.InvalidStatus) as refused:
            await RoomClient.connect(server, slot_key)
        assert refused.value.response.status_code == 403
        # What is not a request is answered, and the socket stays open.
        _player, key = await player_session(server, "crash-garbage")
        client = await RoomClient.connect(server, key)
        try:
            await client.frame("crash.snapshot")
            for text in ("not json", "[1, 2]", '{"type": "dance", "request_id": "x"}'):
                mark = len(client.frames)
                await client.socket.send(text)
                answer = await client.frame("crash.refused", after=mark)
                assert answer["code"] == "INVALID_REQUEST", text
            assert await client.balance() == 10_000
        finally:
            await client.close()
    finally:
        await asyncio.to_thread(stop_server, server)
