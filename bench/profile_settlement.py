"""Deterministic cost of settling one sportsbook bet, in-process, on PostgreSQL.

Wall-clock figures on a shared 2-core machine are noise; these are not (much): per settled bet it
counts SQL statements (and which ones), Python function calls (cProfile), CPU seconds of the
settling thread and of the PostgreSQL backend serving it. Two markets of one event each get N
pre-match singles of 1.00 by the players in turn, on their three selections in turn (so a third of
them win, as in `BENCH=sportsbook`'s settlement), placed through `services.place_bet`; both are
resulted (home wins) through the feed's own path with the hand-over to the settlers held back, and
each is then settled by one `settlement.settle_market` in this thread: the first one measured, the
second under cProfile (`--top N`: its N costliest functions, in `PROFILE_SORT` order;
`PROFILE_DUMP=file`: the whole profile, for pstats). The after-commit dispatch (the wallet's
events, the `bets_settled` notices, the pushes' hand-over to a server loop of its own) runs in the
settling thread, as in a settler.

    BENCH_DATABASE=pam_prof_me .venv/bin/python -m bench.profile_settlement [N] [--players 200]
        [--money-batch 50] [--threads 1] [--top 30]

`--money-batch`: the winning bets paid in one wallet transaction (`settlement.MONEY_BATCH`); the
run prints how long those transactions held the players' locks (from the wallet call to its
commit). `--threads K`: the first market settled by K threads at once, each with its own
connection, as the settler's workers share a market (`settler.py`): then the CPU figures are the
process's and the threads' backends', and the locks' times are not taken.

Uses the bench database settings (a fresh database, migrated and seeded here). Ends with the
ledger's audit and the exposure against its recomputation, both of which must be clean.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import re
import sys
import threading
import time
from collections import Counter

from bench.profiling import backend_cpu_of, funded_players, package_of
from bench.server import set_up_in_process

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2000
PLAYERS = int(sys.argv[sys.argv.index("--players") + 1]) if "--players" in sys.argv else 200
TOP = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
MONEY_BATCH = int(sys.argv[sys.argv.index("--money-batch") + 1]) if "--money-batch" in sys.argv else None
THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
MARKETS = ("bench-e0-m0", "bench-e0-m1")


def _shape(sql: str) -> str:
    """A statement's kind, for counting: its first words, without values or repeated placeholders."""
    sql = re.sub(r"\s+", " ", sql.strip())
    sql = re.sub(r"(\(%s(::\w+)?(, %s(::\w+)?)*\)(, )?)+", "(…)", sql)
    sql = re.sub(r"\b\d+\b", "n", sql)
    return sql[:90]


def _seed(n: int) -> tuple[list[int], dict[str, int]]:
    """PLAYERS funded players and, on each of MARKETS, n open singles: (player ids, {market id: pk})."""
    from apps.sportsbook.models import Market
    from bench import sportsbook_setup

    players = funded_players("settle", PLAYERS)
    sportsbook_setup.markets(1, len(MARKETS), players)
    for market in MARKETS:
        accepted = sportsbook_setup.bets(n, market, players)
        if accepted != n:
            raise RuntimeError(f"{market}: {accepted} of {n} bets accepted")
    return players, dict(Market.objects.filter(market_id__in=MARKETS).values_list("market_id", "pk"))


def _result_markets() -> None:
    """Home wins on MARKETS, through the feed's path, without the hand-over to the settlers."""
    import json

    from apps.sportsbook import services, settler
    from apps.sportsbook.feed import parse_batch
    from apps.sportsbook.models import Feed
    from bench.sportsbook_setup import FEED

    feed = Feed.objects.get(code=FEED)
    messages = [{"seq": feed.last_seq + 1 + n, "type": "result", "market_id": market, "winners": [f"{market}-home"],
                 "void": []} for n, market in enumerate(MARKETS)]  # fmt: skip
    real, settler.hand_over = settler.hand_over, lambda pks: None
    try:
        services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(json.dumps({"messages": messages}).encode()))
    finally:
        settler.hand_over = real


def _open_bets(market_pk: int) -> tuple[int, int]:
    """(bets of the market still accepted, winners paid)."""
    from apps.sportsbook.models import Bet

    bets = Bet.objects.filter(legs__market_id=market_pk)
    return bets.filter(status="accepted").count(), bets.filter(status="won").count()


