"""The benchmark of bonus wagering: what an active bonus costs a bet.

Half of the bench players are granted a real bonus (`bench.bonuses_setup`: a deposit match
through `bonuses.services.grant`, bonus money in their bonus account, their bonus state active);
the other half have none. A bet of a player wagering a bonus pays, inside its transaction, one
more statement (the count of the stake and the read of the active bonuses, `wagering.count_stake`)
and the per-process cached look-up of the game's type; a bet of a player without one pays
nothing. Signed bets at 8 clients on each half, in alternating slices of one run (none bonus
bonus none …) so both see the same machine: the ratio (bonus)/(none) of each pair and their
median, against the target 0.90. Afterwards, that the bonus players' bets were counted (the
bonuses' wagering done equals their successful bets, at the slot's weight of 100 %) and that no
bonus ended.
"""

from __future__ import annotations

import secrets
import statistics
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg

from bench.load import Result, ratio, run_load
from bench.rules import CONCURRENCY, DURATION, PAIRS, PLAYERS
from bench.server import print_audit, served
from bench.wallet import bet_requests
from tests.support import ROOT

MAX_REQUESTS = 100_000


def _run(env: dict[str, str], module: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def _even(spread: str, workers: int) -> bool:
    """Whether a slice's connections were spread evenly over the workers (`4+4`; not `7+1`)."""
    counts = [int(n) for n in spread.split("+") if n]
    return len(counts) == workers and max(counts) - min(counts) <= 1


def alternating(host, port, requests, workers) -> tuple[Result, Result, list[float], list[float]]:
    """Bets of players without and with a bonus in alternating slices: both totals, every pair's
    ratio (bonus)/(none), and the ratios of the pairs whose slices both had their connections
    spread evenly over the workers."""
    totals = {
        False: Result("bets, players without a bonus", CONCURRENCY),
        True: Result("bets, players wagering a bonus", CONCURRENCY),
    }
    pair_ratios, balanced = [], []
    for pair in range(PAIRS):
        rates, spreads = {}, []
        for bonus in (False, True) if pair % 2 == 0 else (True, False):
            part = run_load(totals[bonus].name, host, port, requests[bonus], concurrency=CONCURRENCY,
                            duration=DURATION / PAIRS, max_requests=MAX_REQUESTS, workers=workers)  # fmt: skip
            totals[bonus].absorb(part)
            rates[bonus] = part.rate
            spreads.append(part.spread)
        pair_ratios.append(rates[True] / rates[False] if rates[False] else float("nan"))
        # A slice whose connections stayed uneven over the workers (7+1, or all on one) measures
        # mostly one process: not like with like.
        if all(_even(spread, workers) for spread in spreads):
            balanced.append(pair_ratios[-1])
    return totals[False], totals[True], pair_ratios, balanced


def bonuses_benchmark(workers: int) -> None:
    print(f"== bonuses: bets of players wagering a bonus vs players with none (c={CONCURRENCY}, {PAIRS} pairs "
          f"of slices, {DURATION:.0f} s each in all); {PLAYERS} players, half with a bonus; "
          f"{workers} workers")  # fmt: skip
    with served(workers) as (host, port, env):
        provider, secret = "bench", secrets.token_hex(32)
        players = _run(env, "bench.seed", str(PLAYERS), provider, secret, "0").strip().split("\n")[0].split()
        with_bonus, without = players[: len(players) // 2], players[len(players) // 2 :]
        granted = int(_run(env, "bench.bonuses_setup", "grant", provider, *with_bonus).strip())
        parts = urlsplit(env["DATABASE_URL"])
        with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname=parts.path[1:], autocommit=True) as conn:  # fmt: skip
            # Autovacuum is off here: without statistics the planner scans whole tables (bench.wallet).
            conn.execute("VACUUM ANALYZE")
        requests = {False: bet_requests(provider, secret, without), True: bet_requests(provider, secret, with_bonus)}
        none, bonus, pair_ratios, balanced = alternating(host, port, requests, workers)
        print(f"{granted} bonuses granted to {len(with_bonus)} players; {len(without)} players without")
        print(none.line())
        print(bonus.line())
        pairs = " ".join(f"{r:.2f}" for r in pair_ratios)
        print(f"c={CONCURRENCY}: (bonus)/(none) = {ratio(bonus, none)} (pairs {pairs}, "
              f"median {statistics.median(pair_ratios):.2f}; pairs with both slices spread evenly over the workers: "
              f"{len(balanced)}, median {statistics.median(balanced) if balanced else float('nan'):.2f}), "
              f"target ≥ 0.90; p99 none {none.percentile(99):.1f} ms, bonus {bonus.percentile(99):.1f} ms; "
              f"errors none {none.errors}, bonus {bonus.errors}")  # fmt: skip
        found = dict(line.split("=") for line in _run(env, "bench.bonuses_setup", "report").split())
        counted = int(found["wagering_done"])
        print(f"wagering after the run: {counted} counted for {len(bonus.latencies)} successful bonus-player bets "
              f"({'equal' if counted == len(bonus.latencies) else 'NOT EQUAL'}); {found['active']} of "
              f"{found['granted']} bonuses active, {found['ended']} ended; most wagered by one bonus "
              f"{found['most_wagered']} of {found['wagering_required']} required; "
              f"{found['players_active_state']} players with bonus state active")  # fmt: skip
        print_audit(env)
