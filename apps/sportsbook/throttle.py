"""The liability throttle's arithmetic: how fast a market's exposure grows (docs/sportsbook.md,
"Liability throttle").

A market's exposure row keeps a window of the liability that bets took on it: `window_amount`,
taken since `window_started_at`, and `previous_window_amount`, taken in the window of the same
length just before. The growth over the last `window_s` seconds is estimated as a sliding window:
the current window's amount plus the previous one's in the proportion of it that is still within
`window_s` of now (a burst astride two windows is counted, which two fixed windows would miss
half of). Rows are read and written under their locks, in the bet's money transaction
(intake.take_bet), so bets on one market move their window one after the other, and exactly
one of them can be the bet that takes the growth over the limit: the crossing bet.

Only gross growth counts: a rejected pending bet takes its liability off the exposure, not off
the window (the window measures how fast the book was asked to take risk, not what stands).
Everything is integers and fractions of microseconds: no float touches an amount.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.conf import settings

_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Window:
    started_at: dt.datetime | None
    amount: int = 0
    previous: int = 0


def window_us() -> int:
    """The window's length in microseconds (SPORTSBOOK_THROTTLE["window_s"])."""
    return max(1, round(settings.SPORTSBOOK_THROTTLE["window_s"] * 1_000_000))


def is_on() -> bool:
    """Whether the throttle is on: a `limit` or a `cap_share` above 0 (what makes `limit_of` a
    number for every market, whatever its cap)."""
    return settings.SPORTSBOOK_THROTTLE["limit"] > 0 or Decimal(settings.SPORTSBOOK_THROTTLE["cap_share"]) > 0


def limit_terms(unit: int) -> tuple[int | None, Decimal | None]:
    """SPORTSBOOK_THROTTLE's `limit` in minor units (whole units times `unit`) and its
    `cap_share`, each None when 0 (not used): what `limit_of` takes the lower of."""
    most = settings.SPORTSBOOK_THROTTLE["limit"] * unit
    share = Decimal(settings.SPORTSBOOK_THROTTLE["cap_share"])
    return most or None, share or None


def limit_of(cap: int | None, market_default: int, unit: int) -> int | None:
    """The most liability a market of cap `cap` (None: its default `market_default`, minor units)
    may take within the window, in minor units: the lower of SPORTSBOOK_THROTTLE's `limit` and its
    `cap_share` of the cap, each when above 0 (`limit_terms`); None: the throttle is off."""
    most, share = limit_terms(unit)
    candidates = [] if most is None else [most]
    if share is not None:
        candidates.append(math.floor(Fraction(share) * (market_default if cap is None else cap)))
    return min(candidates) if candidates else None


def advance(window: Window, now: dt.datetime, length_us: int) -> Window:
    """The window as it stands at `now`: the same one while it lasts; the next one (the current
    amount becoming the previous) once it has ended; a fresh one from `now` once the next one
    has ended too. A `now` before the window's start (two processes' clocks) counts as its start."""
    if window.started_at is None:
        return Window(now)
    elapsed = (now - window.started_at) // _MICROSECOND
    if elapsed < length_us:
        return window
    if elapsed < 2 * length_us:
        return Window(window.started_at + length_us * _MICROSECOND, 0, window.amount)
    return Window(now)


def growth(window: Window, now: dt.datetime, length_us: int) -> Fraction:
    """The liability taken within `length_us` of `now`, estimated (module docstring); `window` is
    advanced to `now` already."""
    if window.started_at is None:
        return Fraction(0)
    elapsed = min(max((now - window.started_at) // _MICROSECOND, 0), length_us)
    return window.amount + Fraction(window.previous * (length_us - elapsed), length_us)


def take(window: Window, liability: int, now: dt.datetime, limit: int) -> tuple[Window, bool]:
    """The window after a bet of `liability` at `now`, and whether that bet crossed `limit`: the
    growth was at most the limit before it and is above it with it."""
    length = window_us()
    current = advance(window, now, length)
    before = growth(current, now, length)
    after = Window(current.started_at, current.amount + liability, current.previous)
    return after, before <= limit < before + liability
