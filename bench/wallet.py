"""The benchmark of the wallet API: signed bets vs /healthz on the same server vs the same bet
as plain SQL on PostgreSQL, at the same concurrency, in one run."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg

from bench.load import Result, ratio, run_load
from bench.server import print_audit, served
from tests.support import ROOT

PLAYERS = int(os.environ.get("BENCH_PLAYERS", "10000"))
# Players with every player-protection limit set, beside the PLAYERS without (the target: a bet
# with limits stays within 10 % of one without, measured in the same run).
LIMITED = int(os.environ.get("BENCH_LIMITED", str(max(1, PLAYERS // 5))))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
# The four loads run in this many rounds of slices (DURATION / PAIRS each), in the order
# a a' b c, then c b a' a, …: the speed of this shared machine drifts over a minute by more than
# the 10 % that (a')/(a) measures, and a ceiling from (b) and (c) run a minute after (a) compared
# (a) with another machine. Neighbouring slices see the same machine; each round gives its own
# (a')/(a) and (a)/ceiling.
PAIRS = int(os.environ.get("BENCH_PAIRS", "4"))
MAX_REQUESTS = 100_000
PROFILE_BETS = int(os.environ.get("BENCH_PROFILE_BETS", "3000"))


def _signature(secret: str, op: str, body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), op.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def bet_requests(provider: str, secret: str, player_ids: list[str]):
    counter = itertools.count()

    def make(_n: int):
        body = json.dumps({
            "player_id": random.choice(player_ids), "currency": "EUR", "amount": 1,
            "transaction_id": f"b{next(counter)}-{uuid.uuid4().hex[:8]}", "round_id": uuid.uuid4().hex[:12],
            "game_id": "bench-slot",
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "X-Provider": provider,
                   "X-Signature": _signature(secret, "bet", body)}  # fmt: skip
        return "POST", "/api/wallet/v1/bet", headers, body

    return make


# The plain-SQL bet's three statements, between BEGIN and COMMIT (also run in-process by
# bench/profile_bet.py for PostgreSQL's CPU per bet).
PLAIN_LOCK = "SELECT balance FROM bench_account WHERE id = %s FOR UPDATE"
PLAIN_UPDATE = "UPDATE bench_account SET balance = %s WHERE id = %s"
PLAIN_INSERT = "INSERT INTO bench_entry (account_id, amount, balance_after) VALUES (%s, -1, %s)"


def plain_sql(database_url: str, concurrency: int, accounts: int, duration: float = DURATION) -> Result:
    """The floor: one bet as PostgreSQL does it with nothing around it (lock the row, update the
    balance, insert an entry, commit), on tables of its own in the bench database."""
    result = Result("(c) plain SQL bet (psycopg)", concurrency)

    async def client(deadline: float, budget: list[int]) -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                account = random.randint(1, accounts)
                started = time.perf_counter()
                async with conn.transaction():
                    (balance,) = await (await conn.execute(PLAIN_LOCK, (account,))).fetchone()
                    await conn.execute(PLAIN_UPDATE, (balance - 1, account))
                    await conn.execute(PLAIN_INSERT, (account, balance - 1))
                result.latencies.append(time.perf_counter() - started)

    async def main() -> None:
        deadline, budget = time.monotonic() + duration, [MAX_REQUESTS]
        started = time.perf_counter()
        await asyncio.gather(*(client(deadline, budget) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result


def prepare_plain_sql(database_url: str, accounts: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_entry, bench_account")
        conn.execute("CREATE TABLE bench_account (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))")
        conn.execute(
            "CREATE TABLE bench_entry (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES bench_account, "
            "amount bigint NOT NULL, balance_after bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("INSERT INTO bench_account SELECT g, 10000000 FROM generate_series(1, %s) g", (accounts,))


@dataclass
class Rounds:
    """The four loads at one concurrency, each merged over its slices, and each round's ratios."""

    bets: Result
    limited: Result
    health: Result
    sql: Result
    limited_ratios: list[float]  # (a')/(a) of each round
    ceiling_ratios: list[float]  # (a)/ceiling of each round