def _settle_in_threads(market_pk: int, count, statements: Counter[str]) -> None:
    """The market settled by THREADS threads at once, each on its own connection: wall, CPU and
    statements per bet, and whether every bet was settled once."""
    from django.db import connection

    from apps.sportsbook import settlement

    written, backends = [0] * THREADS, [0.0] * THREADS
    ready = threading.Barrier(THREADS + 1)

    def settler(n: int) -> None:
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        ready.wait()
        before = backend_cpu_of(pid)
        try:
            with connection.execute_wrapper(count):
                written[n] = settlement.settle_market(market_pk)
            backends[n] = backend_cpu_of(pid) - before
        finally:
            connection.close()

    workers = [threading.Thread(target=settler, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    cpu0 = time.process_time()
    ready.wait()
    wall0 = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - wall0
    cpu, backend = time.process_time() - cpu0, sum(backends)
    still_open, won = _open_bets(market_pk)
    total = sum(statements.values())
    print(f"{THREADS} threads settled {sum(written)} of {N} bets ({'+'.join(map(str, written))}; {won} won, "
          f"{still_open} left open) in {wall:.2f} s wall")  # fmt: skip
    print(f"per bet: {total / N:.2f} SQL statements, Python {cpu / N * 1e6:.0f} us CPU (the process), PostgreSQL "
          f"{backend / N * 1e6:.0f} us CPU (their backends), wall {wall / N * 1e6:.0f} us")  # fmt: skip


def main() -> None:
    set_up_in_process("pamprofsettle")
    from django.db import connection, connections

    from apps.realtime import push
    from apps.sportsbook import selectors, settlement
    from apps.wallet import audit

    started = time.perf_counter()
    _, market_pks = _seed(N)
    _result_markets()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"set-up: {PLAYERS} players, {N} singles on each of {len(MARKETS)} markets, in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip

    # A server loop, as under uvicorn, so that pushes leave as they do in production.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    push.serve_from(loop)

    if MONEY_BATCH:
        settlement.MONEY_BATCH = MONEY_BATCH
    # How long each wallet batch of wins holds its players' locks: from the call to its commit (the
    # after-commit dispatch that follows inside the call holds none).
    held: list[float] = []
    settle_wins, commit, started = settlement.wallet.settle_wins, connection.commit, [0.0]

    def timed_settle_wins(**kwargs):
        started[0] = time.perf_counter()
        try:
            return settle_wins(**kwargs)
        finally:
            started[0] = 0.0

    committing = [0.0]

    def timed_commit():
        before = time.perf_counter()
        commit()
        committing[0] += time.perf_counter() - before
        if started[0]:
            held.append(time.perf_counter() - started[0])

    settlement.wallet.settle_wins = timed_settle_wins
    connections["default"].commit = timed_commit
    statements: Counter[str] = Counter()

    waited: Counter[str] = Counter()

    def count(execute, sql, params, many, context):
        shape = _shape(sql)
        statements[shape] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[shape] += time.perf_counter() - started

    measured = market_pks[MARKETS[0]]
    if THREADS > 1:
        _settle_in_threads(measured, count, statements)
        return
    # Measured: the first market, on a fresh connection (its prepared statements made here too,
    # as a settler's first market makes them).
    connection.close()
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    time.sleep(0.2)
    cpu0, thread0, backend0, wall0 = time.process_time(), time.thread_time(), backend_cpu_of(pid), time.perf_counter()
    with connection.execute_wrapper(count):
        written = settlement.settle_market(measured)
    thread, wall = time.thread_time() - thread0, time.perf_counter() - wall0
    backend = backend_cpu_of(pid) - backend0
    asyncio.run_coroutine_threadsafe(push.drained(), loop).result(60)
    cpu = time.process_time() - cpu0
    still_open, won = _open_bets(measured)
    total = sum(statements.values())
    print(f"settled {written} of {N} bets ({won} won, {still_open} left open) in {wall:.2f} s wall")
    print(f"per bet: {total / N:.2f} SQL statements (w/o BEGIN/COMMIT and savepoints), Python "
          f"{cpu / N * 1e6:.0f} us CPU (settling thread {thread / N * 1e6:.0f} us), PostgreSQL {backend / N * 1e6:.0f} "
          f"us CPU, wall {wall / N * 1e6:.0f} us")  # fmt: skip
    held.sort()
    print(f"wallet batches of at most {settlement.MONEY_BATCH} wins: {len(held)}, each holding its players' locks "
          f"p50 {held[len(held) // 2] * 1e3:.1f} ms, max {held[-1] * 1e3:.1f} ms; COMMITs: "
          f"{committing[0] * 1e3:.0f} ms wall in all")  # fmt: skip
    print("statements of the market's settlement, by kind: how many, wall ms in all (execute and fetch):")
    for shape, calls in statements.most_common(15):
        print(f"  {calls:6d} {waited[shape] * 1e3:7.0f}  {shape}")

    profiled = market_pks[MARKETS[1]]
    profiler = cProfile.Profile(time.thread_time)  # CPU, not waiting
    profiler.enable()
    settlement.settle_market(profiled)
    profiler.disable()
    asyncio.run_coroutine_threadsafe(push.drained(), loop).result(60)
    stats = pstats.Stats(profiler)
    print(f"function calls per bet (cProfile, the second market): {stats.total_calls / N:.0f}")
    by_package: Counter[str] = Counter()
    for (filename, _, _), (_, calls, *_) in stats.stats.items():
        by_package[package_of(filename)] += calls
    print("  by package: " + ", ".join(f"{p} {c / N:.0f}" for p, c in by_package.most_common(12)))
    if os.environ.get("PROFILE_DUMP"):  # a file for pstats (e.g. print_callers) afterwards
        profiler.dump_stats(os.environ["PROFILE_DUMP"])
    if TOP:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(TOP)
        print(out.getvalue())

    left = sum(_open_bets(pk)[0] for pk in market_pks.values())
    findings = {name: rows for name, rows in audit.run_audit().items() if rows}
    exposure = selectors.stored_exposure() == selectors.recompute_exposure()
    print(f"bets left open: {left}; wallet audit: {findings or 'clean'}; "
          f"exposure = its recomputation: {exposure}")  # fmt: skip


if __name__ == "__main__":
    main()
