"""The benchmark of the sportsbook's prices out (docs/sportsbook.md: the odds socket and the
staleness watchdog), in one run against PAM served as `make serve` does: two instances and the
outbox sweeper (whose ticks run the watchdog) on one Redis and one PostgreSQL database, with a
short staleness limit.

1. A feed made with `create_feed`; EVENTS events in play with MARKETS markets each, sent through
   the signed feed endpoint.
2. SOCKETS odds sockets (`/ws/odds/`), half on each instance, subscribed to every event, in a
   client process of their own (bench/odds_clients.py), which also measures its loop lag.
3. CYCLES cycles of: the feed resumes (fresh prices for every market: its staleness ends and PAM's
   suspensions lift), reprices REPRICE markets a batch at RATE batches a second for PRICE_SECONDS
   (b), then goes silent until the watchdog has suspended its markets (a).

It prints (a) how late the watchdog suspended after the limit (target: within 1 s) and the time
from the suspension to its frame at every socket (target p99 <= 100 ms); (b) the time from each
repricing's answer to its frame at every socket, frames out of version order and sockets that did
not end with every market's last version (targets 0).

`BENCH=odds python -m bench` runs it. Knobs: BENCH_ODDS_SOCKETS (200), BENCH_ODDS_EVENTS (10),
BENCH_ODDS_MARKETS (3 per event), BENCH_ODDS_CYCLES (20), BENCH_ODDS_PRICE_SECONDS (3),
BENCH_ODDS_RATE (20 batches/s), BENCH_ODDS_REPRICE (2 markets a batch), BENCH_ODDS_STALE_SECONDS
(3: the run's SPORTSBOOK_STALE_AFTER_SECONDS), BENCH_ODDS_WORKERS (uvicorn workers per instance,
1), BENCH_ODDS_DATABASE (pam_bench_odds), BENCH_ODDS_REDIS_URL (default: a redis-server of its own).

Every socket is on 127.0.0.1; every loop is bounded in count and time; a server side that does not
answer as the contract says ends the run with a message saying what was missing, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.instances import Abort, instance, log_path, private_redis, sweeper, tail
from bench.realtime import percentile, raise_nofile, verdict
from bench.server import bench_env, create_database, manage
from tests.support import ROOT

SOCKETS = int(os.environ.get("BENCH_ODDS_SOCKETS", "200"))
EVENTS = int(os.environ.get("BENCH_ODDS_EVENTS", "10"))
MARKETS = int(os.environ.get("BENCH_ODDS_MARKETS", "3"))  # per event
CYCLES = int(os.environ.get("BENCH_ODDS_CYCLES", "20"))
PRICE_SECONDS = float(os.environ.get("BENCH_ODDS_PRICE_SECONDS", "3"))
RATE = float(os.environ.get("BENCH_ODDS_RATE", "20"))  # repricing batches a second
REPRICE = int(os.environ.get("BENCH_ODDS_REPRICE", "2"))  # markets a batch
STALE_SECONDS = float(os.environ.get("BENCH_ODDS_STALE_SECONDS", "3"))
WORKERS = int(os.environ.get("BENCH_ODDS_WORKERS", "1"))
DATABASE = os.environ.get("BENCH_ODDS_DATABASE", "pam_bench_odds")

FEED = "bench-odds"
ENDPOINT = "/api/feed/v1/messages"
SETTLE_SECONDS = 1.0  # after each suspension, before the feed speaks again: its frames arrive first
STALE_WAIT = 15.0  # seconds past the limit at most for the watchdog to suspend
READY_WAIT = 120.0  # seconds at most for the client process to have every socket's snapshot
RESULTS_WAIT = 120.0  # seconds at most for its figures once told to stop

TARGET_LATE_S, TARGET_FANOUT_P99_MS = 1.0, 100.0


# ---------------------------------------------------------------------------------------------
# The arithmetic (pure, tested in tests/benchmarks/test_odds.py)
# ---------------------------------------------------------------------------------------------


def home_price(k: int) -> str:
    """The home price of a market's k-th repricing of the run: 2.00, 2.01, … (9,000 apart before
    one repeats), so that (market, home price) names the repricing a frame brings."""
    hundredths = 200 + k % 9000
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@dataclass(frozen=True)
class Suspension:
    """One watchdog suspension, as the database recorded it (epoch seconds)."""

    stale_since: float  # the watchdog's clock when it took the feed (its transaction follows)
    limit_at: float  # the feed's last batch plus the staleness limit: when it became stale
    versions: dict[str, int]  # market_id -> the version the suspension gave it
    # Its log line `sportsbook.feed_stale`, written once its statements are done and before its
    # COMMIT: the commit's instant, to the COMMIT's own round trip (None: no such line found).
    committed_at: float | None = None

    @property
    def late_s(self) -> float:
        """How long after the limit the markets were suspended: committed (`stale_since`, the
        watchdog's decision, when its log line was not found)."""
        return (self.stale_since if self.committed_at is None else self.committed_at) - self.limit_at


# A frame as the clients record it: (market_id, version, status, delayed, home price, arrival).
Frame = tuple[str, int, str, bool, str, float]


@dataclass
class Figures:
    """What the sockets saw, accounted against what the feed sent and the watchdog did."""

    price_ms: list[float] = field(default_factory=list)  # repricing's answer -> its frame
    superseded: int = 0  # repricings a socket never saw because a newer state replaced them
    commit_ms: list[float] = field(default_factory=list)  # the suspension's commit -> its frame
    first_ms: list[float] = field(default_factory=list)  # the commit -> its first frame at any socket
    suspension_ms: list[float] = field(default_factory=list)  # stale_since -> suspension frame
    limit_ms: list[float] = field(default_factory=list)  # the limit -> suspension frame
    suspension_missing: int = 0
    backwards: int = 0  # a frame at a lower version than the socket held
    repeats: int = 0  # the same version and `delayed` again
    lost: int = 0  # (socket, market) pairs not holding the market's last version at the end
    frames: int = 0


def account(
    sockets: Iterable[list[Frame]],
    answers: dict[tuple[str, str], float],
    suspensions: list[Suspension],
    final: dict[str, tuple[int, str]],
) -> Figures:
    """Each socket's frames, in arrival order, against the repricings' answers ((market, home
    price) -> when the POST was answered), the suspensions, and each market's last (version,
    status). A repricing is timed by the first open, undelayed frame with its price; a frame is
    out of order when its version is below the one the socket held, or equal with the same
    `delayed` (the contract allows the same version only with the other `delayed`)."""
    figures = Figures()
    first: dict[int, float] = {}  # suspension -> its earliest frame at any socket
    for frames in sockets:
        figures.frames += len(frames)
        held: dict[str, tuple[int, bool, str]] = {}
        timed: set[tuple[str, str]] = set()
        arrivals: dict[tuple[str, int], float] = {}
        for market_id, version, status, delayed, home, arrival in frames:
            before = held.get(market_id)
            if before is not None and version < before[0]:
                figures.backwards += 1
            elif before is not None and (version, delayed) == before[:2]:
                figures.repeats += 1
            held[market_id] = (version, delayed, status)
            if status == "suspended" and delayed:
                arrivals.setdefault((market_id, version), arrival)
            key = (market_id, home)
            if status == "open" and not delayed and key in answers and key not in timed:
                timed.add(key)
                figures.price_ms.append((arrival - answers[key]) * 1000)
        figures.superseded += len(answers.keys() - timed)
        for n, suspension in enumerate(suspensions):
            for market_id, version in suspension.versions.items():
                arrival = arrivals.get((market_id, version))
                if arrival is None:
                    figures.suspension_missing += 1
                    continue
                figures.suspension_ms.append((arrival - suspension.stale_since) * 1000)
                if suspension.committed_at is not None:
                    figures.commit_ms.append((arrival - suspension.committed_at) * 1000)
                    first[n] = min(first.get(n, arrival), arrival)
                figures.limit_ms.append((arrival - suspension.limit_at) * 1000)
        for market_id, (version, status) in final.items():
            last = held.get(market_id)
            if last is None or (last[0], last[2]) != (version, status):
                figures.lost += 1
    figures.first_ms = [(first[n] - suspensions[n].committed_at) * 1000 for n in sorted(first)]
    return figures


def summary(values: list[float]) -> dict:
    """p50, p99 and max of `values` (NaN when there are none), and how many."""
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values) if values else float("nan")}  # fmt: skip


