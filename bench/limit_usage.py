"""A limited player's bet against the length of their history (`BENCH=limit_usage`).

A player with every limit set bets through the Python path, whose one compliance statement reads
the usage of each rolling window (docs/player-protection.md, "Limits"). This measures that read
and the whole bet for two such players of one database: one with no history, one with
`BENCH_LIMIT_HISTORY` transactions (default 100,000: some 1,700 bets and wins a day) spread over
the last 30 days. In the same run, the baselines: the same windows summed from the ledger's rows
(`wallet.selectors.scan_ledger_windows`, how the read was made before the hourly sums), with
PostgreSQL's JIT off as the app's sessions run and on as PostgreSQL's default has it. The two
readings of every window must agree to the unit.

The history is written in SQL (bets and wins without entries: only the sums are read), through
the ledger's trigger as any transaction is; the bets measured go through the wallet's services.
Runs in its own process on a database of its own (`<BENCH_DATABASE>_limit_usage`).
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench.server import BENCH_DATABASE, ROOT


def limit_usage_benchmark(_workers: int = 0) -> None:
    history = int(os.environ.get("BENCH_LIMIT_HISTORY", "100000"))
    print(f"== a limited player's bet against their history: {history} transactions in the last 30 days")
    measured = subprocess.run(
        [sys.executable, "-m", "bench.limit_usage_run", str(history)], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "BENCH_DATABASE": f"{BENCH_DATABASE}_limit_usage"},
    )  # fmt: skip
    print(measured.stdout, end="")
    if measured.returncode != 0:
        print(measured.stderr, end="", file=sys.stderr)
        raise SystemExit(f"bench.limit_usage_run failed ({measured.returncode})")
