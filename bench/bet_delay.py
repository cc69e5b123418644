"""The benchmark of the in-play delay's accuracy (docs/sportsbook.md, "The in-play delay"): how close
to its `release_at` a pending bet is decided, against PAM served as `make serve` does (one
instance of WORKERS uvicorn processes and the outbox sweeper, whose release sweep is the safety
net), on a database and a Redis of the run's own.

1. A feed made with `create_feed`; one event in play with a delay of DELAY_S seconds and MARKETS
   markets, through the signed feed endpoint; PLAYERS funded players with API tokens
   (bench/bet_delay_setup.py).
2. (a) BETS in-play bets through `POST /api/player/v1/sportsbook/bets`, RATE a second spread over
   the players and markets, each answered `pending`; nobody asks after them. Once every one is
   decided, the database says when: `decided_at - release_at` per bet, the release timer's error.
3. (b) POLLED more bets, each polled by its player (`GET …/bets/{bet_id}` every POLL_MS from a
   little before its `release_at`) until it is no longer pending: the decision as the player
   sees it, from `release_at` to the first answer that shows it (the poll's period included; a
   GET after `release_at` may decide the bet itself, as it would in production).

It prints p50 / p99 / max of each and the target: |error| <= 50 ms for every bet of (a) (a bet
is never decided early: the re-check is after the whole delay).

`BENCH=bet_delay python -m bench` runs it. Knobs: BENCH_BET_DELAY_BETS (200), BENCH_BET_DELAY_POLLED
(50), BENCH_BET_DELAY_RATE (10 bets/s), BENCH_BET_DELAY_SECONDS (2: the event's delay),
BENCH_BET_DELAY_WORKERS (2 uvicorn workers), BENCH_BET_DELAY_DATABASE (pam_bench_bet_delay),
BENCH_BET_DELAY_REDIS_URL (default: a redis-server of its own).

Every socket is on 127.0.0.1; every loop is bounded in count and time; a server that does not
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
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.instances import Abort, instance, private_redis, sweeper
from bench.realtime import percentile, verdict
from bench.server import bench_env, create_database, manage
from tests.support import ROOT

BETS = int(os.environ.get("BENCH_BET_DELAY_BETS", "200"))
POLLED = int(os.environ.get("BENCH_BET_DELAY_POLLED", "50"))
RATE = float(os.environ.get("BENCH_BET_DELAY_RATE", "10"))  # bets a second
DELAY_S = int(os.environ.get("BENCH_BET_DELAY_SECONDS", "2"))
WORKERS = int(os.environ.get("BENCH_BET_DELAY_WORKERS", "2"))
DATABASE = os.environ.get("BENCH_BET_DELAY_DATABASE", "pam_bench_bet_delay")
PLAYERS = 20
MARKETS = 5

FEED = "bench-bet-delay"
FEED_ENDPOINT = "/api/feed/v1/messages"
BETS_ENDPOINT = "/api/player/v1/sportsbook/bets"
POLL_MS = 10
POLL_EARLY_S = 0.1  # the player starts asking this long before release_at
POLL_LIMIT = 1_000  # polls per bet at most (10 s at POLL_MS)
DECIDE_WAIT = 30.0  # seconds past the last release_at at most for every bet to be decided
SETUP_WAIT = 120.0
HEARTBEAT_S = 1.0

TARGET_MS = 50.0


# ---------------------------------------------------------------------------------------------
# The arithmetic (pure, tested in tests/benchmarks/test_bet_delay.py)
# ---------------------------------------------------------------------------------------------


def summary(values_ms: list[float]) -> dict:
    """p50, p99 and max of `values_ms`, and the largest distance from 0 (an early decision counts
    as much as a late one)."""
    return {"n": len(values_ms), "p50": percentile(values_ms, 50), "p99": percentile(values_ms, 99),
            "max": max(values_ms, default=float("nan")), "min": min(values_ms, default=float("nan")),
            "worst": max((abs(v) for v in values_ms), default=float("nan"))}  # fmt: skip


def met(errors_ms: list[float], expected: int) -> bool:
    """Every bet was decided, and each within TARGET_MS of its release_at."""
    return len(errors_ms) == expected and all(abs(error) <= TARGET_MS for error in errors_ms)


def parse_time(text: str) -> float:
    """An API timestamp (ISO 8601 with an offset, or Z) as seconds since the epoch."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    errors_ms: list[float] = field(default_factory=list)  # (a) decided_at - release_at
    statuses: dict[str, int] = field(default_factory=dict)  # (a) the bets' outcomes
    placing_ms: list[float] = field(default_factory=list)  # each placement's answer time
    seen_ms: list[float] = field(default_factory=list)  # (b) release_at -> the player's answer showing it
    polls: int = 0


