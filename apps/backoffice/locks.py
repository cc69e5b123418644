"""The only module of the back office that takes row locks: a queued report run, while its
computed rows are stored (a task delivered twice stores them once)."""

from __future__ import annotations

from apps.backoffice.models import ReportRun, RunStatus


def lock_queued_run(run_id: int) -> ReportRun | None:
    """Report run `run_id` if it is still queued, locked until the caller's transaction ends;
    None when it is not (computed already, or removed by a newer run)."""
    return ReportRun.objects.select_for_update().filter(pk=run_id, status=RunStatus.QUEUED).first()
