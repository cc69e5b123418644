"""The slot's RTP by simulation: N seeded rounds of the production slot code, whose observed return
must land inside the 99 % interval around the enumerated RTP (docs/benchmarks.md, "Slot RTP").

Each round is what the game plays: `draw(rng)` on the catalogue's `pam-slot` (five stops, each
`rng.below(len(strip))`), then `outcome(stops)` and `line_wins(window, line_stake)` of slot.py, at
a fixed stake of one minor unit per line. The only difference from production is the random
source, `SeededRng` instead of the system's CSPRNG, so that a run can be repeated.

The rounds are cut into chunks of fixed size, each with its own seed derived from the run's seed
and the chunk's index, and the chunks are shared out over the cores: the totals are integers
summed exactly, and the same seed gives the same totals whatever the number of processes.

No precomputed table is needed: the production path costs about 10 µs a round here, so 10^7
rounds take under two minutes on two quiet cores, three on a busy machine.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from dataclasses import astuple, dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

ROUNDS = int(os.environ.get("BENCH_SLOT_ROUNDS", str(10**7)))
SEED = int(os.environ.get("BENCH_SLOT_SEED", "20261205"))
PROCESSES = int(os.environ.get("BENCH_SLOT_PROCESSES", str(os.cpu_count() or 1)))
CHUNK = 250_000  # rounds per task: small enough to share out evenly, large enough to cost nothing
LINE_STAKE = 1  # minor units per line; the stake never changes what is drawn (RTS 7A)
Z_99 = Fraction(2576, 1000)  # two-sided 99 % quantile of the normal distribution


@dataclass(frozen=True)
class Totals:
    rounds: int = 0
    staked: int = 0
    won: int = 0
    won_squared: int = 0  # sum of each round's win squared: the sample's own variance, as a check

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def rtp(self) -> Fraction:
        return Fraction(self.won, self.staked)


def chunk_seed(seed: int, index: int) -> int:
    """A chunk's seed: 256 bits of SHA-256 of the run's seed and the chunk's index, so no two chunks
    start the Mersenne Twister from related states."""
    return int.from_bytes(hashlib.sha256(f"pam-slot-rtp:{seed}:{index}".encode()).digest(), "big")


def play_chunk(task: tuple[int, int, int]) -> Totals:
    """`rounds` rounds of the production slot code on the chunk's own seeded source."""
    from apps.studio import catalogue
    from apps.studio.rng import SeededRng

    seed, index, rounds = task
    game = catalogue.get("pam-slot")
    config = game.config
    stake = LINE_STAKE * len(config.paylines)
    rng = SeededRng(chunk_seed(seed, index))
    won = won_squared = 0
    for _ in range(rounds):
        stops = game.draw(rng)
        win = sum(line.amount for line in config.line_wins(config.outcome(stops), LINE_STAKE))
        won += win
        won_squared += win * win
    return Totals(rounds, rounds * stake, won, won_squared)


def tasks(rounds: int, seed: int) -> list[tuple[int, int, int]]:
    full, rest = divmod(rounds, CHUNK)
    return [(seed, i, CHUNK) for i in range(full)] + ([(seed, full, rest)] if rest else [])


def simulate(rounds: int, seed: int = SEED, processes: int = PROCESSES) -> Totals:
    work = tasks(rounds, seed)
    if processes <= 1 or len(work) <= 1:
        parts = [play_chunk(task) for task in work]
    else:
        # Fork: the children inherit the loaded (and RTP-checked) catalogue, nothing to import again.
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(play_chunk, work, chunksize=1)
    return sum(parts, Totals())


@dataclass(frozen=True)
class Verdict:
    mean: Fraction  # the enumerated RTP
    variance: Fraction  # of one round's return per unit staked, exact
    n: int
    observed: Fraction

    @property
    def inside(self) -> bool:
        """|observed - RTP| <= 2.576 sigma / sqrt(n), decided exactly: both sides squared, in fractions."""
        return (self.observed - self.mean) ** 2 * self.n <= Z_99**2 * self.variance

    def half_width(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 30
            sigma = (Decimal(self.variance.numerator) / Decimal(self.variance.denominator)).sqrt()
            return Decimal(Z_99.numerator) / Decimal(Z_99.denominator) * sigma / Decimal(self.n).sqrt()

    def z(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 30
            gap = self.observed - self.mean
            sigma = (Decimal(self.variance.numerator) / Decimal(self.variance.denominator)).sqrt()
            return Decimal(gap.numerator) / Decimal(gap.denominator) * Decimal(self.n).sqrt() / sigma


def _pct(value: Fraction | Decimal, places: int = 4) -> str:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{value * 100:.{places}f} %"


def slot_rtp_benchmark(_workers: int = 0) -> None:
    from apps.studio import catalogue, slot

    config = catalogue.get("pam-slot").config
    print(
        f"== slot RTP: {ROUNDS:,} seeded rounds of the production slot code (seed {SEED}, {PROCESSES} processes, "
        f"stake {LINE_STAKE * len(config.paylines)} = {len(config.paylines)} lines x {LINE_STAKE})"
    )
    started = time.perf_counter()
    mean, variance = slot.enumerate_moments(config)
    enumerated = time.perf_counter() - started
    sigma = float(variance) ** 0.5  # for the reader only: the verdict is decided in fractions
    print(f"enumerated RTP {mean} = {_pct(mean, 6)}, variance {float(variance):.6f} (sigma {sigma:.6f}) "
          f"per unit staked, exact (enumerate_moments, {enumerated:.1f} s)")  # fmt: skip
    started = time.perf_counter()
    totals = simulate(ROUNDS)
    seconds = time.perf_counter() - started
    verdict = Verdict(mean, variance, totals.rounds, totals.rtp)
    half = verdict.half_width()
    centre = Decimal(mean.numerator) / Decimal(mean.denominator)
    stake = LINE_STAKE * len(config.paylines)
    # The sample's own variance of the return per unit staked, beside the exact one.
    sample_variance = Fraction(totals.won_squared, totals.rounds * stake * stake) - totals.rtp**2
    print(f"n = {totals.rounds:,}  staked {totals.staked:,}  won {totals.won:,}")
    print(f"observed RTP {_pct(totals.rtp)}  99 % interval {_pct(centre - half)} .. {_pct(centre + half)} "
          f"(RTP +- 2.576 sigma/sqrt(n) = +- {half * 100:.4f} points)  z = {verdict.z():+.3f}  "
          f"{'IN' if verdict.inside else 'OUT'}")  # fmt: skip
    print(f"sample variance {float(sample_variance):.6f} against the exact {float(variance):.6f}")
    print(f"{seconds:.1f} s ({totals.rounds / seconds:,.0f} rounds/s over {PROCESSES} processes)")


if __name__ == "__main__":
    slot_rtp_benchmark()
