"""bench/limit_usage.py's measurement, in a process of its own on a fresh database:

BENCH_DATABASE=pam_limits_me .venv/bin/python -m bench.limit_usage_run [HISTORY]
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.server import set_up_in_process

HISTORY = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
READS = 40  # of each reading, after one not counted
BETS = 200  # of each player's bets
ROUNDS = 3  # each figure the median of this many rounds, the readings taken in turn


def main() -> None:
    set_up_in_process("pamlimits")
    from django.db import connection
    from django.utils import timezone

    from apps.common.idempotency import ExternalRef
    from apps.compliance import gate
    from apps.compliance.selectors import PERIODS, SUMMED_KINDS
    from apps.compliance.services import set_limit
    from apps.games.services import save_provider
    from apps.wallet import selectors, services
    from apps.wallet.choices import TransactionKind
    from bench.seed import LIMITS, make_players

    save_provider(code="bench", secret="s" * 64)  # its clearing account funds the players
    fresh, long = make_players(2, prefix="limits")
    for player in (fresh, long):
        services.credit(player_id=player.pk, currency="EUR", amount=10**10, kind=TransactionKind.DEPOSIT,
                        ref=ExternalRef("bench", f"fund-{player.pk}", "seed"), counter="clearing:bench")  # fmt: skip
        for kind, period, amount in LIMITS:
            set_limit(player=player, kind=kind, period=period, amount=10**12 if period else amount)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Bets of 1.00 and wins of 0.50 in turn, one every 30 days / HISTORY, the newest a minute ago.
        cursor.execute(
            "INSERT INTO wallet_transaction (kind, amount, origin, external_id, fingerprint, round_id, game_id, "
            "reverses_external_id, reason, balance_after, wallet_version, created_at, currency_id, player_id) "
            "SELECT CASE WHEN g %% 2 = 0 THEN 'bet' ELSE 'win' END, CASE WHEN g %% 2 = 0 THEN -100 ELSE 50 END, "
            "'history', 'history-' || g, '', 'r' || (g / 2), 'g1', '', '', 0, 0, "
            "now() - interval '1 minute' - (g * interval '30 days' / %s), 'EUR', %s FROM generate_series(1, %s) g",
            [HISTORY + 1, long.pk, HISTORY],
        )
        cursor.execute("VACUUM ANALYZE")
    print(f"history written in {time.perf_counter() - started:.1f} s (through the ledger's trigger)")

    kinds = tuple(sorted(gate._MONEY_LIMITS))

    def windows(now):
        return [(SUMMED_KINDS[kind], now - PERIODS[period]) for kind in sorted(SUMMED_KINDS) for period in PERIODS]

    def per_call(call, n: int) -> float:
        call()
        started = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - started) / n * 1e3

    def set_jit(on: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {'on' if on else 'off'}")

    now = timezone.now()
    read = selectors.sum_ledger_windows(long.pk, windows(now))
    scanned = selectors.scan_ledger_windows(long.pk, windows(now))
    agree = "yes" if read == scanned else f"NO: {read} against {scanned}"
    print(f"the hourly sums and the ledger's rows agree on all {len(read)} windows: {agree}")

    bets = iter(range(10**9))

    def bet(player) -> None:
        n = next(bets)
        services.place_bet(player_id=player.pk, currency="EUR", amount=100, ref=ExternalRef("bench", f"b{n}", "b"),
                           round_id=f"r{n}", game_id="g1")  # fmt: skip

    figures: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        taken = {
            "state read, no history": per_call(lambda: gate._money_path_state(fresh.pk, timezone.now(), kinds=kinds),
                                               READS),
            "state read, the history": per_call(lambda: gate._money_path_state(long.pk, timezone.now(), kinds=kinds),
                                                READS),
            "bet, no history": per_call(lambda: bet(fresh), BETS),
            "bet, the history": per_call(lambda: bet(long), BETS),
            "baseline: rows summed, JIT off": per_call(
                lambda: selectors.scan_ledger_windows(long.pk, windows(timezone.now())), READS // 4),
        }  # fmt: skip
        set_jit(True)
        taken["baseline: rows summed, JIT on"] = per_call(
            lambda: selectors.scan_ledger_windows(long.pk, windows(timezone.now())), READS // 8
        )
        set_jit(False)
        for name, value in taken.items():
            figures.setdefault(name, []).append(value)
    for name, values in figures.items():
        rounds = " ".join(f"{value:.2f}" for value in values)
        print(f"  {name:<34} {statistics.median(values):8.2f} ms  (rounds {rounds})")
    history_bet = statistics.median(figures["bet, the history"])
    fresh_bet = statistics.median(figures["bet, no history"])
    scan = statistics.median(figures["baseline: rows summed, JIT off"])
    state = statistics.median(figures["state read, the history"])
    print(f"a bet with the history / a bet without = {history_bet / fresh_bet:.2f}; "
          f"the usage read, rows summed / hourly sums = {scan / state:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
