"""Celery tasks of the back office: the reports only (pam/celery.py: nothing on the money path is
ever a task). Thin: each calls a service. The beat schedule (settings `CELERY_BEAT_SCHEDULE`)
runs `run_reports`; a staff member's "run now" queues `compute_report` (docs/reports.md)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from apps.backoffice import services


@shared_task(name="backoffice.compute_report")
def compute_report(run_id: int) -> str:
    """Compute one queued report run (services.compute_report)."""
    run = services.compute_report(run_id)
    return "skipped" if run is None else run.status


@shared_task(name="backoffice.run_reports")
def run_reports(days_ago: int = 0) -> list[int]:
    """Queue every report for the UTC day `days_ago` days before today: 1 just after midnight
    (yesterday's final figures), 0 every few minutes (today so far)."""
    day = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=days_ago)
    return [run.pk for run in services.schedule_reports(day=day)]