def staleness_met(suspensions: list[Suspension], cycles: int) -> bool:
    """Every cycle's markets were suspended, none later than TARGET_LATE_S after the limit."""
    return len(suspensions) == cycles > 0 and all(s.late_s <= TARGET_LATE_S for s in suspensions)


def fanout_met(commit_ms: dict, missing: int) -> bool:
    """The suspension frames' p99 from the commit within the target, and none missing."""
    return commit_ms["n"] > 0 and missing == 0 and commit_ms["p99"] <= TARGET_FANOUT_P99_MS


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def watchdog_commit(log: str, feed: str, silent_since: float) -> float | None:
    """The time of the watchdog's `sportsbook.feed_stale` line for `feed` silent since
    `silent_since` (epoch seconds) in the sweeper's JSON log, or None."""
    for line in reversed(log.splitlines()):
        if '"sportsbook.feed_stale"' not in line:
            continue
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entry = json.loads(line)
            if entry["feed"] == feed and abs(parse_time(entry["silent_since"]) - silent_since) < 1e-6:
                return parse_time(entry["timestamp"])
    return None


# ---------------------------------------------------------------------------------------------
# The feed
# ---------------------------------------------------------------------------------------------


@dataclass
class Feed:
    """The feed's side: its sequence numbers, its markets, and when each repricing was answered."""

    secret: str
    urls: list[str]
    seq: int = 0
    sent: int = 0
    late: int = 0
    repricings: dict[str, int] = field(default_factory=dict)  # market_id -> repricings so far
    answers: dict[tuple[str, str], float] = field(default_factory=dict)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def market(self, event_id: str, market_id: str) -> dict:
        """The market's message with its next home price (draw and away at random)."""
        k = self.repricings.get(market_id, 0)
        self.repricings[market_id] = k + 1
        prices = (home_price(k), f"{random.randint(250, 450) / 100:.2f}", f"{random.randint(150, 600) / 100:.2f}")
        selections = [{"selection_id": f"{market_id}-{name}", "name": name.title(), "price": price}
                      for name, price in zip(("home", "draw", "away"), prices, strict=True)]  # fmt: skip
        return {"seq": self.next_seq(), "type": "market", "event_id": event_id, "market_id": market_id,
                "name": market_id, "selections": selections}  # fmt: skip

    async def post(self, client, messages: list[dict]) -> float:
        """POST one signed batch (to the instances in turn, as a load balancer would); the
        epoch time of its answer. Every message must be applied."""
        body = json.dumps({"messages": messages}).encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        url = self.urls[self.sent % len(self.urls)] + ENDPOINT
        self.sent += 1
        answer = await client.post(url, content=body, headers={
            "Content-Type": "application/json", "X-Feed": FEED, "X-Signature": signature})  # fmt: skip
        answered = time.time()
        if answer.status_code != 200 or answer.json().get("applied") != len(messages):
            raise Abort(f"the feed endpoint answered {answer.status_code} {answer.text[:300]!r} to {len(messages)} "
                        "messages")  # fmt: skip
        return answered


