"""The back office's own tables: the reports' runs and their rows (docs/reports.md).

A `ReportRun` is one computation of one report (`kind`) for one UTC day: queued by the beat
schedule or a staff member's "run now", computed by a Celery task (`tasks.py`) from the owning
apps' selectors (`reports.py`), written by `services.py`. Its `ReportRow`s are the figures, one
row per line of the report, each a list of cells in the order of the kind's columns
(`reports.REPORTS[kind].columns`): a row table rather than one JSON document, so the CSV streams
row by row from a server-side cursor however long the report is. When a run of a (kind, day) is
done, the older runs of that (kind, day) are removed with their rows: a day shows its latest
figures, and the every-few-minutes runs of today do not pile up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportKind(models.TextChoices):
    GGR = "ggr", "GGR and NGR"
    LIABILITY = "liability", "Player liability"
    RG = "rg", "Responsible gambling"
    AML = "aml", "AML alerts and cases"
    PAYMENTS = "payments", "Payments"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReportRun(models.Model):
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    day = models.DateField(help_text="the UTC day the figures are of")
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # None: the beat schedule; a staff user: their "run now".
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # When the figures were read: the end of the window for a past day, the moment of the read
    # for today so far and for the liability snapshot.
    as_of = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        # Only the report permissions: a run is written by the services, never through a form.
        default_permissions = ()
        permissions = [
            ("view_reports", "Can open the reports' index"),
            ("view_ggr_report", "Can view the GGR and NGR report"),
            ("view_liability_report", "Can view the player liability report"),
            ("view_rg_report", "Can view the responsible-gambling report"),
            ("view_aml_report", "Can view the AML report"),
            ("view_payments_report", "Can view the payments report"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__one_of=ReportKind.values), name="report_run_kind_valid"),
            models.CheckConstraint(condition=Q(status__one_of=RunStatus.values), name="report_run_status_valid"),
        ]
        indexes = [models.Index(fields=["kind", "day", "-id"], name="report_run_kind_day_idx")]

    def __str__(self) -> str:
        return f"{self.kind} report of {self.day} ({self.status})"


class ReportRow(models.Model):
    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    cells = models.JSONField(help_text="the row's values in the order of the report's columns")

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="report_row_position_unique")]

    def __str__(self) -> str:
        return f"row {self.position} of run {self.run_id}"
