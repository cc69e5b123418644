"""A 5x3 ten-line slot driven by reel-strip configuration, with an exact RTP enumerator.

Pure Python on purpose (no Django, no other app): the maths of a game is certified on its
own, and the studio could be lifted out into its own service without touching it.

Stops, windows and lines
    A spin draws one stop position per reel. The visible column of a reel is
    ``strip[stop], strip[stop + 1], strip[stop + 2]`` (wrapping), top to bottom; the window is
    rows by reels. A payline names one row per reel.

Line evaluation
    Only left-to-right runs starting on the first reel count. The wild substitutes for every
    symbol except itself. A line pays the best of: the leading run of wilds paid as the wild's
    own entry, and the run of the first non-wild symbol (wilds included) paid as that symbol.
    Pays are integer multiples of the line stake for runs of 3, 4 and 5.

Exact RTP
    The full cycle has ``prod(len(strip))`` equally likely stop combinations (~24 million for
    30-stop strips), too many to walk in Python. A line's pay depends only on the symbols it
    shows, read left to right, and the reels are independent, so the cycle is walked reel by
    reel instead: each reel contributes "how many of its stops show symbol X on this row", and
    the partial line is carried as a small state (leading wilds, the symbol being run, its
    length) or, once the run is broken, as its final pay. The same walk over two lines at once,
    with each reel contributing how many stops show the pair (X on one row, Y on the other),
    gives E[W_l · W_m] and so the exact variance of a spin's total win, which lines'
    correlations (they share reels) make impossible to get from the lines one at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from math import prod
from pathlib import Path
from typing import Any, Protocol

REELS = 5
ROWS = 3
LINE_COUNT = 10
RUN_LENGTHS = (3, 4, 5)
# A production strip is long enough for a fine-grained RTP and short enough to certify by eye.
MIN_STOPS = 20
MAX_STOPS = 40
# The loader's tolerance between declared and enumerated RTP: 0.01 percentage points.
RTP_TOLERANCE = Fraction(1, 10_000)

DEFAULT_CONFIG_PATH = Path(__file__).with_name("slot_config.json")


class BelowRng(Protocol):
    """Anything that draws an unbiased integer in [0, n); the studio's RNG in production."""

    def below(self, n: int) -> int: ...


@dataclass(frozen=True)
class LineWin:
    line: int  # index into the configuration's paylines
    symbol: str  # the symbol paid (the wild itself for a line of wilds)
    count: int  # run length, 3..5
    multiplier: int  # of the line stake
    amount: int  # multiplier times line stake, in minor units


@dataclass(frozen=True)
class SlotConfig:
    reels: tuple[tuple[str, ...], ...]
    paylines: tuple[tuple[int, ...], ...]
    paytable: dict[str, dict[int, int]]
    wild: str | None = None
    name: str = ""
    rows: int = ROWS
    declared_rtp: str | None = None
    declared_rtp_exact: str | None = None

    @property
    def cycle(self) -> int:
        """Number of equally likely stop combinations."""
        return prod(len(strip) for strip in self.reels)

    def outcome(self, stops: tuple[int, ...] | list[int]) -> tuple[tuple[str, ...], ...]:
        """The visible window, ``window[row][reel]``, for one stop position per reel."""
        if len(stops) != len(self.reels):
            raise ValueError(f"expected {len(self.reels)} stops, got {len(stops)}")
        columns = []
        for strip, stop in zip(self.reels, stops, strict=True):
            if not 0 <= stop < len(strip):
                raise ValueError(f"stop {stop} out of range for a strip of {len(strip)}")
            columns.append([strip[(stop + row) % len(strip)] for row in range(self.rows)])
        return tuple(tuple(col[row] for col in columns) for row in range(self.rows))

    def draw(self, rng: BelowRng) -> tuple[int, ...]:
        """Five stops, each uniform over its strip; the outcome never sees stake or balance."""
        return tuple(rng.below(len(strip)) for strip in self.reels)

    def line_pay(self, symbols: tuple[str, ...] | list[str]) -> tuple[int, str | None, int]:
        """(multiplier, paid symbol, run length) of one line's symbols; (0, None, 0) if none."""
        return _line_pay(symbols, self.paytable, self.wild)

    def line_wins(self, window, line_stake: int) -> list[LineWin]:
        """The winning lines of a window, each paid once at its best pay."""
        wins = []
        for index, line in enumerate(self.paylines):
            symbols = [window[row][reel] for reel, row in enumerate(line)]
            multiplier, symbol, count = _line_pay(symbols, self.paytable, self.wild)
            if multiplier:
                wins.append(LineWin(index, symbol, count, multiplier, multiplier * line_stake))
        return wins

    def spin_multiplier(self, stops) -> int:
        """Total multiplier of the line stake over all lines, for stops (the hot path)."""
        reels = self.reels
        paytable, wild = self.paytable, self.wild
        total = 0
        for line in self.paylines:
            symbols = [reels[reel][(stops[reel] + row) % len(reels[reel])] for reel, row in enumerate(line)]
            total += _line_pay(symbols, paytable, wild)[0]
        return total