def event_ids() -> list[str]:
    return [f"ev-{n}" for n in range(EVENTS)]


def market_ids() -> list[tuple[str, str]]:
    return [(event_id, f"{event_id}-m{m}") for event_id in event_ids() for m in range(MARKETS)]


async def open_book(feed: Feed, client) -> None:
    """The events, in play, and their markets: one batch."""
    starts_at = dt.datetime.now(dt.UTC).isoformat()
    messages = []
    for event_id in event_ids():
        messages.append({"seq": feed.next_seq(), "type": "event", "event_id": event_id, "name": f"Match {event_id}",
                         "sport": "football", "starts_at": starts_at, "in_play_delay_s": 5})  # fmt: skip
        messages.append({"seq": feed.next_seq(), "type": "live", "event_id": event_id})
    messages += [feed.market(event_id, market_id) for event_id, market_id in market_ids()]
    await feed.post(client, messages)


async def reprice(feed: Feed, client) -> None:
    """PRICE_SECONDS of repricing at RATE batches a second, REPRICE markets each, the markets in
    turn. Batches go one after the other (a batch overtaking another would be skipped by `seq`);
    one that could not leave on time leaves at once and is counted late."""
    markets = market_ids()
    started = time.perf_counter()
    for n in range(max(1, int(PRICE_SECONDS * RATE))):
        if (delay := started + n / RATE - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        elif delay < -0.5 / RATE:
            feed.late += 1
        chosen = [markets[(n * REPRICE + i) % len(markets)] for i in range(min(REPRICE, len(markets)))]
        messages = [feed.market(event_id, market_id) for event_id, market_id in chosen]
        answered = await feed.post(client, messages)
        for message in messages:
            feed.answers[(message["market_id"], message["selections"][0]["price"])] = answered


# ---------------------------------------------------------------------------------------------
# The database's side: the watchdog's record
# ---------------------------------------------------------------------------------------------


FEED_STATE = "SELECT id, stale_since, last_message_at FROM sportsbook_feed WHERE code = %s"


async def wait_for_suspension(conn, limit_s: float, sweeper_log: Path) -> Suspension:
    """Until the watchdog has marked the feed stale (polled every 20 ms, at most STALE_WAIT past
    the limit): its `stale_since`, the limit, the versions it gave the markets, and its commit
    (its log line)."""
    deadline = time.monotonic() + limit_s + STALE_WAIT
    while time.monotonic() < deadline:
        found = await conn.execute(FEED_STATE, (FEED,))
        row = await found.fetchone()
        if row[1] is not None:
            rows = await (await conn.execute(
                "SELECT market_id, version FROM sportsbook_market WHERE feed_id = %s AND watchdog_suspended",
                (row[0],))).fetchall()  # fmt: skip
            committed_at = watchdog_commit(sweeper_log.read_text(errors="replace"), FEED, row[2].timestamp())
            return Suspension(row[1].timestamp(), row[2].timestamp() + limit_s, dict(rows), committed_at)
        await asyncio.sleep(0.02)
    raise Abort(f"the watchdog did not suspend the silent feed within {limit_s + STALE_WAIT:.0f} s: is the sweeper up?")


async def final_states(conn) -> dict[str, tuple[int, str]]:
    rows = await (await conn.execute(
        "SELECT m.market_id, m.version, m.status FROM sportsbook_market m JOIN sportsbook_feed f ON f.id = m.feed_id "
        "WHERE f.code = %s", (FEED,))).fetchall()  # fmt: skip
    return {market_id: (version, status) for market_id, version, status in rows}


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    suspensions: list[Suspension] = field(default_factory=list)
    clients: dict = field(default_factory=dict)  # the client process's figures
    feed: Feed | None = None


async def read_line(stream, timeout: float, what: str) -> dict:
    try:
        line = await asyncio.wait_for(stream.readline(), timeout)
    except TimeoutError:
        raise Abort(f"the client process gave no {what} within {timeout:.0f} s") from None
    if not line:
        raise Abort(f"the client process ended before its {what}")
    return json.loads(line)


async def measure(run: Run, urls: list[str], sockets: list[str], env: dict[str, str], secret: str) -> None:
    import httpx
    import psycopg

    run.feed = feed = Feed(secret=secret, urls=urls)
    async with (
        httpx.AsyncClient(timeout=30) as client,
        await psycopg.AsyncConnection.connect(env["DATABASE_URL"], autocommit=True) as conn,
    ):
        await open_book(feed, client)
        with open(log_path(env, "clients"), "w") as stderr:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.odds_clients", cwd=ROOT,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, limit=2**24,
            )  # fmt: skip
        try:
            given = {"urls": sockets, "event_ids": event_ids(), "markets": len(market_ids())}
            child.stdin.write(json.dumps(given).encode() + b"\n")
            await child.stdin.drain()
            ready = asyncio.create_task(read_line(child.stdout, READY_WAIT, "ready line"))
            while not ready.done():  # heartbeats, so that the feed stays fresh while they connect
                await asyncio.wait({ready}, timeout=min(1.0, STALE_SECONDS / 3))
                if not ready.done():
                    await feed.post(client, [{"seq": feed.next_seq(), "type": "heartbeat"}])
            print(f"   {ready.result()['connected']} sockets connected with every snapshot "
                  f"({ready.result()['failed']} failed)", flush=True)  # fmt: skip
            for cycle in range(CYCLES):
                await feed.post(client, [feed.market(e, m) for e, m in market_ids()])  # ends the staleness
                await reprice(feed, client)
                suspension = await wait_for_suspension(conn, STALE_SECONDS, log_path(env, "sweeper"))
                run.suspensions.append(suspension)
                print(f"   ({time.strftime('%H:%M:%S')} cycle {cycle + 1}/{CYCLES}: suspended "
                      f"{len(suspension.versions)} markets {suspension.late_s * 1000:.0f} ms after the limit)",
                      flush=True)  # fmt: skip
                await asyncio.sleep(SETTLE_SECONDS)
            log = {
                "answers": [[m, home, t] for (m, home), t in feed.answers.items()],
                "suspensions": [asdict(s) for s in run.suspensions],
                "final": await final_states(conn),
            }
            child.stdin.write(json.dumps(log).encode() + b"\n")
            await child.stdin.drain()
            run.clients = await read_line(child.stdout, RESULTS_WAIT, "figures")
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()


