"""Night hours on a local clock: whether a moment is at night, when its night began, and how much of
a stretch of time lies inside night hours (the `night_play` rule, docs/rules.md).

Pure functions of Unix seconds and an IANA time zone: no query. A night runs from `start_hour`
to `end_hour` on the zone's wall clock; when `start_hour` is after `end_hour` (22 to 6) it spans
midnight and belongs to the day it starts on. Nights are placed on the wall clock day by day, so
a night across a daylight-saving change is one hour shorter or longer in real time, as the
player lives it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_DAY = dt.timedelta(days=1)


def is_night(t: int, start_hour: int, end_hour: int, zone: ZoneInfo) -> bool:
    """Whether second `t` falls inside night hours on the zone's clock."""
    hour = dt.datetime.fromtimestamp(t, zone).hour
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def night_start(t: int, start_hour: int, end_hour: int, zone: ZoneInfo) -> dt.datetime:
    """The start (UTC) of the night that second `t`, inside night hours, belongs to."""
    local = dt.datetime.fromtimestamp(t, zone)
    day = local.date()
    if start_hour > end_hour and local.hour < end_hour:
        day -= _DAY  # after midnight: the night began the evening before
    return _at(day, start_hour, zone).astimezone(dt.UTC)


def seconds_at_night(since: int, until: int, start_hour: int, end_hour: int, zone: ZoneInfo) -> int:
    """How many seconds of [`since`, `until`) lie inside night hours: the overlap with each night
    from the one that began the day before `since` to the one that begins on `until`'s day."""
    total = 0
    day = dt.datetime.fromtimestamp(since, zone).date() - _DAY
    last = dt.datetime.fromtimestamp(until, zone).date()
    while day <= last:
        begins = int(_at(day, start_hour, zone).timestamp())
        ends = int(_at(day if start_hour < end_hour else day + _DAY, end_hour, zone).timestamp())
        total += max(0, min(ends, until) - max(begins, since))
        day += _DAY
    return total


def _at(day: dt.date, hour: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
