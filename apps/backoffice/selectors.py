"""Reads of the back office's own tables: the reports' stored runs and rows. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Max

from apps.backoffice.models import ReportRow, ReportRun, RunStatus

# The CSV reads rows from a server-side cursor this many at a time.
CSV_CHUNK = 2_000


def latest_runs(kind: str, since: dt.date, until: dt.date) -> list[ReportRun]:
    """The latest done run of report `kind` for each day from `since` to `until` (both included)
    that has one, by day."""
    latest = (
        ReportRun.objects.filter(kind=kind, day__gte=since, day__lte=until, status=RunStatus.DONE)
        .values("day")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return list(ReportRun.objects.filter(pk__in=latest).order_by("day"))


def last_run(kind: str) -> ReportRun | None:
    """The newest run of report `kind`, whatever its status (what the index shows)."""
    return ReportRun.objects.filter(kind=kind).order_by("-pk").first()


def get_run(run_id: int) -> ReportRun | None:
    return ReportRun.objects.filter(pk=run_id).first()


def pending_runs(kind: str) -> int:
    return ReportRun.objects.filter(kind=kind, status=RunStatus.QUEUED).count()


def iter_rows(runs: list[ReportRun]) -> Iterator[tuple[dt.date, list]]:
    """(day, cells) of every row of `runs`, by day then position, read from a server-side cursor
    `CSV_CHUNK` rows at a time: never the whole report in memory."""
    rows = (
        ReportRow.objects.filter(run__in=[run.pk for run in runs])
        .order_by("run__day", "position")
        .values_list("run__day", "cells")
    )
    yield from rows.iterator(chunk_size=CSV_CHUNK)