def ms(figure: dict, key: str) -> str:
    return f"{figure[key]:7.1f} ms" if figure.get("n") else "    n/a"


def print_figures(run: Run) -> None:
    late = summary([s.late_s * 1000 for s in run.suspensions])
    print(
        f"(a) staleness, limit {STALE_SECONDS:g} s: the watchdog's suspension after the limit (its commit - the "
        f"feed's last batch - the limit), {late['n']} of {CYCLES} cycles: p50 {ms(late, 'p50')}  p99 "
        f"{ms(late, 'p99')}  max {ms(late, 'max')} (target <= {TARGET_LATE_S * 1000:.0f} ms, "
        f"{verdict(staleness_met(run.suspensions, CYCLES))})"
    )
    c = run.clients
    if not c:
        print("    (no figures from the client process)")
        return
    commit, whole, limit, price = c["commit_ms"], c["suspension_ms"], c["limit_ms"], c["price_ms"]
    known = sum(s.committed_at is not None for s in run.suspensions)
    own = summary([(s.committed_at - s.stale_since) * 1000 for s in run.suspensions if s.committed_at is not None])
    print(
        f"    the suspension's commit -> its frame at each socket ({commit['n']} frames, {c['suspension_missing']} "
        f"missing; the commit known for {known} of {len(run.suspensions)}): p50 {ms(commit, 'p50')}  "
        f"p99 {ms(commit, 'p99')}  max {ms(commit, 'max')} (target p99 <= {TARGET_FANOUT_P99_MS:.0f}, "
        f"{verdict(fanout_met(commit, c['suspension_missing']) and known == len(run.suspensions))})\n"
        f"    for reading it: the watchdog's own transaction (stale_since -> its log line before COMMIT) "
        f"p50 {ms(own, 'p50')}  max {ms(own, 'max')}; stale_since -> the frame p50 {ms(whole, 'p50')}  "
        f"p99 {ms(whole, 'p99')}; the limit -> the frame p50 {ms(limit, 'p50')}  p99 {ms(limit, 'p99')}  "
        f"max {ms(limit, 'max')}; the commit -> its first frame at any socket p50 {ms(c['first_ms'], 'p50')}  "
        f"max {ms(c['first_ms'], 'max')}"
    )
    feed = run.feed
    print(
        f"(b) prices: {len(feed.answers)} repricings in batches of {REPRICE} at {RATE:g}/s ({feed.late} batches "
        f"late), answer -> frame at each socket ({price['n']} frames): p50 {ms(price, 'p50')}  "
        f"p99 {ms(price, 'p99')}  max {ms(price, 'max')}; {c['superseded']} replaced in a socket's mailbox "
        f"by a newer state before it was written\n"
        f"    out of version order: {c['backwards']} backwards, {c['repeats']} repeated (target 0, "
        f"{verdict(c['backwards'] == c['repeats'] == 0)}); sockets not ending with a market's last version: "
        f"{c['lost']} (target 0, {verdict(c['lost'] == 0 and c['sockets'] == SOCKETS)})\n"
        f"    {c['sockets']} sockets, {c['frames']} frames; the client process's loop lag "
        f"p50 {ms(c['loop_lag_ms'], 'p50')}  p99 {ms(c['loop_lag_ms'], 'p99')}",
        flush=True,
    )


