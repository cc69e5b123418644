"""The sportsbook's bet intake beside the casino's bet, in one run on PAM served as `make serve`
does (PostgreSQL, Redis, uvicorn workers).

(s) a player's single on a pre-match market through `POST /api/player/v1/sportsbook/bets`
(bearer token, Idempotency-Key, the stake debited and the exposure rows of the selection, market,
event and platform grown in one transaction), against (a) the provider's signed casino bet
(`POST /api/wallet/v1/bet`, bench/wallet.py's request) on the same server, the same players, at
the same concurrency, in PAIRS alternating slices (the machine's speed drifts over a minute),
after a warm-up of each that is printed and not counted (`warm_up`: every selection's first bet).
Target: (s) >= 0.7 x (a).

Then against caps: CAPS_BETS bets (singles and doubles) by 20 threads on an event of their own
against small caps (bench/sportsbook_setup.py `caps`): no cap breached, the stored exposure equal
to its recomputation from the bets (tests/concurrency/test_sportsbook_bets.py checks the same with
1,000).

Then settlement: SETTLE_BETS more singles on one market (placed through the service by SETTLERS
processes at once), its result posted through the signed feed endpoint with the outbox sweeper
running beside the servers as under `make serve` (its settlement tick shares the work with the
worker that took the result), and the time from that
answer until every open bet of the market is settled (won or lost, paid through the wallet, its
liability off the exposure), polled in the database; with the settlement lag of each bet (its
`settled_at` after the market's). Target: 10,000 bets within 10 s.

`BENCH=sportsbook python -m bench` runs it. Knobs: BENCH_SECONDS (10, per load), BENCH_PAIRS (4),
BENCH_SPORTSBOOK_PLAYERS (2000), BENCH_SPORTSBOOK_EVENTS (50, with 3 markets each: bets spread
over 450 selections, so the exposure rows' locks are shared as on a busy evening),
BENCH_SPORTSBOOK_CAPS_BETS (10,000; 0 skips the caps' run), BENCH_SPORTSBOOK_SETTLE_BETS (10,000; 0 skips
settlement).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import psycopg

from bench import cost_split
from bench.instances import sweeper
from bench.load import Result, ratio, run_load
from bench.server import print_audit, served
from bench.wallet import bet_requests
from tests.support import ROOT

PLAYERS = int(os.environ.get("BENCH_SPORTSBOOK_PLAYERS", "2000"))
EVENTS = int(os.environ.get("BENCH_SPORTSBOOK_EVENTS", "50"))
MARKETS = 3
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "4"))
CAPS_BETS = int(os.environ.get("BENCH_SPORTSBOOK_CAPS_BETS", "10000"))
CAPS_THREADS = 20
SETTLE_BETS = int(os.environ.get("BENCH_SPORTSBOOK_SETTLE_BETS", "10000"))
SETTLERS = 4  # processes placing the settlement's bets
SETTLE_MARKET = "bench-e0-m0"
SETTLE_WAIT = 120.0  # seconds at most for every bet to be settled
SETTLE_TARGET_S = 10.0
CONCURRENCY = int(os.environ.get("BENCH_SPORTSBOOK_CLIENTS", "8"))
MAX_REQUESTS = 100_000
WARM_UP_S = 30.0  # at most; the warm-up's bets take about a second
STAKE = 100
TARGET = 0.7
# Caps far above what a run stakes: the bench measures intake's work, not its refusals.
LIMITS = {f"SPORTSBOOK_{name}_LIMIT": str(10**12) for name in ("SELECTION", "MARKET", "EVENT", "PLATFORM")}
LIMITS |= {"SPORTSBOOK_BET_LIABILITY_LIMIT": str(10**9), "SPORTSBOOK_MAX_PAYOUT_LIMIT": str(10**9)}


def sportsbook_requests(tokens: list[str], legs: list[dict], *, every_leg: bool = False):
    """A maker of singles of STAKE on a random leg of `legs`, by a random player of `tokens`;
    `every_leg`: the n-th request's leg is the n-th of `legs` (the warm-up's)."""
    counter = itertools.count()

    def make(n: int):
        leg = legs[n % len(legs)] if every_leg else random.choice(legs)
        body = json.dumps({
            "stake": STAKE, "currency": "EUR", "accept_price_changes": "none",
            "legs": [{"selection_id": leg["selection_id"], "price": leg["price"],
                      "market_version": leg["market_version"]}],
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {random.choice(tokens)}",
                   "Idempotency-Key": f"s{next(counter)}-{uuid.uuid4().hex[:12]}"}  # fmt: skip
        return "POST", "/api/player/v1/sportsbook/bets", headers, body

    return make


def _accepted(status: int, payload: bytes) -> bool:
    return status == 201 and b'"accepted"' in payload


def sportsbook_benchmark(workers: int) -> None:
    print(f"== sportsbook bets vs casino bets: {workers} uvicorn workers, {PLAYERS} funded players, "
          f"{EVENTS} pre-match events x {MARKETS} markets, c={CONCURRENCY}, {PAIRS} pairs of slices, "
          f"{DURATION:.0f} s per load")  # fmt: skip
    with served(workers, **LIMITS) as (host, port, env):
        provider, secret = "bench", secrets.token_hex(32)
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.seed", str(PLAYERS), provider, secret], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        player_ids = seeded.stdout.split("\n")[0].split()
        set_up = subprocess.run(
            [sys.executable, "-m", "bench.sportsbook_setup", "markets", str(EVENTS), str(MARKETS), *player_ids],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        book = json.loads(set_up.stdout)
        loads = {
            "a": (Result("(a) casino bet (wallet API)", CONCURRENCY), bet_requests(provider, secret, player_ids),
                  lambda status, _: status == 200),
            "s": (Result("(s) sportsbook single (player API)", CONCURRENCY),
                  sportsbook_requests(book["tokens"], book["legs"]), _accepted),
        }  # fmt: skip
        warm_up(host, port, loads, book, workers)
        measured = cost_split.Measured(_database(env), cost_split.server_pids(port))
        splits = {"a": cost_split.Split(), "s": cost_split.Split()}
        pair_ratios = []
        for pair in range(PAIRS):
            rates = {}
            for key in ("a", "s") if pair % 2 == 0 else ("s", "a"):
                total, make, ok = loads[key]
                with measured.slice(splits[key]) as done:
                    part = run_load(total.name, host, port, make, concurrency=CONCURRENCY,
                                    duration=DURATION / PAIRS, max_requests=MAX_REQUESTS, ok=ok,
                                    workers=workers)  # fmt: skip
                    done(len(part.latencies))
                total.absorb(part)
                rates[key] = part.rate
            pair_ratios.append(rates["s"] / rates["a"] if rates["a"] else float("nan"))
        casino, sports = loads["a"][0], loads["s"][0]
        for result in (casino, sports):
            print(result.line())
        print(f"(s)/(a) = {ratio(sports, casino)} (target >= {TARGET}; pairs "
              f"{' '.join(f'{r:.2f}' for r in pair_ratios)}, median {statistics.median(pair_ratios):.2f})   "
              f"errors (a) = {casino.errors}, (s) = {sports.errors}")  # fmt: skip
        for key, name in (("a", "(a) casino bet"), ("s", "(s) sportsbook single")):
            print(f"  {splits[key].line(name)}")
        if CAPS_BETS:
            against_caps(env, player_ids)
        if SETTLE_BETS:
            settlement(host, port, env, book, player_ids)
        print_audit(env)


def warm_up(host: str, port: int, loads: dict, book: dict, workers: int) -> None:
    """Each load once before the measured slices, not counted: a single on every leg of the book,
    in turn, then as many casino bets. A selection's first bet also opens its exposure rows in the
    player's currency (apps/sportsbook/locks.py, `open_exposure`: a transaction of its own, then the
    bet on the path that judges every case in Python), once in the book's life; in a 10 s run on a
    new book of 450 selections, about half of the first slice's 600 or so singles would be firsts.
    The workers' connections prepare their statements here too. Printed, so the cold rates show."""
    bets = len(book["legs"])
    every_leg = sportsbook_requests(book["tokens"], book["legs"], every_leg=True)
    rates = {}
    for key, make in (("s", every_leg), ("a", loads["a"][1])):
        name, ok = loads[key][0].name, loads[key][2]
        part = run_load(name, host, port, make, concurrency=CONCURRENCY, duration=WARM_UP_S, max_requests=bets, ok=ok,
                        workers=workers)  # fmt: skip
        if part.errors:
            raise RuntimeError(f"the warm-up's {name}: {part.errors} errors")
        rates[key] = part.rate
    print(f"warm-up, not counted: {bets} singles (each leg's first), {rates['s']:.0f}/s; {bets} casino bets, "
          f"{rates['a']:.0f}/s")  # fmt: skip


