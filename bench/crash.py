"""The benchmark of the crash room (docs/crash-room.md), in one run against PAM served as `make
serve` does, two instances on one Redis and one PostgreSQL database:

1. PLAYERS funded players (`bench/crash_setup.py`), each opening a studio session by GET on a
   signed launch URL (the session key read from the page's `#crash-room[data-session-key]`), and a
   WebSocket client per session on `/ws/studio/crash/`, split over both instances.
2. ROUNDS rounds with short timings. In each round most players bet at a random moment of the
   betting window and cash out at a target of their own; the others send one bet after the
   window closed (a) and count how it is answered: 100 % BETTING_CLOSED is the target. Each
   client notes when `crash.crashed` and `crash.settled` reach it (c): settled minus crashed, and
   settled minus the crash instant (the round's `started_at` plus the time the growth takes to
   reach its crash point). The settlement is checked against the answers the players had.
3. Beside the rounds, JOINS late joiners (b): a fresh socket of one of the sessions, at a paced
   rate, timed from the start of its handshake to its `crash.snapshot`.
4. Then (d) one instance alone with a window and pause of 0 ms and growth 1000 times faster,
   with one observer socket (the runner starts with the first socket), until VERIFY_ROUNDS rounds
   have crashed; then `manage.py crash_verify --rounds VERIFY_ROUNDS` and `wallet_audit`.

`BENCH=crash python -m bench` runs it. Knobs: BENCH_CRASH_PLAYERS (200), BENCH_CRASH_ROUNDS (10),
BENCH_CRASH_JOINS (300), BENCH_CRASH_BETTING_MS (3000), BENCH_CRASH_PAUSE_MS (1500),
BENCH_CRASH_GROWTH (0.0006 per ms, ten times the default, so that rounds last seconds),
BENCH_CRASH_VERIFY_ROUNDS (10000; 0 skips (d)), BENCH_CRASH_FAST_SECONDS (2400, the longest (d)
may take), BENCH_CRASH_WORKERS (uvicorn workers per instance, 1), BENCH_CRASH_DATABASE
(pam_bench_crash), BENCH_CRASH_REDIS_URL (default: a redis-server of its own on a free port).

Every socket is on 127.0.0.1; every loop is bounded in count and time; a server side that does
not answer as the protocol says ends the run with a message saying what was missing, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.instances import Abort, Instance, instance, loop_lag, private_redis
from bench.realtime import percentile, raise_nofile, verdict
from bench.server import bench_env, create_database, manage, print_audit
from tests.support import ROOT

PLAYERS = int(os.environ.get("BENCH_CRASH_PLAYERS", "200"))
ROUNDS = int(os.environ.get("BENCH_CRASH_ROUNDS", "10"))
JOINS = int(os.environ.get("BENCH_CRASH_JOINS", "300"))
BETTING_MS = int(os.environ.get("BENCH_CRASH_BETTING_MS", "3000"))
PAUSE_MS = int(os.environ.get("BENCH_CRASH_PAUSE_MS", "1500"))
GROWTH = os.environ.get("BENCH_CRASH_GROWTH", "0.0006")
# The server's frames are compact JSON with their type first (apps/studio/crash_relay.py).
SETTLED_PREFIX = '{"type":"crash.settled",'
SETTLED_NUMBER = re.compile(r'"number":(\d+)')
TICK_MS = int(os.environ.get("BENCH_CRASH_TICK_MS", "100"))  # the production default
VERIFY_ROUNDS = int(os.environ.get("BENCH_CRASH_VERIFY_ROUNDS", "10000"))
FAST_SECONDS = float(os.environ.get("BENCH_CRASH_FAST_SECONDS", "2400"))
WORKERS = int(os.environ.get("BENCH_CRASH_WORKERS", "1"))
DATABASE = os.environ.get("BENCH_CRASH_DATABASE", "pam_bench_crash")
FAST_GROWTH = str(Decimal("0.00006") * 1000)  # the protocol's default growth, 1000 times faster

GAME = "pam-crash"
LATE_SHARE = 0.2  # of the players, each round, who bet only after the window closed
JOIN_RATE = 10.0  # late joiners a second
CONNECT_RATE = 50.0  # the players' first sockets a second
FRAME_WAIT = 10.0  # seconds for an answer or a snapshot
ROUND_WAIT = 120.0  # seconds at most for a round to open, or to crash once running
STALL_SECONDS = 60.0  # (d) ends when no round has crashed for this long
TARGETS = (None, 110, 120, 150, 200, 300, 500)  # cash-out targets (hundredths); None rides to the crash

TARGET_JOIN_P99_MS, TARGET_SETTLED_P99_MS = 100.0, 200.0


def parse_time(text: str) -> float:
    """An ISO 8601 time of the server as seconds since the epoch (this machine's clock: the same)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def crash_ms(crash_x100: int, growth: float) -> int:
    """The first whole ms at which floor(100·exp(g·t)) reaches the crash point (the protocol's
    growth): when the round crashed, counted from its start."""
    if crash_x100 <= 100:
        return 0
    t = max(0, math.ceil(math.log(crash_x100 / 100) / growth) - 2)
    for _ in range(10):  # floating-point edges only: a few steps at most
        if math.floor(100 * math.exp(growth * t)) >= crash_x100:
            return t
        t += 1
    return t


# ---------------------------------------------------------------------------------------------
# Sessions and clients
# ---------------------------------------------------------------------------------------------

SESSION_KEY = re.compile(r'data-session-key="([^"]+)"')


async def open_sessions(queries: list[str], instances: list[Instance]) -> list[tuple[str, Instance]]:
    """Each launch opened by GET on an instance (alternating), as the player's browser opens it:
    (the session key the page carries, the instance)."""
    import httpx

    gate = asyncio.Semaphore(8)

    async def one(n: int, query: str, client: httpx.AsyncClient) -> tuple[str, Instance]:
        server = instances[n % len(instances)]
        async with gate:
            answer = await client.get(f"{server.http}/studio/play/{GAME}/?{query}")
        found = SESSION_KEY.search(answer.text)
        if answer.status_code != 200 or not found:
            raise Abort(
                f"the launch page of {GAME} answered {answer.status_code} without #crash-room[data-session-key]: "
                f"{answer.text[:300]!r}"
            )
        return found.group(1), server

    async with httpx.AsyncClient(timeout=30) as client:
        return list(await asyncio.gather(*(one(n, q, client) for n, q in enumerate(queries))))


async def connect(url: str):
    """A socket once its `crash.snapshot` has arrived: (the socket, the snapshot, seconds from the
    start of the handshake to the snapshot)."""
    from websockets.asyncio.client import connect as ws_connect

    started = time.perf_counter()
    ws = await asyncio.wait_for(ws_connect(url, open_timeout=FRAME_WAIT, close_timeout=2, compression=None), FRAME_WAIT)
    try:
        deadline = started + FRAME_WAIT
        while True:  # frames queued for the group may come first on another server: bounded by time
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise Abort(f"no crash.snapshot within {FRAME_WAIT:.0f} s of connecting to {url.split('?')[0]}")
            frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
            if frame.get("type") == "crash.snapshot":
                return ws, frame, time.perf_counter() - started
    except BaseException:
        await ws.close()
        raise


@dataclass
class Round:
    number: int
    closes_at: float = 0.0  # epoch seconds
    started_at: float | None = None
    crash_x100: int | None = None
    crashed: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    results: list[dict] | None = None


class Room:
    """What the clients saw of the rounds, shared by all of them."""

    def __init__(self) -> None:
        self.rounds: dict[int, Round] = {}
        self.opened = asyncio.Condition()
        self.latest = 0

    def round(self, number: int) -> Round:
        if number not in self.rounds:
            self.rounds[number] = Round(number)
        return self.rounds[number]

    async def betting(self, number: int, closes_at: float) -> None:
        self.round(number).closes_at = closes_at
        if number > self.latest:
            self.latest = number
            async with self.opened:
                self.opened.notify_all()

    async def next_betting(self, after: int, timeout: float) -> Round:
        async def wait() -> Round:
            async with self.opened:
                await self.opened.wait_for(lambda: self.latest > after)
            return self.rounds[self.latest]

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise Abort(f"no crash.betting frame for {timeout:.0f} s: is the room's runner running?") from None


@dataclass
class Player:
    key: str
    server: Instance
    room: Room
    ws: object = None
    alias: str = ""
    reader: asyncio.Task | None = None
    pending: dict[str, asyncio.Future] = field(default_factory=dict)
    crashed_at: dict[int, float] = field(default_factory=dict)  # round -> perf_counter
    settled_at: dict[int, tuple[float, float]] = field(default_factory=dict)  # round -> (perf, epoch)
    bet_round: int | None = None  # the round of this player's bet now in play
    target: int | None = None
    cashout_sent: bool = False
    bets: dict[int, dict] = field(default_factory=dict)  # round -> {"stake", "paid": crash.cashed_out or None}
    last_frame: float = 0.0
    counter: int = 0
    tasks: set = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"{self.server.ws}/ws/studio/crash/?session={self.key}"

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                perf, wall = time.perf_counter(), time.time()
                self.last_frame = perf
                if raw.startswith(SETTLED_PREFIX):
                    # 200 clients in this one process each parsing a 15 KB frame made the harness
                    # the settlement's bottleneck (the last reader waited for the others' parsing):
                    # one client of the round reads the results, the others only the number.
                    number = int(SETTLED_NUMBER.match(raw, len(SETTLED_PREFIX)).group(1))
                    self.settled_at[number] = (perf, wall)
                    shared = self.room.round(number)
                    if shared.results is None:
                        shared.results = json.loads(raw).get("results") or []
                    shared.settled.set()
                    continue
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "crash.tick":
                    started_at = self.room.round(frame["number"]).started_at
                    if started_at is not None:
                        stats.tick_late_ms.append((wall - started_at - frame.get("elapsed_ms", 0) / 1000) * 1000)
                    self.tick(frame)
                elif kind in ("crash.bet_accepted", "crash.cashed_out", "crash.refused"):
                    future = self.pending.pop(frame.get("request_id"), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "crash.betting":
                    await self.room.betting(frame["number"], parse_time(frame["betting_closes_at"]))
                elif kind == "crash.started":
                    self.room.round(frame["number"]).started_at = parse_time(frame["started_at"])
                elif kind == "crash.crashed":
                    self.crashed_at[frame["number"]] = perf
                    shared = self.room.round(frame["number"])
                    shared.crash_x100 = frame["crash_x100"]
                    shared.crashed.set()
                elif kind == "crash.settled":
                    self.settled_at[frame["number"]] = (perf, wall)
                    shared = self.room.round(frame["number"])
                    if shared.results is None:
                        shared.results = frame.get("results") or []
                    shared.settled.set()

    def tick(self, frame: dict) -> None:
        if (
            self.target is not None
            and not self.cashout_sent
            and frame.get("number") == self.bet_round
            and frame.get("multiplier_x100", 0) >= self.target
        ):
            self.cashout_sent = True
            task = asyncio.create_task(self.cash_out())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def request(self, frame: dict) -> dict | None:
        """Sends a request and waits for its answer: None when none came within FRAME_WAIT."""
        self.counter += 1
        request_id = f"{frame['type']}-{self.counter}-{random.getrandbits(32):08x}"
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            await self.ws.send(json.dumps({**frame, "request_id": request_id}))
            return await asyncio.wait_for(future, FRAME_WAIT)
        except Exception:  # no answer in time, or the socket closed: counted as unanswered
            return None
        finally:
            self.pending.pop(request_id, None)

    async def cash_out(self) -> None:
        answer = await self.request({"type": "cashout"})
        stats.cashouts_sent += 1
        if answer and answer.get("type") == "crash.cashed_out":
            stats.cashouts_paid += 1
            if answer.get("number") in self.bets:
                self.bets[answer["number"]]["paid"] = answer
        elif answer:
            stats.cashout_refusals[answer.get("code", "?")] = stats.cashout_refusals.get(answer.get("code", "?"), 0) + 1


@dataclass
class Stats:
    joins_initial: list[float] = field(default_factory=list)
    joins_late: list[float] = field(default_factory=list)
    join_phases: dict[str, int] = field(default_factory=dict)
    join_failures: int = 0
    bets_sent: int = 0
    bets_accepted: int = 0
    bet_refusals: dict[str, int] = field(default_factory=dict)
    late_sent: int = 0
    late_closed: int = 0
    late_accepted: int = 0
    late_next_round: int = 0
    late_other: dict[str, int] = field(default_factory=dict)
    cashouts_sent: int = 0
    cashouts_paid: int = 0
    cashout_refusals: dict[str, int] = field(default_factory=dict)
    crashed_to_settled_ms: list[float] = field(default_factory=list)
    instant_to_settled_ms: list[float] = field(default_factory=list)
    settled_missing: int = 0
    settlement_mismatches: int = 0
    mismatch_examples: list[str] = field(default_factory=list)
    tick_late_ms: list[float] = field(default_factory=list)
    round_medians: list[tuple[int, int, float]] = field(default_factory=list)  # (round, crash_x100, median ms)
    loop_lag_ms: list[float] = field(default_factory=list)
    joiner_lag_ms: list[float] = field(default_factory=list)  # the late joiners' process's loop lag
    rounds: int = 0
    crash_points: list[int] = field(default_factory=list)


stats = Stats()


# ---------------------------------------------------------------------------------------------
# The rounds
# ---------------------------------------------------------------------------------------------


def record_bet(player: Player, number: int, stake: int, sent_at: float, closes_at: float, answer: dict | None) -> None:
    """One bet's answer, counted by when it was sent: before the window closed (by this machine's
    clock, which is the server's), or after it, which is (a)."""
    accepted = bool(answer) and answer.get("type") == "crash.bet_accepted"
    code = "ACCEPTED" if accepted else (answer.get("code", "?") if answer else "NO_ANSWER")
    if sent_at <= closes_at:
        stats.bets_sent += 1
        stats.bets_accepted += accepted
        if not accepted:
            stats.bet_refusals[code] = stats.bet_refusals.get(code, 0) + 1
    else:
        stats.late_sent += 1
        if code == "BETTING_CLOSED":
            stats.late_closed += 1
        elif accepted and answer.get("number") == number:
            stats.late_accepted += 1
        elif accepted:  # read by the server only once the next round's window had opened
            stats.late_next_round += 1
        else:
            stats.late_other[code] = stats.late_other.get(code, 0) + 1
    if accepted:
        player.bet_round, player.target = answer.get("number"), random.choice(TARGETS)
        player.bets[answer.get("number")] = {"stake": stake, "paid": None}


async def play_round(players: list[Player], room: Room, after: int) -> int:
    """One round from its crash.betting to its settlement (or FRAME_WAIT after its crash); returns
    its number."""
    shared = await room.next_betting(after, BETTING_MS / 1000 + PAUSE_MS / 1000 + ROUND_WAIT)
    number = shared.number
    window = max(0.0, shared.closes_at - time.time())
    shuffled = random.sample(players, len(players))
    late = shuffled[: int(len(players) * LATE_SHARE)]
    bettors = shuffled[len(late) :]
    # Late bets well inside the pause that follows the crash, so they can never meet the next window.
    late_delay = (0.02, max(0.03, min(0.3, PAUSE_MS / 2000)))

    async def bet(player: Player, delay: float) -> None:
        await asyncio.sleep(delay)
        stake = random.randint(100, 1000)
        sent_at = time.time()
        answer = await player.request({"type": "bet", "stake": stake})
        record_bet(player, number, stake, sent_at, shared.closes_at, answer)

    for player in players:
        player.bet_round, player.cashout_sent, player.target = None, False, None
    tasks = [asyncio.create_task(bet(p, random.uniform(0, 0.6 * window))) for p in bettors]
    tasks += [
        asyncio.create_task(bet(p, max(0.0, shared.closes_at - time.time()) + random.uniform(*late_delay)))
        for p in late
    ]
    try:
        await asyncio.wait_for(shared.crashed.wait(), window + ROUND_WAIT)
    except TimeoutError:
        raise Abort(f"round {number} did not crash within {window + ROUND_WAIT:.0f} s of opening") from None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(shared.settled.wait(), FRAME_WAIT)
    await asyncio.wait(tasks, timeout=2 * FRAME_WAIT)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(t for p in players for t in list(p.tasks)), return_exceptions=True)
    return number


async def quiet(players: list[Player], seconds: float = 2.0, bound: float = 60.0) -> None:
    """Until no client has read a frame for `seconds` (at most `bound`): frames that the servers
    still had queued arrive before the figures are taken."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if time.perf_counter() - max(p.last_frame for p in players) > seconds:
            return
        await asyncio.sleep(0.2)


def account(players: list[Player], shared: Round, growth: float) -> None:
    """One round's figures, once the run is over: settlement latency at each client, and the
    settlement itself against the answers each player had."""
    number = shared.number
    stats.rounds += 1
    if shared.crash_x100 is not None:
        stats.crash_points.append(shared.crash_x100)
    instant = None
    if shared.started_at is not None and shared.crash_x100 is not None:
        instant = shared.started_at + crash_ms(shared.crash_x100, growth) / 1000
    this_round = []
    for player in players:
        settled = player.settled_at.get(number)
        if settled is None:
            stats.settled_missing += 1
            continue
        if number in player.crashed_at:
            stats.crashed_to_settled_ms.append((settled[0] - player.crashed_at[number]) * 1000)
        if instant is not None:
            this_round.append((settled[1] - instant) * 1000)
    stats.instant_to_settled_ms += this_round
    if this_round:
        stats.round_medians.append((number, shared.crash_x100 or 0, percentile(this_round, 50)))
    # By alias and stake: two players may share an alias (docs/crash-room.md).
    results = {(r.get("player"), r.get("stake")): r for r in shared.results or []}
    for player in players:
        mine = player.bets.get(number)
        if mine is None:
            continue
        result, paid = results.get((player.alias, mine["stake"])), mine["paid"]
        if (
            result is None
            or result.get("stake") != mine["stake"]
            or result.get("win") != (paid["win"] if paid else 0)
            or (paid and paid["win"] != mine["stake"] * paid["cashout_x100"] // 100)
        ):
            stats.settlement_mismatches += 1
            if len(stats.mismatch_examples) < 5:
                answer = {k: paid[k] for k in ("cashout_x100", "win")} if paid else None
                stats.mismatch_examples.append(
                    f"round {number} {player.alias}: stake {mine['stake']}, cashed_out {answer}; settled {result}"
                )


async def late_joiners(players: list[Player]) -> None:
    """JOINS fresh sockets of random sessions, JOIN_RATE a second, while the rounds go on, opened
    and timed by a process of their own (bench/crash_joiners.py)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.crash_joiners", cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    given = {"urls": [p.url for p in players], "joins": JOINS, "rate": JOIN_RATE}
    try:
        out, err = await child.communicate(json.dumps(given).encode())
    except asyncio.CancelledError:
        child.kill()
        raise
    if child.returncode != 0:
        raise Abort(f"the late joiners' process exited {child.returncode}: {err.decode(errors='replace')[-2000:]}")
    found = json.loads(out)
    stats.joins_late.extend(found["joins_ms"])
    stats.join_failures += found["failures"]
    stats.joiner_lag_ms.extend(found["loop_lag_ms"])
    for phase, count in found["phases"].items():
        stats.join_phases[phase] = stats.join_phases.get(phase, 0) + count


async def rounds_phase(sessions: list[tuple[str, Instance]]) -> None:
    room = Room()
    players = [Player(key, server, room) for key, server in sessions]
    done = asyncio.Event()
    lag = asyncio.create_task(loop_lag(done, stats.loop_lag_ms))
    measured: list[int] = []
    try:
        print(f"   connecting {len(players)} players ({CONNECT_RATE:.0f}/s)…", flush=True)
        started = time.perf_counter()
        seen = 0  # the latest round a snapshot showed: the rounds measured open after it
        for n, player in enumerate(players):
            if (delay := started + n / CONNECT_RATE - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            try:
                player.ws, snapshot, seconds = await connect(player.url)
            except Abort:
                raise
            except Exception as exc:
                raise Abort(f"player {n}'s socket on instance {player.server.name} was refused: {exc!r}") from None
            player.alias = (snapshot.get("you") or {}).get("player", "")
            seen = max(seen, (snapshot.get("round") or {}).get("number") or 0)
            stats.joins_initial.append(seconds * 1000)
            player.reader = asyncio.create_task(player.read())
        joiner = asyncio.create_task(late_joiners(players))
        after = max(room.latest, seen)
        try:
            for n in range(ROUNDS):
                after = await play_round(players, room, after)
                measured.append(after)
                print(f"   ({time.strftime('%H:%M:%S')} round {after} done, {n + 1}/{ROUNDS})", flush=True)
        finally:
            done.set()
            try:
                await asyncio.wait_for(joiner, 120)
            except TimeoutError:
                joiner.cancel()
            await quiet(players)
            growth = float(GROWTH)
            for number in measured:
                account(players, room.rounds[number], growth)
    finally:
        done.set()
        lag.cancel()
        for player in players:
            if player.reader:
                player.reader.cancel()
        await asyncio.gather(*(p.ws.close() for p in players if p.ws is not None), return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# (d) Many fast rounds, then the verifier
# ---------------------------------------------------------------------------------------------


async def fast_rounds(server: Instance, key: str) -> tuple[int, float]:
    """One observer socket (the runner starts with a room's first socket) counts crash.crashed
    frames until VERIFY_ROUNDS rounds have crashed: (rounds seen crashed, seconds)."""
    from websockets.exceptions import ConnectionClosed

    url = f"{server.ws}/ws/studio/crash/?session={key}"
    first = last = None
    started = last_progress = last_crash = time.monotonic()
    reconnects = 0
    while time.monotonic() - started < FAST_SECONDS:
        try:
            ws, _, _ = await connect(url)
        except Exception as exc:
            reconnects += 1
            if reconnects > 10:
                raise Abort(f"the observer could not connect to the fast instance: {exc!r}") from None
            await asyncio.sleep(1)
            continue
        try:
            while time.monotonic() - started < FAST_SECONDS:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 5)
                except TimeoutError:
                    raw = None
                now = time.monotonic()
                if raw is not None:
                    frame = json.loads(raw)
                    if frame.get("type") == "crash.crashed":
                        last, last_crash = frame["number"], now
                        first = last if first is None else first
                if first is not None and last - first + 1 >= VERIFY_ROUNDS:
                    return last - first + 1, now - started
                if now - last_crash > STALL_SECONDS:
                    raise Abort(f"no round crashed for {STALL_SECONDS:.0f} s (last seen: {last})")
                if now - last_progress >= 10:
                    last_progress = now
                    count = 0 if first is None else last - first + 1
                    print(f"   ({time.strftime('%H:%M:%S')} {count} rounds crashed, "
                          f"{count / (now - started):.0f}/s)", flush=True)  # fmt: skip
        except ConnectionClosed:
            reconnects += 1
            if reconnects > 10:
                raise Abort("the observer's socket kept closing") from None
        finally:
            await ws.close()
    count = 0 if first is None else last - first + 1
    raise Abort(f"only {count} rounds crashed in {FAST_SECONDS:.0f} s (BENCH_CRASH_FAST_SECONDS)")


def verify(env: dict[str, str]) -> None:
    """`crash_verify --rounds VERIFY_ROUNDS`: its last line, and the mismatches against the target."""
    done = subprocess.run(
        [sys.executable, "manage.py", "crash_verify", "--rounds", str(VERIFY_ROUNDS)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    lines = (done.stdout + done.stderr).strip().splitlines()
    last = lines[-1] if lines else "(no output)"
    found = re.search(r"verified (\d+) rounds, (\d+) mismatches", last)
    if found:
        mismatches = int(found.group(2))
        print(f"(d) crash_verify: {last} (target 0 mismatches, {verdict(mismatches == 0 and done.returncode == 0)})")
    else:
        print(f"(d) crash_verify exited {done.returncode} without its verdict line: {last}")


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):7.1f} ms" if values else "    n/a"


def print_figures() -> None:
    s = stats
    print(f"{s.rounds} rounds played (crash points {sorted(s.crash_points)})")
    print(
        f"   bets sent in the window: {s.bets_sent}, accepted {s.bets_accepted}, refused {s.bet_refusals or 0}; "
        f"cash-outs sent {s.cashouts_sent}, paid {s.cashouts_paid}, refused {s.cashout_refusals or 0}"
    )
    share = s.late_closed / s.late_sent * 100 if s.late_sent else float("nan")
    print(
        f"(a) bets sent after the window closed: sent {s.late_sent}, refused BETTING_CLOSED {s.late_closed} "
        f"({share:.1f} %), accepted into that round {s.late_accepted}, accepted into the next round's window "
        f"(read that late) {s.late_next_round}, otherwise {s.late_other or 0} "
        f"(target 100 % BETTING_CLOSED, {verdict(s.late_sent > 0 and s.late_closed == s.late_sent)})"
    )
    p99 = percentile(s.joins_late, 99)
    print(
        f"(b) late joiners, handshake -> crash.snapshot: {len(s.joins_late)} joins (phases {s.join_phases}), "
        f"{s.join_failures} failed; p50 {ms(s.joins_late, 50)}  p99 {ms(s.joins_late, 99)} "
        f"(target <= {TARGET_JOIN_P99_MS:.0f}, {verdict(len(s.joins_late) >= 200 and p99 <= TARGET_JOIN_P99_MS)})\n"
        f"    (their process's loop lag p50 {ms(s.joiner_lag_ms, 50)}  p99 {ms(s.joiner_lag_ms, 99)}); "
        f"the players' first sockets ({len(s.joins_initial)}): p50 {ms(s.joins_initial, 50)}  "
        f"p99 {ms(s.joins_initial, 99)}"
    )
    c99, i99 = percentile(s.crashed_to_settled_ms, 99), percentile(s.instant_to_settled_ms, 99)
    print(
        f"(c) settlement at each client ({len(s.crashed_to_settled_ms)} frames, {s.settled_missing} settled frames "
        f"missing):\n"
        f"    crash.crashed -> crash.settled  p50 {ms(s.crashed_to_settled_ms, 50)}  "
        f"p99 {ms(s.crashed_to_settled_ms, 99)} "
        f"(target <= {TARGET_SETTLED_P99_MS:.0f}, {verdict(c99 <= TARGET_SETTLED_P99_MS)})\n"
        f"    crash instant -> crash.settled  p50 {ms(s.instant_to_settled_ms, 50)}  "
        f"p99 {ms(s.instant_to_settled_ms, 99)} "
        f"(target <= {TARGET_SETTLED_P99_MS:.0f}, {verdict(i99 <= TARGET_SETTLED_P99_MS)})\n"
        f"    settlement against the players' answers: {s.settlement_mismatches} mismatches "
        f"(target 0, {verdict(s.settlement_mismatches == 0)})\n"
        + "".join(f"      {example}\n" for example in s.mismatch_examples)
        + "    crash instant -> crash.settled by round (crash point: median): "
        + ", ".join(f"{x / 100:.2f}x: {m:.0f} ms" for _, x, m in s.round_medians)
        + "\n"
        + f"    for reading them: crash.tick at the clients after its elapsed_ms  p50 {ms(s.tick_late_ms, 50)}  "
        f"p99 {ms(s.tick_late_ms, 99)} ({len(s.tick_late_ms)} ticks); this process's loop lag "
        f"p50 {ms(s.loop_lag_ms, 50)}  p99 {ms(s.loop_lag_ms, 99)}",
        flush=True,
    )


def crash_benchmark(_workers: int) -> None:
    global stats
    stats = Stats()
    limit = raise_nofile()
    print(
        f"== crash room: two instances ({WORKERS} uvicorn worker(s) each) on one Redis and one database, "
        f"{PLAYERS} players, {ROUNDS} rounds (window {BETTING_MS} ms, pause {PAUSE_MS} ms, growth {GROWTH}/ms), "
        f"{JOINS} late joiners; then {VERIFY_ROUNDS} fast rounds and crash_verify; RLIMIT_NOFILE {limit}",
        flush=True,
    )
    try:
        with private_redis(os.environ.get("BENCH_CRASH_REDIS_URL", "")) as redis_url:
            env = {**bench_env(DATABASE), "REDIS_URL": redis_url}
            Path(env["PAM_DATA_DIR"]).mkdir(exist_ok=True)
            create_database(DATABASE)
            manage(env, "migrate", "--noinput")
            setup = subprocess.run(
                [sys.executable, "-m", "bench.crash_setup", str(PLAYERS)], cwd=ROOT, env=env,
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            if setup.returncode != 0:
                raise Abort(f"bench.crash_setup failed:\n{setup.stderr[-3000:]}")
            queries = setup.stdout.split()
            timings = {"STUDIO_CRASH_BETTING_MS": str(BETTING_MS), "STUDIO_CRASH_PAUSE_MS": str(PAUSE_MS),
                       "STUDIO_CRASH_GROWTH": GROWTH, "STUDIO_CRASH_TICK_MS": str(TICK_MS)}  # fmt: skip
            # The room's two instances call the wallet of a third, as a studio lifted out into its
            # own service would: the wallet's requests then hold no room process's interpreter
            # (with each instance its own wallet, the ticks stalled behind the bets' requests).
            with (
                instance(env, "wallet", workers=WORKERS) as wallet,
                instance(env, "a", workers=WORKERS, wallet_url=wallet.http, **timings) as a,
                instance(env, "b", workers=WORKERS, wallet_url=wallet.http, **timings) as b,
            ):
                try:
                    sessions = asyncio.run(open_sessions(queries, [a, b]))
                    asyncio.run(rounds_phase(sessions))
                except Exception as exc:  # Abort says what was missing; anything else, as it is
                    reason = exc if isinstance(exc, Abort) else repr(exc)
                    print(f"STOPPED: {reason}", flush=True)
                    print(
                        f"   instance a's log ends:\n{a.tail(15)}\n   instance b's log ends:\n{b.tail(15)}", flush=True
                    )
                    sessions = []
                finally:
                    print_figures()
            if VERIFY_ROUNDS and sessions:
                fast = {
                    "STUDIO_CRASH_BETTING_MS": "0",
                    "STUDIO_CRASH_PAUSE_MS": "0",
                    "STUDIO_CRASH_GROWTH": FAST_GROWTH,
                }
                print(f"-- (d) one instance, window 0 ms, pause 0 ms, growth {FAST_GROWTH}/ms, "
                      f"until {VERIFY_ROUNDS} rounds have crashed", flush=True)  # fmt: skip
                with instance(env, "fast", workers=WORKERS, **fast) as c:
                    try:
                        count, seconds = asyncio.run(fast_rounds(c, sessions[0][0]))
                        print(f"(d) {count} rounds crashed in {seconds:.0f} s ({count / seconds:.0f} rounds/s)")
                    except Abort as exc:
                        print(f"(d) STOPPED: {exc}\n   its log ends:\n{c.tail(15)}", flush=True)
                verify(env)
            print_audit(env)
    except Abort as exc:
        print(f"STOPPED: {exc}", flush=True)
