"""The benchmark of the behaviour rules: what evaluating every seeded rule on each event costs a
bet, and how soon a threshold-crossing deposit's alert reaches a back-office socket.

1. Signed bets at 8 clients with every seeded rule enabled, against the same with every rule
   disabled, in alternating slices of one run (off on on off …, each after the processes' rule
   caches have expired), so both see the same machine: the ratio (on)/(off).
2. With the rules on and signed bets paced at 100 a second in the background, one signed
   `deposit.succeeded` webhook of 1,000.00 EUR (the seeded deposit-threshold rule's amount) for a
   fresh player every 0.25 s: the time from the webhook's answer (the money has committed) to the
   `alert` frame for that player on a compliance officer's `/ws/backoffice/` socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid

from bench.load import Result, ratio, run_load
from bench.payments import signed_webhook
from bench.realtime import Http, percentile
from bench.server import print_audit, served
from bench.wallet import _signature, bet_requests
from tests.support import ROOT

CONCURRENCY = 8
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "4"))
PLAYERS = int(os.environ.get("BENCH_PLAYERS", "2000"))
DEPOSITS = int(os.environ.get("BENCH_ALERTS", "80"))
BACKGROUND_RATE = 100  # bets a second while the alerts are timed
CACHE_EXPIRY = 6.0  # the engine's rule cache (5 s) has expired in every process after this


def _setup(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bench.rules_setup", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout


def _set_rules(env: dict[str, str], on: bool) -> None:
    _setup(env, "rules", "on" if on else "off")
    time.sleep(CACHE_EXPIRY)


def alternating(host, port, env, requests, workers) -> tuple[Result, Result, list[float], list[float]]:
    """Bets with the rules off and on in alternating slices: both totals, every pair's ratio, and
    the ratios of the pairs whose slices both had their connections spread over the workers."""
    totals = {False: Result("bets, every rule off", CONCURRENCY), True: Result("bets, every rule on", CONCURRENCY)}
    pair_ratios, balanced = [], []
    for pair in range(PAIRS):
        rates, spreads = {}, []
        for on in (False, True) if pair % 2 == 0 else (True, False):
            _set_rules(env, on)
            part = run_load(totals[on].name, host, port, requests, concurrency=CONCURRENCY, duration=DURATION / PAIRS,
                            max_requests=100_000, workers=workers)  # fmt: skip
            totals[on].absorb(part)
            rates[on] = part.rate
            spreads.append(part.spread)
        pair_ratios.append(rates[True] / rates[False] if rates[False] else float("nan"))
        # A slice whose connections all landed on one worker measures one process: not like with like.
        if all(len(spread.split("+")) == workers for spread in spreads):
            balanced.append(pair_ratios[-1])
    return totals[False], totals[True], pair_ratios, balanced


async def alert_latencies(host, port, session_key, provider, secret, bet_provider, bet_secret, players, deposits):
    """(the latencies in seconds, alerts missing after 5 s, bets sent, bet errors)."""
    from websockets.asyncio.client import connect

    arrived: dict[str, float] = {}
    ws = await connect(f"ws://{host}:{port}/ws/backoffice/", additional_headers={"Cookie": f"sessionid={session_key}"},
                       open_timeout=15)  # fmt: skip

    async def read() -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "alert":
                arrived.setdefault(str(frame.get("player_id")), time.perf_counter())

    reader = asyncio.create_task(read())
    stop = asyncio.Event()
    counts = {"sent": 0, "errors": 0}

    async def background() -> None:
        # Open loop: each bet leaves on time on a free keep-alive connection (at most 64 open).
        pool: asyncio.Queue[Http] = asyncio.Queue()
        for _ in range(16):
            pool.put_nowait(Http(host, port))
        in_flight: set[asyncio.Task] = set()
        started, n = time.perf_counter(), 0
        while not stop.is_set() and n < 100_000:
            await asyncio.sleep(max(0.0, started + n / BACKGROUND_RATE - time.perf_counter()))
            body = json.dumps({"player_id": players[n % len(players)], "currency": "EUR", "amount": 1,
                               "transaction_id": f"rb{n}-{uuid.uuid4().hex[:8]}", "round_id": uuid.uuid4().hex[:12],
                               "game_id": "bench-slot"}).encode()  # fmt: skip
            headers = {"Content-Type": "application/json", "X-Provider": bet_provider,
                       "X-Signature": _signature(bet_secret, "bet", body)}  # fmt: skip
            task = asyncio.create_task(_post(pool, "/api/wallet/v1/bet", headers, body, counts, host, port))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
        await asyncio.gather(*in_flight)
        while not pool.empty():
            pool.get_nowait().close()

    bets = asyncio.create_task(background())
    await asyncio.sleep(1.0)
    answered: dict[str, float] = {}
    hooks = Http(host, port)
    for player_id, deposit_id in deposits:
        body, headers = signed_webhook(secret, deposit_id, 100_000, "EUR")
        status, _ = await hooks.post(f"/api/payments/v1/webhooks/{provider}", headers, body)
        if status == 200:
            answered[player_id] = time.perf_counter()
        await asyncio.sleep(0.25)
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline and not set(answered) <= set(arrived):
        await asyncio.sleep(0.05)
    stop.set()
    await bets
    hooks.close()
    reader.cancel()
    await ws.close()
    latencies = [arrived[p] - t for p, t in answered.items() if p in arrived]
    return latencies, len(answered) - len(latencies), counts["sent"], counts["errors"]


async def _post(pool: asyncio.Queue, path: str, headers: dict, body: bytes, counts: dict, host, port) -> None:
    connection = pool.get_nowait() if not pool.empty() else Http(host, port)
    counts["sent"] += 1
    try:
        status, _ = await connection.post(path, headers, body)
    except Exception:
        counts["errors"] += 1
        connection.close()
        return
    counts["errors"] += status != 200
    if pool.qsize() < 64:
        pool.put_nowait(connection)
    else:
        connection.close()


def rules_benchmark(workers: int) -> None:
    print(f"== behaviour rules: bets with every seeded rule on vs off (c={CONCURRENCY}, {PAIRS} pairs of slices, "
          f"{DURATION:.0f} s each in all), then deposit → alert frame at {BACKGROUND_RATE} bets/s; "
          f"{workers} workers")  # fmt: skip
    with served(workers, PSP_SANDBOX_AUTOPAY="false") as (host, port, env):
        bet_provider, bet_secret = "bench", secrets.token_hex(32)
        seeded = subprocess.run([sys.executable, "-m", "bench.seed", str(PLAYERS), bet_provider, bet_secret, "0"],
                                cwd=ROOT, env=env, capture_output=True, text=True, check=True)  # fmt: skip
        players = seeded.stdout.strip().split("\n")[0].split()
        hook_secret = secrets.token_hex(32)
        deposits = [tuple(line.split()) for line in _setup(env, "deposits", str(DEPOSITS), hook_secret).splitlines()]
        session_key = _setup(env, "session").strip()
        requests = bet_requests(bet_provider, bet_secret, players)
        off, on, pair_ratios, balanced = alternating(host, port, env, requests, workers)
        print(off.line())
        print(on.line())
        print(f"c={CONCURRENCY}: (on)/(off) = {ratio(on, off)} (pairs {' '.join(f'{r:.2f}' for r in pair_ratios)}; "
              f"pairs with both slices spread over the workers: {len(balanced)}, median "
              f"{statistics.median(balanced) if balanced else float('nan'):.2f}), target at least 0.90")  # fmt: skip
        _set_rules(env, True)
        latencies, missing, sent, errors = asyncio.run(alert_latencies(
            host, port, session_key, "sandbox", hook_secret, bet_provider, bet_secret, players, deposits,
        ))  # fmt: skip
        ms = [1000 * value for value in latencies]
        print(f"deposit answered → alert frame: n={len(ms)} p50 {percentile(ms, 50):.1f} ms  "
              f"p99 {percentile(ms, 99):.1f} ms  max {max(ms, default=float('nan')):.1f} ms  missing {missing}; "
              f"background bets {sent} sent, "
              f"{errors} errors (target p99 ≤ 100 ms)")  # fmt: skip
        print_audit(env)