def _database(env: dict[str, str]) -> str:
    parts = urlsplit(env["DATABASE_URL"])
    return f"host={parts.hostname} port={parts.port or 5432} user={parts.username} dbname={parts.path[1:]}"


_MARKET_BETS = (
    "SELECT count(*) FILTER (WHERE b.status = 'accepted'), count(*) FILTER (WHERE b.status IN ('won', 'lost', 'void')) "
    "FROM sportsbook_bet b JOIN sportsbook_betleg l ON l.bet_id = b.id JOIN sportsbook_market m ON m.id = l.market_id "
    "WHERE m.market_id = %s"
)
_LAGS = (
    "SELECT extract(epoch FROM b.settled_at - m.settled_at) FROM sportsbook_bet b "
    "JOIN sportsbook_betleg l ON l.bet_id = b.id JOIN sportsbook_market m ON m.id = l.market_id "
    "WHERE m.market_id = %s AND b.settled_at IS NOT NULL ORDER BY 1"
)


def against_caps(env: dict[str, str], player_ids: list[str]) -> None:
    """CAPS_THREADS threads placing CAPS_BETS bets in all against small caps (bench.sportsbook_setup
    caps): no cap breached, the stored exposure equal to its recomputation. Each thread keeps its
    connection, so the process's pool holds one for each."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.sportsbook_setup", "caps", str(CAPS_THREADS), str(CAPS_BETS // CAPS_THREADS),
         *player_ids[:CAPS_THREADS]], cwd=ROOT, env={**env, "DB_POOL_MAX": str(CAPS_THREADS + 2)},
        capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    found = json.loads(done.stdout)
    clean = not (found["breaches"] or found["errors"] or found["alive"]) and found["exposure_recomputed"]
    verdict = "met" if clean else "MISSED"
    print(f"against caps: {CAPS_THREADS} threads, {found['taken'] + found['refused']} bets in "
          f"{time.perf_counter() - started:.0f} s: {found['taken']} taken, {found['refused']} refused STAKE_TOO_HIGH "
          f"(or short of funds); caps breached {len(found['breaches'])}, errors {len(found['errors'])}, stored "
          f"exposure = its recomputation: {found['exposure_recomputed']} (target: none breached, equal: "
          f"{verdict})")  # fmt: skip
    for line in found["breaches"][:5] + found["errors"][:5]:
        print(f"  {line}")


def settlement(host: str, port: int, env: dict[str, str], book: dict, player_ids: list[str]) -> None:
    """Place SETTLE_BETS singles on SETTLE_MARKET, post its result, time their settlement."""
    share = -(-SETTLE_BETS // SETTLERS)
    placing = [
        subprocess.Popen([sys.executable, "-m", "bench.sportsbook_setup", "bets", str(share), SETTLE_MARKET,
                          *player_ids[n::SETTLERS]], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for n in range(SETTLERS)
    ]  # fmt: skip
    started = time.perf_counter()
    accepted = sum(int(process.communicate(timeout=1800)[0]) for process in placing)
    placed_in = time.perf_counter() - started
    # The outbox sweeper beside the servers, as `make serve` runs it: its settlement tick joins the
    # settlers of the worker that took the result (they share the bets by claiming them).
    with sweeper(env), psycopg.connect(_database(env), autocommit=True) as conn:
        (open_bets, _) = conn.execute(_MARKET_BETS, (SETTLE_MARKET,)).fetchone()
        (last_seq,) = conn.execute("SELECT last_seq FROM sportsbook_feed WHERE code = %s", (book["feed"],)).fetchone()
        body = json.dumps({"messages": [{"seq": last_seq + 1, "type": "result", "market_id": SETTLE_MARKET,
                                         "winners": [f"{SETTLE_MARKET}-home"], "void": []}]}).encode()  # fmt: skip
        request = urllib.request.Request(
            f"http://{host}:{port}/api/feed/v1/messages", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Feed": book["feed"],
                     "X-Signature": hmac.new(book["secret"].encode(), body, hashlib.sha256).hexdigest()},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            answered = time.perf_counter()
            applied = json.loads(answer.read())["applied"]
        settled, done_in = 0, None
        while time.perf_counter() - answered < SETTLE_WAIT:
            (still_open, settled) = conn.execute(_MARKET_BETS, (SETTLE_MARKET,)).fetchone()
            if still_open == 0:
                done_in = time.perf_counter() - answered
                break
            time.sleep(0.05)
        lags = [float(row[0]) for row in conn.execute(_LAGS, (SETTLE_MARKET,)).fetchall()]
    print(f"settlement: {accepted} singles placed on one market by {SETTLERS} processes in {placed_in:.0f} s "
          f"({open_bets} open at the result, applied {applied})")  # fmt: skip
    if done_in is None:
        print(f"settlement: NOT DONE: {settled} of {open_bets} settled after {SETTLE_WAIT:.0f} s")
        return
    verdict = "met" if done_in <= SETTLE_TARGET_S else "MISSED"
    print(f"settlement: {settled} bets settled {done_in:.2f} s after the result's answer (target <= "
          f"{SETTLE_TARGET_S:.0f} s for 10,000: {verdict}); lag per bet (settled_at - the market's) p50 "
          f"{statistics.median(lags):.2f} s, p99 {lags[min(len(lags) - 1, int(0.99 * len(lags)))]:.2f} s, "
          f"max {lags[-1]:.2f} s")  # fmt: skip
