"""Run every benchmark; each prints its figures and its baseline from the same run.

`BENCH=wallet python -m bench` runs one; WORKERS, BENCH_SECONDS, BENCH_PLAYERS tune them
(bench/realtime.py, bench/slot_rtp.py, bench/rng.py, bench/studio_wallet.py, bench/crash.py,
bench/odds.py, bench/sportsbook.py, bench/bet_delay.py, bench/worldcup_bets.py and bench/limit_usage.py list
their own).
"""

import os

from bench.bet_delay import bet_delay_benchmark
from bench.bonuses import bonuses_benchmark
from bench.crash import crash_benchmark
from bench.limit_usage import limit_usage_benchmark
from bench.odds import odds_benchmark
from bench.payments import payments_benchmark
from bench.realtime import realtime_benchmark
from bench.rng import rng_benchmark
from bench.rules import rules_benchmark
from bench.slot_rtp import slot_rtp_benchmark
from bench.sportsbook import sportsbook_benchmark
from bench.studio_wallet import studio_wallet_benchmark
from bench.wallet import wallet_benchmark
from bench.worldcup_bets import worldcup_bets_benchmark

WORKERS = int(os.environ.get("WORKERS", "2"))
BENCHMARKS = {
    "wallet": wallet_benchmark,
    "payments": payments_benchmark,
    "rules": rules_benchmark,
    "realtime": realtime_benchmark,
    "bonuses": bonuses_benchmark,
    "slot_rtp": slot_rtp_benchmark,
    "rng": rng_benchmark,
    "studio_wallet": studio_wallet_benchmark,
    "crash": crash_benchmark,
    "odds": odds_benchmark,
    "sportsbook": sportsbook_benchmark,
    "bet_delay": bet_delay_benchmark,
    "worldcup_bets": worldcup_bets_benchmark,
    "limit_usage": limit_usage_benchmark,
}

if __name__ == "__main__":
    chosen = os.environ.get("BENCH", "")
    for name, benchmark in BENCHMARKS.items():
        if not chosen or name in chosen.split(","):
            benchmark(WORKERS)