class Feed:
    def __init__(self, secret: str, url: str) -> None:
        self.secret, self.url, self.seq = secret, url, 0

    async def post(self, client, *messages: dict) -> None:
        for message in messages:
            self.seq += 1
            message["seq"] = self.seq
        body = json.dumps({"messages": list(messages)}).encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        answer = await client.post(self.url + FEED_ENDPOINT, content=body, headers={
            "Content-Type": "application/json", "X-Feed": FEED, "X-Signature": signature})  # fmt: skip
        if answer.status_code != 200 or answer.json().get("applied") != len(messages):
            raise Abort(f"the feed endpoint answered {answer.status_code} {answer.text[:300]!r}")


async def open_match(feed: Feed, client) -> None:
    starts = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    markets = [
        {"type": "market", "event_id": "ev-1", "market_id": f"mk-{m}", "name": f"mk-{m}",
         "selections": [{"selection_id": f"mk-{m}-{name}", "name": name, "price": price}
                        for name, price in (("home", "2.10"), ("draw", "3.30"), ("away", "3.60"))]}
        for m in range(MARKETS)
    ]  # fmt: skip
    await feed.post(client, {"type": "event", "event_id": "ev-1", "name": "Bench v Delay", "sport": "football",
                             "starts_at": starts, "in_play_delay_s": DELAY_S}, *markets,
                    {"type": "live", "event_id": "ev-1"})  # fmt: skip