def interleaved(host: str, port: int, free, limited, database_url: str, *, concurrency: int, workers: int) -> Rounds:
    """(a), (a'), (b) and (c) in PAIRS rounds of slices, the order reversed every other round."""
    totals = {
        "a": Result("(a) signed bet via API", concurrency),
        "a'": Result("(a') the same, with limits", concurrency),
        "b": Result("(b) GET /healthz", concurrency),
        "c": Result("(c) plain SQL bet (psycopg)", concurrency),
    }
    requests = {"a": free, "a'": limited, "b": lambda _n: ("GET", "/healthz", {}, b"")}
    limited_ratios, ceiling_ratios = [], []
    for round_ in range(PAIRS):
        rates = {}
        for key in ("a", "a'", "b", "c") if round_ % 2 == 0 else ("c", "b", "a'", "a"):
            if key == "c":
                part = plain_sql(database_url, concurrency, PLAYERS, DURATION / PAIRS)
            else:
                part = run_load(totals[key].name, host, port, requests[key], concurrency=concurrency,
                                duration=DURATION / PAIRS, max_requests=MAX_REQUESTS, workers=workers)  # fmt: skip
            totals[key].absorb(part)
            rates[key] = part.rate
        limited_ratios.append(rates["a'"] / rates["a"] if rates["a"] else float("nan"))
        ceiling_ratios.append(of_ceiling(rates["a"], rates["b"], rates["c"]))
    return Rounds(totals["a"], totals["a'"], totals["b"], totals["c"], limited_ratios, ceiling_ratios)


def wallet_benchmark(workers: int) -> None:
    print(f"== wallet API: signed bets vs /healthz vs plain SQL; {workers} uvicorn workers, {PLAYERS} funded players "
          f"(and {LIMITED} more with every limit set), {DURATION:.0f} s per run")  # fmt: skip
    with served(workers) as (host, port, env):
        provider, secret = "bench", secrets.token_hex(32)
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.seed", str(PLAYERS + LIMITED), provider, secret, str(LIMITED)], cwd=ROOT,
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        free_line, limited_line = seeded.stdout.strip().split("\n")
        player_ids, limited_ids = free_line.split(), limited_line.split()
        parts = urlsplit(env["DATABASE_URL"])
        database_url = f"host={parts.hostname} port={parts.port or 5432} user={parts.username} dbname={parts.path[1:]}"
        prepare_plain_sql(database_url, PLAYERS)
        with psycopg.connect(database_url, autocommit=True) as conn:
            # A live database has autovacuum's statistics; one just seeded in bulk does not yet,
            # and the planner would scan whole tables for the idempotency lookup.
            conn.execute("VACUUM ANALYZE")
        rows = []
        for concurrency in (8, 32):
            rounds = interleaved(
                host, port, bet_requests(provider, secret, player_ids), bet_requests(provider, secret, limited_ids),
                database_url, concurrency=concurrency, workers=workers,
            )  # fmt: skip
            for result in (rounds.bets, rounds.limited, rounds.health, rounds.sql):
                print(result.line())
            rows.append((concurrency, rounds))
        for concurrency, r in rows:
            print(f"c={concurrency}: (a)/ceiling = {of_ceiling(r.bets.rate, r.health.rate, r.sql.rate):.2f} "
                  f"(target >= 0.5; ceiling "
                  f"1/(1/(b) + 1/(c)): a request's work and the plain-SQL bet's, on the same cores; rounds "
                  f"{_listed(r.ceiling_ratios)}, median {statistics.median(r.ceiling_ratios):.2f})   "
                  f"(a)/(b) = {ratio(r.bets, r.health)}   (a)/(c) = {ratio(r.bets, r.sql)}   "
                  f"(a) p99 = {r.bets.percentile(99):.1f} ms   errors (a) = {r.bets.errors}   "
                  f"with limits (a')/(a) = {ratio(r.limited, r.bets)} (rounds {_listed(r.limited_ratios)}, "
                  f"median {statistics.median(r.limited_ratios):.2f}), errors (a') = {r.limited.errors}")  # fmt: skip
        print_audit(env)
    print_bet_profile()


def of_ceiling(bets: float, health: float, sql: float) -> float:
    """(a)'s rate against the rate of a bet that cost exactly a `/healthz` request plus the
    plain-SQL bet's database work, on the same cores: 1 / (1/(b) + 1/(c))."""
    if not (bets and health and sql):
        return float("nan")
    return bets * (1 / health + 1 / sql)


def _listed(ratios: list[float]) -> str:
    return " ".join(f"{r:.2f}" for r in ratios)


def print_bet_profile() -> None:
    """Where one bet's time goes, per layer, and PostgreSQL's CPU per bet against the plain-SQL
    bet's: bench/profile_bet.py in-process, on a database of its own."""
    from bench.server import BENCH_DATABASE

    print(f"== one bet in-process, per layer (python -m bench.profile_bet {PROFILE_BETS})")
    profiled = subprocess.run(
        [sys.executable, "-m", "bench.profile_bet", str(PROFILE_BETS)], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "BENCH_DATABASE": f"{BENCH_DATABASE}_profile"}, check=True,
    )  # fmt: skip
    print(profiled.stdout, end="")
