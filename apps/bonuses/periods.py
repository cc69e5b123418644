"""A campaign's periods: a wagering-threshold or cash-back campaign counts in consecutive periods
of its `wagering_period_days` / `cashback_period_days`, laid end to end from its `starts_at`, or,
for a campaign without a start, from Monday 1970-01-05 00:00 UTC: UTC days for a period of one
day, ISO weeks (Monday to Sunday) for seven. A period includes its start and excludes its end.

Fixed periods rather than a window sliding with each bet, so "once per period" names one period
that every bet, every process and every re-delivery agree on (the grant's trigger carries its
start or end date). Pure functions: no database.
"""

from __future__ import annotations

import datetime as dt

# The anchor of the periods of a campaign without a start: a Monday, midnight UTC.
NO_START_ANCHOR = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)


def anchor(starts_at: dt.datetime | None) -> dt.datetime:
    """Where a campaign's periods start: its own start, else a Monday midnight UTC."""
    return starts_at or NO_START_ANCHOR


def period_containing(starts_at: dt.datetime | None, days: int, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(start, end) of the campaign's period that contains `at` (start <= at < end)."""
    length = dt.timedelta(days=days)
    origin = anchor(starts_at)
    start = origin + ((at - origin) // length) * length
    return start, start + length


def last_ended_period(
    starts_at: dt.datetime | None, days: int, at: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """(start, end) of the campaign's latest period that ended at or before `at` (a period that
    ends exactly at `at` has ended); None while its first period runs."""
    end, _ = period_containing(starts_at, days, at)
    start = end - dt.timedelta(days=days)
    if start < anchor(starts_at):
        return None
    return start, end