async def place(client, url: str, token: str, n: int, run: Run) -> dict:
    body = {"stake": 100, "currency": "EUR", "accept_price_changes": "none",
            "legs": [{"selection_id": f"mk-{n % MARKETS}-home", "price": "2.10", "market_version": 1}]}  # fmt: skip
    sent = time.perf_counter()
    answer = await client.post(url + BETS_ENDPOINT, json=body, headers={
        "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    run.placing_ms.append((time.perf_counter() - sent) * 1000)
    if answer.status_code != 201 or answer.json().get("status") != "pending":
        raise Abort(f"a bet in play was answered {answer.status_code} {answer.text[:300]!r}, not 201 pending")
    return answer.json()


async def paced(count: int, start) -> list:
    """`start(n)` for n in range(count), RATE a second, all awaited."""
    tasks = []
    begun = time.monotonic()
    for n in range(count):
        wait = begun + n / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(start(n)))
    return await asyncio.gather(*tasks)


async def unattended(run: Run, client, conn, url: str, tokens: list[str]) -> None:
    """(a): BETS bets nobody asks after; the database's decided_at - release_at once all are decided."""
    answers = await paced(BETS, lambda n: place(client, url, tokens[n % len(tokens)], n, run))
    ids = [answer["bet_id"] for answer in answers]
    last_release = max(parse_time(answer["placed_at"]) for answer in answers) + DELAY_S
    deadline = time.monotonic() + max(0.0, last_release - time.time()) + DECIDE_WAIT
    while True:
        rows = await (await conn.execute(
            "SELECT status, EXTRACT(EPOCH FROM decided_at - release_at) * 1000 FROM sportsbook_bet "
            "WHERE public_id = ANY(%s)", (ids,))).fetchall()  # fmt: skip
        if all(status != "pending" for status, _ in rows):
            break
        if time.monotonic() > deadline:
            pending = sum(status == "pending" for status, _ in rows)
            raise Abort(f"{pending} bets still pending {DECIDE_WAIT:.0f} s after their release_at: no timer, no sweep?")
        await asyncio.sleep(0.1)
    for status, error_ms in rows:
        run.statuses[status] = run.statuses.get(status, 0) + 1
        run.errors_ms.append(float(error_ms))


async def watched(run: Run, client, url: str, tokens: list[str]) -> None:
    """(b): POLLED bets, each polled by its player until it shows decided."""

    async def bet_and_poll(n: int) -> None:
        token = tokens[n % len(tokens)]
        answer = await place(client, url, token, BETS + n, run)
        release_at = parse_time(answer["placed_at"]) + DELAY_S
        await asyncio.sleep(max(0.0, release_at - POLL_EARLY_S - time.time()))
        for _ in range(POLL_LIMIT):
            run.polls += 1
            shown = await client.get(f"{url}{BETS_ENDPOINT}/{answer['bet_id']}",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            seen = time.time()
            if shown.status_code != 200:
                raise Abort(f"GET of a bet answered {shown.status_code} {shown.text[:300]!r}")
            if shown.json()["status"] != "pending":
                run.seen_ms.append((seen - release_at) * 1000)
                return
            await asyncio.sleep(POLL_MS / 1000)
        raise Abort(f"a bet was still pending after {POLL_LIMIT} polls")

    await paced(POLLED, bet_and_poll)


async def measure(run: Run, url: str, env: dict[str, str], secret: str, tokens: list[str]) -> None:
    import httpx
    import psycopg

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as client,
        await psycopg.AsyncConnection.connect(env["DATABASE_URL"], autocommit=True) as conn,
    ):
        feed = Feed(secret, url)
        await open_match(feed, client)
        done = asyncio.Event()
        beating = asyncio.create_task(heartbeats(feed, client, done))
        try:
            await unattended(run, client, conn, url, tokens)
            await watched(run, client, url, tokens)
        finally:
            done.set()
            await beating


async def heartbeats(feed: Feed, client, done: asyncio.Event) -> None:
    """The feed's heartbeat every HEARTBEAT_S until `done`, as a live feed sends: without it the
    staleness watchdog would suspend the match (and reject its bets) after 10 s of silence."""
    while not done.is_set():
        await feed.post(client, {"type": "heartbeat"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), HEARTBEAT_S)


def ms(figure: dict, key: str) -> str:
    return f"{figure[key]:.1f}"


def print_figures(run: Run) -> None:
    errors, seen, placing = summary(run.errors_ms), summary(run.seen_ms), summary(run.placing_ms)
    print(f"   placement answered (pending): p50 {ms(placing, 'p50')} ms, p99 {ms(placing, 'p99')} ms, "
          f"max {ms(placing, 'max')} ms over {placing['n']} bets", flush=True)  # fmt: skip
    print(f"   (a) decided_at - release_at, {errors['n']} of {BETS} bets nobody asked after "
          f"({', '.join(f'{k} {v}' for k, v in sorted(run.statuses.items()))}): p50 {ms(errors, 'p50')} ms, "
          f"p99 {ms(errors, 'p99')} ms, max {ms(errors, 'max')} ms, min {ms(errors, 'min')} ms; "
          f"target |error| <= {TARGET_MS:g} ms for every bet: {verdict(met(run.errors_ms, BETS))} "
          f"(worst {ms(errors, 'worst')} ms)", flush=True)  # fmt: skip
    print(f"   (b) release_at -> the player's GET showing the decision (polled every {POLL_MS} ms, "
          f"{run.polls} polls), {seen['n']} of {POLLED} bets: p50 {ms(seen, 'p50')} ms, p99 {ms(seen, 'p99')} ms, "
          f"max {ms(seen, 'max')} ms (the poll's period included; for information)", flush=True)  # fmt: skip


def seed_players(env: dict[str, str]) -> list[str]:
    setup = subprocess.run(
        [sys.executable, "-m", "bench.bet_delay_setup", str(PLAYERS)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=SETUP_WAIT, check=False,
    )  # fmt: skip
    if setup.returncode != 0:
        raise Abort(f"bench.bet_delay_setup failed:\n{setup.stderr[-3000:]}")
    return setup.stdout.split()


def bet_delay_benchmark(_workers: int) -> None:
    print(
        f"== bet_delay: one instance ({WORKERS} uvicorn workers) and the outbox sweeper; {BETS} in-play bets "
        f"with a {DELAY_S} s delay at {RATE:g}/s through the HTTP API, then {POLLED} more that their players poll",
        flush=True,
    )
    run = Run()
    try:
        with private_redis(os.environ.get("BENCH_BET_DELAY_REDIS_URL", "")) as redis_url:
            env = {**bench_env(DATABASE), "REDIS_URL": redis_url, "SPORTSBOOK_RELEASE_TIMER": "true"}
            Path(env["PAM_DATA_DIR"]).mkdir(exist_ok=True)
            create_database(DATABASE)
            manage(env, "migrate", "--noinput")
            secret = os.urandom(16).hex()
            manage(env, "create_feed", FEED, "--secret", secret)
            tokens = seed_players(env)
            with sweeper(env, PYTHONUNBUFFERED="1"), instance(env, "a", workers=WORKERS) as server:
                try:
                    asyncio.run(measure(run, server.http, env, secret, tokens))
                except Exception as exc:  # Abort says what was missing; anything else, as it is
                    print(f"STOPPED: {exc if isinstance(exc, Abort) else repr(exc)}", flush=True)
                    print(f"   the instance's log ends:\n{server.tail(15)}", flush=True)
                finally:
                    print_figures(run)
    except Abort as exc:
        print(f"STOPPED: {exc}", flush=True)