def odds_benchmark(_workers: int) -> None:
    limit = raise_nofile()
    print(
        f"== odds: two instances ({WORKERS} uvicorn worker(s) each) and the outbox sweeper on one Redis and one "
        f"database; {SOCKETS} odds sockets on {EVENTS} events x {MARKETS} markets; {CYCLES} cycles of "
        f"{PRICE_SECONDS:g} s of prices ({RATE:g} batches/s x {REPRICE} markets), then silence past the "
        f"staleness limit of {STALE_SECONDS:g} s; RLIMIT_NOFILE {limit}",
        flush=True,
    )
    run = Run()
    try:
        with private_redis(os.environ.get("BENCH_ODDS_REDIS_URL", "")) as redis_url:
            # The circuit breakers' triggers off: every cycle's silence suspends all the in-play
            # markets, which would trip pre_match_only (prices `delayed` from then on, and a
            # repricing is timed by its first undelayed frame). The run measures the watchdog.
            env = {**bench_env(DATABASE), "REDIS_URL": redis_url,
                   "SPORTSBOOK_STALE_AFTER_SECONDS": str(STALE_SECONDS),
                   "SPORTSBOOK_BREAKER_STALE_FEEDS": "0", "SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS": "0",
                   "SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS": "0"}  # fmt: skip
            Path(env["PAM_DATA_DIR"]).mkdir(exist_ok=True)
            create_database(DATABASE)
            manage(env, "migrate", "--noinput")
            secret = os.urandom(16).hex()
            manage(env, "create_feed", FEED, "--secret", secret)
            with (
                sweeper(env, PYTHONUNBUFFERED="1"),
                instance(env, "a", workers=WORKERS) as a,
                instance(env, "b", workers=WORKERS) as b,
            ):
                sockets = [f"{(a, b)[n % 2].ws}/ws/odds/" for n in range(SOCKETS)]
                try:
                    asyncio.run(measure(run, [a.http, b.http], sockets, env, secret))
                except Exception as exc:  # Abort says what was missing; anything else, as it is
                    print(f"STOPPED: {exc if isinstance(exc, Abort) else repr(exc)}", flush=True)
                    print(f"   instance a's log ends:\n{a.tail(15)}\n   instance b's log ends:\n{b.tail(15)}\n"
                          f"   the clients' errors:\n{tail(log_path(env, 'clients'))}", flush=True)  # fmt: skip
                finally:
                    if run.feed is not None:
                        print_figures(run)
    except Abort as exc:
        print(f"STOPPED: {exc}", flush=True)
