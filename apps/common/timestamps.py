"""Timestamps as the client contracts write them: ISO 8601 in UTC with a `Z`."""

import datetime as dt


def iso_utc(moment: dt.datetime) -> str:
    """`2026-11-23T14:25:33.730969Z`: the same instant whatever the database's time zone."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def aware_from_sql(value) -> dt.datetime | None:
    """A timestamp read with plain SQL: aware from PostgreSQL; from SQLite (embedded mode) naive
    UTC, or text."""
    from django.utils.dateparse import parse_datetime

    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