def _line_pay(symbols, paytable, wild) -> tuple[int, str | None, int]:
    n = len(symbols)
    wilds = 0
    while wilds < n and symbols[wilds] == wild:
        wilds += 1
    best = (0, None, 0)
    if wild is not None and wilds:
        pay = paytable.get(wild, {}).get(wilds, 0)
        if pay:
            best = (pay, wild, wilds)
    if wilds < n:
        symbol = symbols[wilds]
        run = wilds + 1
        while run < n and (symbols[run] == symbol or symbols[run] == wild):
            run += 1
        pay = paytable.get(symbol, {}).get(run, 0)
        if pay > best[0]:
            best = (pay, symbol, run)
    return best


# --- exact enumeration -----------------------------------------------------------------------
#
# A partial line is either an int (its run is broken: the final pay multiplier) or a tuple
# (leading wilds, running symbol or None while all wilds, run length).

_START = (0, None, 0)


def _settle(state, paytable, wild) -> int:
    if isinstance(state, int):
        return state
    wilds, symbol, run = state
    pay = paytable.get(wild, {}).get(wilds, 0) if wild is not None else 0
    if symbol is not None:
        pay = max(pay, paytable.get(symbol, {}).get(run, 0))
    return pay


def _step(state, symbol, paytable, wild):
    if isinstance(state, int):
        return state
    wilds, running, run = state
    if running is None:
        if symbol == wild:
            return (wilds + 1, None, run + 1)
        return (wilds, symbol, run + 1)
    if symbol in (running, wild):
        return (wilds, running, run + 1)
    return _settle(state, paytable, wild)


def _row_counts(strip, rows: tuple[int, ...]) -> Counter:
    """How many stops of a strip show each tuple of symbols on the given rows."""
    n = len(strip)
    return Counter(tuple(strip[(stop + row) % n] for row in rows) for stop in range(n))


def _expected_product(config: SlotConfig, lines: tuple[tuple[int, ...], ...]) -> Fraction:
    """E[prod of the given lines' multipliers] over the full cycle, exactly.

    One line gives E[W]; the same line twice gives E[W²]; two lines give E[W_l · W_m].
    """
    paytable, wild = config.paytable, config.wild
    step_cache: dict = {}
    states: dict[tuple, int] = {tuple(_START for _ in lines): 1}
    for reel, strip in enumerate(config.reels):
        counts = _row_counts(strip, tuple(line[reel] for line in lines))
        following: dict[tuple, int] = {}
        for joint, weight in states.items():
            for symbols, count in counts.items():
                key = (joint, symbols)
                nxt = step_cache.get(key)
                if nxt is None:
                    nxt = tuple(_step(s, sym, paytable, wild) for s, sym in zip(joint, symbols, strict=True))
                    # Both sides settled to a zero pay: the product is 0 whatever follows.
                    if any(isinstance(s, int) and s == 0 for s in nxt):
                        nxt = (0,) * len(lines)
                    step_cache[key] = nxt
                following[nxt] = following.get(nxt, 0) + weight * count
        states = following
    total = 0
    for joint, weight in states.items():
        value = 1
        for s in joint:
            value *= _settle(s, paytable, wild)
        total += value * weight
    return Fraction(total, config.cycle)


def enumerate_rtp(config: SlotConfig) -> Fraction:
    """Exact expected return per unit staked (all lines played, one line stake each)."""
    line_total = sum(_expected_product(config, (line,)) for line in config.paylines)
    return line_total / len(config.paylines)


def enumerate_moments(config: SlotConfig) -> tuple[Fraction, Fraction]:
    """Exact (mean, variance) of a spin's return per unit staked."""
    lines = config.paylines
    mean_total = sum(_expected_product(config, (line,)) for line in lines)
    second = Fraction(0)
    for i, first in enumerate(lines):
        second += _expected_product(config, (first, first))
        for other in lines[i + 1 :]:
            second += 2 * _expected_product(config, (first, other))
    stake = len(lines)
    mean = mean_total / stake
    variance = (second - mean_total * mean_total) / (stake * stake)
    return mean, variance


def enumerate_variance(config: SlotConfig) -> Fraction:
    """Exact variance of a spin's return per unit staked."""
    return enumerate_moments(config)[1]


# --- loading and validation ------------------------------------------------------------------


