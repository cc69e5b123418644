"""The sportsbook's bet intake beside the casino's bet, in one run on PAM served as `make serve`
does (PostgreSQL, Redis, uvicorn workers).

(s) a player's single on a pre-match market through `POST /api/player/v1/sportsbook/bets`
(bearer token, Idempotency-Key, the stake debited and the exposure rows of the selection, market,
event and platform grown in one transaction), against (a) the provider's signed casino bet
(`POST /api/wallet/v1/bet`, bench/wallet.py's request) on the same server, the same players, at
the same concurrency, in PAIRS alternating slices (the machine's speed drifts over a minute).
Target: (s) >= 0.7 x (a).

`BENCH=sportsbook python -m bench` runs it. Knobs: BENCH_SECONDS (10, per load), BENCH_PAIRS (4),
BENCH_SPORTSBOOK_PLAYERS (2000), BENCH_SPORTSBOOK_EVENTS (50, with 3 markets each: bets spread
over 450 selections, so the exposure rows' locks are shared as on a busy evening).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import uuid

from bench.load import Result, ratio, run_load
from bench.server import print_audit, served
from bench.wallet import bet_requests
from tests.support import ROOT

PLAYERS = int(os.environ.get("BENCH_SPORTSBOOK_PLAYERS", "2000"))
EVENTS = int(os.environ.get("BENCH_SPORTSBOOK_EVENTS", "50"))
MARKETS = 3
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "4"))
CONCURRENCY = int(os.environ.get("BENCH_SPORTSBOOK_CLIENTS", "8"))
MAX_REQUESTS = 100_000
STAKE = 100
TARGET = 0.7
# Caps far above what a run stakes: the bench measures intake's work, not its refusals.
LIMITS = {f"SPORTSBOOK_{name}_LIMIT": str(10**12) for name in ("SELECTION", "MARKET", "EVENT", "PLATFORM")}
LIMITS |= {"SPORTSBOOK_BET_LIABILITY_LIMIT": str(10**9), "SPORTSBOOK_MAX_PAYOUT_LIMIT": str(10**9)}


def sportsbook_requests(tokens: list[str], legs: list[dict]):
    counter = itertools.count()

    def make(_n: int):
        leg = random.choice(legs)
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
        pair_ratios = []
        for pair in range(PAIRS):
            rates = {}
            for key in ("a", "s") if pair % 2 == 0 else ("s", "a"):
                total, make, ok = loads[key]
                part = run_load(total.name, host, port, make, concurrency=CONCURRENCY, duration=DURATION / PAIRS,
                                max_requests=MAX_REQUESTS, ok=ok, workers=workers)  # fmt: skip
                total.absorb(part)
                rates[key] = part.rate
            pair_ratios.append(rates["s"] / rates["a"] if rates["a"] else float("nan"))
        casino, sports = loads["a"][0], loads["s"][0]
        for result in (casino, sports):
            print(result.line())
        print(f"(s)/(a) = {ratio(sports, casino)} (target >= {TARGET}; pairs "
              f"{' '.join(f'{r:.2f}' for r in pair_ratios)}, median {statistics.median(pair_ratios):.2f})   "
              f"errors (a) = {casino.errors}, (s) = {sports.errors}")  # fmt: skip
        print_audit(env)
