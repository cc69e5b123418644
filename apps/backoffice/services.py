"""The back office's writes: the reports' runs (docs/reports.md).

A run is queued (by a staff member's "run now", a staff action in the trail, or by the beat
schedule), then computed by the Celery task `tasks.compute_report`, which calls
`compute_report` here. The figures are read by `reports.py` through the owning apps' selectors;
nothing here reads another app's tables or moves money. Each write is one transaction; the task
is sent after the run's row commits (`on_commit`), never from inside the transaction, so a worker
never looks for a run that is not there yet.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import structlog
from django.db import transaction
from django.utils import timezone

from apps.backoffice import locks, reports
from apps.backoffice.errors import InvalidReportDay, UnknownReport
from apps.backoffice.models import ReportRow, ReportRun, RunStatus
from apps.common import staff_trail

logger = structlog.get_logger(__name__)

# A run writes its rows in batches of this many.
ROW_BATCH = 1_000


def _checked_day(kind: str, day: dt.date, now: dt.datetime) -> None:
    if kind not in reports.REPORTS:
        raise UnknownReport(f"No report is called {kind!r}.")
    today = now.astimezone(reports.UTC).date()
    if day > today:
        raise InvalidReportDay("A report cannot be run for a day that has not begun.")
    if reports.REPORTS[kind].snapshot and day != today:
        raise InvalidReportDay("The liability is a snapshot of now: it can only be run for today.")


def _queue(run: ReportRun) -> None:
    from apps.backoffice import tasks

    # robust: a broker that is down must not turn the committed request into an error page; the
    # run stays queued, and the next scheduled run of the day replaces it.
    transaction.on_commit(partial(tasks.compute_report.delay, run.pk), robust=True)


def request_report(*, kind: str, day: dt.date, actor) -> ReportRun:
    """A staff member's "run now": a queued run of report `kind` for `day`, recorded in the staff
    trail (`report.run`), its task sent once it commits. Raises UnknownReport, InvalidReportDay
    (a day not begun; the liability for another day than today)."""
    now = timezone.now()
    _checked_day(kind, day, now)
    with transaction.atomic():
        run = ReportRun.objects.create(kind=kind, day=day, requested_by=actor, created_at=now)
        staff_trail.record_staff_action(actor=actor, action=staff_trail.REPORT_RUN, target=run,
                                        after={"kind": kind, "day": day.isoformat()})  # fmt: skip
        _queue(run)
    return run


def schedule_reports(*, day: dt.date) -> list[ReportRun]:
    """The beat schedule's runs: one queued run of every report for `day` (the liability only for
    today: a snapshot of a past day cannot be taken any more), each task sent once it commits."""
    now = timezone.now()
    runs = []
    for kind in reports.REPORTS:
        try:
            _checked_day(kind, day, now)
        except InvalidReportDay:
            continue
        with transaction.atomic():
            run = ReportRun.objects.create(kind=kind, day=day, created_at=now)
            _queue(run)
        runs.append(run)
    return runs


def compute_report(run_id: int) -> ReportRun | None:
    """Compute queued run `run_id` and store its rows; done, the older runs of its (kind, day)
    are removed with their rows, and if a newer run of it is already done, this one is removed
    instead (a late task never hides newer figures). A run that is not queued (computed already:
    the task was delivered twice; removed by a newer run) is left alone and None returned.
    If reading the figures fails, the run is marked failed with the error, and the error raised."""
    run = ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).first()
    if run is None:
        return None
    report = reports.REPORTS[run.kind]
    now = timezone.now()
    since, until = reports.window(run.day, now)
    try:
        # One snapshot for all of the report's reads: figures that move while it runs stay
        # consistent with each other (the GGR's games beside their brand's total).
        connection = transaction.get_connection()
        outermost = not connection.in_atomic_block and connection.vendor == "postgresql"
        with transaction.atomic():
            if outermost:  # SQLite (embedded) reads one snapshot per transaction anyway
                with transaction.get_connection().cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            rows = report.build(since, until)
    except Exception as exc:
        ReportRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        logger.exception("report_failed", run=run.pk, kind=run.kind, day=str(run.day))
        raise
    with transaction.atomic():
        run = locks.lock_queued_run(run.pk)
        if run is None:
            return None
        same = ReportRun.objects.filter(kind=run.kind, day=run.day)
        if same.filter(pk__gt=run.pk, status=RunStatus.DONE).exists():
            run.delete()
            return None
        for start in range(0, len(rows), ROW_BATCH):
            ReportRow.objects.bulk_create(
                ReportRow(run=run, position=start + n, cells=cells)
                for n, cells in enumerate(rows[start : start + ROW_BATCH])
            )
        run.status = RunStatus.DONE
        run.as_of = until
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "as_of", "finished_at"])
        same.filter(pk__lt=run.pk).delete()
    logger.info("report_done", run=run.pk, kind=run.kind, day=str(run.day), rows=len(rows))
    return run
