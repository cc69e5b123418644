"""Timestamps as the client contracts write them: ISO 8601 in UTC with a `Z`."""

import datetime as dt


def iso_utc(moment: dt.datetime) -> str:
    """`2026-11-23T14:25:33.730969Z`: the same instant whatever the database's time zone."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