def parse(data: dict[str, Any], *, min_stops: int = MIN_STOPS, max_stops: int = MAX_STOPS):
    """A validated SlotConfig from plain data, without the RTP check (see ``load``)."""
    if not isinstance(data, dict):
        raise ValueError("slot configuration must be a mapping")
    reels = data.get("reels")
    if not isinstance(reels, list) or len(reels) != REELS:
        raise ValueError(f"slot configuration needs exactly {REELS} reel strips")
    strips = []
    for index, strip in enumerate(reels):
        if not isinstance(strip, list) or not all(isinstance(s, str) and s for s in strip):
            raise ValueError(f"reel {index + 1}: a strip is a list of symbol names")
        if not min_stops <= len(strip) <= max_stops:
            raise ValueError(f"reel {index + 1}: {len(strip)} stops, expected {min_stops}-{max_stops}")
        strips.append(tuple(strip))
    symbols = {s for strip in strips for s in strip}

    rows = data.get("rows", ROWS)
    if rows != ROWS:
        raise ValueError(f"slot configuration needs {ROWS} visible rows, got {rows!r}")

    paylines = data.get("paylines")
    if not isinstance(paylines, list) or len(paylines) != LINE_COUNT:
        raise ValueError(f"slot configuration needs exactly {LINE_COUNT} paylines")
    lines = []
    for index, line in enumerate(paylines):
        if (
            not isinstance(line, list)
            or len(line) != REELS
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in line)
        ):
            raise ValueError(f"payline {index + 1}: {REELS} row indexes expected")
        if not all(0 <= r < ROWS for r in line):
            raise ValueError(f"payline {index + 1}: row indexes must be 0-{ROWS - 1}")
        lines.append(tuple(line))
    if len(set(lines)) != len(lines):
        raise ValueError("paylines must be distinct")

    wild = data.get("wild")
    if wild is not None and wild not in symbols:
        raise ValueError(f"wild symbol {wild!r} is on no reel")

    raw_table = data.get("paytable")
    if not isinstance(raw_table, dict) or not raw_table:
        raise ValueError("slot configuration needs a pay table")
    paytable: dict[str, dict[int, int]] = {}
    for symbol, pays in raw_table.items():
        if symbol not in symbols:
            raise ValueError(f"pay table names {symbol!r}, which is on no reel")
        if not isinstance(pays, dict):
            raise ValueError(f"pay table entry for {symbol!r} must map run length to pay")
        entry = {}
        for length, pay in pays.items():
            try:
                run = int(length)
            except (TypeError, ValueError):
                raise ValueError(f"pay table {symbol!r}: run length {length!r}") from None
            if run not in RUN_LENGTHS:
                raise ValueError(f"pay table {symbol!r}: run length {run} not in 3, 4, 5")
            if not isinstance(pay, int) or isinstance(pay, bool) or pay < 0:
                raise ValueError(f"pay table {symbol!r}: pay {pay!r} is not a whole multiplier")
            entry[run] = pay
        paytable[symbol] = entry

    declared = data.get("declared_rtp")
    if declared is not None and not isinstance(declared, str):
        raise ValueError("declared_rtp must be a decimal string, e.g. '0.9612'")
    exact = data.get("declared_rtp_exact")
    if exact is not None and not isinstance(exact, str):
        raise ValueError("declared_rtp_exact must be a fraction string 'p/q'")
    return SlotConfig(
        reels=tuple(strips),
        paylines=tuple(lines),
        paytable=paytable,
        wild=wild,
        name=str(data.get("name", "")),
        rows=rows,
        declared_rtp=declared,
        declared_rtp_exact=exact,
    )


def _fraction(text: str, field: str) -> Fraction:
    try:
        if "/" in text:
            return Fraction(text)
        return Fraction(Decimal(text))
    except (ValueError, ZeroDivisionError, InvalidOperation):
        raise ValueError(f"{field} {text!r} is not a number") from None


def load(source: str | Path | dict[str, Any] | None = None, **limits) -> SlotConfig:
    """A slot configuration, refused unless its declared RTP is the enumerated one.

    ``source`` is a path to a JSON file, or the data itself; the default slot when omitted.
    The decimal ``declared_rtp`` must be within 0.01 percentage points of the enumeration;
    an exact ``declared_rtp_exact`` ("p/q"), when given, must equal it exactly.
    """
    if source is None:
        source = DEFAULT_CONFIG_PATH
    if isinstance(source, dict):
        data = source
    else:
        with open(source, encoding="utf-8") as handle:
            data = json.load(handle)
    config = parse(data, **limits)
    if config.declared_rtp is None:
        raise ValueError("slot configuration must declare its RTP (declared_rtp)")
    declared = _fraction(config.declared_rtp, "declared_rtp")
    enumerated = enumerate_rtp(config)
    if abs(declared - enumerated) > RTP_TOLERANCE:
        raise ValueError(
            f"declared RTP {config.declared_rtp} differs from the enumerated "
            f"{Decimal(enumerated.numerator) / Decimal(enumerated.denominator):.6f} ({enumerated}) by more than 0.01 "
            "percentage points"
        )
    if config.declared_rtp_exact is not None:
        exact = _fraction(config.declared_rtp_exact, "declared_rtp_exact")
        if exact != enumerated:
            raise ValueError(f"declared exact RTP {config.declared_rtp_exact} is not the enumerated {enumerated}")
    return config
