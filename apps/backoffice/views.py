"""Back-office pages beyond the model admin: the live feed of every player's money movements and
the reports."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from apps.backoffice import charts, reports, selectors, services
from apps.backoffice.errors import InvalidReportDay, UnknownReport
from apps.backoffice.models import RunStatus
from apps.common.money import ISO_4217, format_minor

# For display only: the page formats minor units with each currency's exponent.
_EXPONENTS = {code: exponent for code, (_, exponent) in ISO_4217.items()}


def live_feed(request):
    """`/backoffice/live/`: every committed wallet movement as it happens, through `/ws/backoffice/`
    (apps.realtime.consumers.BackofficeFeedConsumer). The page only renders; the frames come over
    the socket, which checks the same permission."""
    if not request.user.has_perm("wallet.view_transaction"):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Live feed",
        "exponents": _EXPONENTS,
    }
    return TemplateResponse(request, "backoffice/live_feed.html", context)


# --- the reports (docs/reports.md) ----------------------------------------------------------------

DEFAULT_RANGE_DAYS = 7
MAX_RANGE_DAYS = 366


class _Echo:
    """A file-like object whose write returns what it is given: csv.writer then yields each row's text."""

    def write(self, value: str) -> str:
        return value


def _report_or_404(request, kind: str) -> reports.Report:
    report = reports.REPORTS.get(kind)
    if report is None:
        raise Http404("No such report.")
    if not request.user.has_perm(report.permission):
        raise PermissionDenied
    return report


def _date_range(request) -> tuple[dt.date, dt.date]:
    """The page's `from` and `to` (ISO dates, both included; default the last week up to today).
    Raises ValueError with what is wrong."""
    today = timezone.now().astimezone(reports.UTC).date()
    until = dt.date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
    since = (
        dt.date.fromisoformat(request.GET["from"])
        if request.GET.get("from")
        else until - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    )
    if since > until:
        raise ValueError("The range's start is after its end.")
    if (until - since).days >= MAX_RANGE_DAYS:
        raise ValueError(f"A range is at most {MAX_RANGE_DAYS} days.")
    return since, until


def _bad_range(request, error: ValueError, status: int = 400):
    return HttpResponse(f"INVALID_DATE_RANGE: {error}", status=status, content_type="text/plain")


def reports_index(request):
    """`/backoffice/reports/`: the reports this staff member may read, each with its last run."""
    allowed = [r for r in reports.REPORTS.values() if request.user.has_perm(r.permission)]
    if not allowed:
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "reports": [(r, selectors.last_run(r.kind)) for r in allowed],
    }
    return TemplateResponse(request, "backoffice/reports_index.html", context)


def report_page(request, kind: str):
    """`/backoffice/reports/<kind>/`: the report's rows for each day of the range (each day's
    latest run), a chart of them, the CSV link and the "run now" button."""
    report = _report_or_404(request, kind)
    try:
        since, until = _date_range(request)
    except ValueError as error:
        return _bad_range(request, error)
    runs = selectors.latest_runs(report.kind, since, until)
    days = [(since + dt.timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]
    rows: list[list[str]] = []
    series: dict[str, dict[str, int]] = {}
    for day, cells in selectors.iter_rows(runs):
        rows.append(reports.display(report, day, cells))
        for name, value in report.chart(reports.as_dict(report, cells)):
            by_day = series.setdefault(name, {})
            by_day[day.isoformat()] = by_day.get(day.isoformat(), 0) + (value or 0)

    def label(name: str, value: int) -> str:
        currency = name.rsplit(" ", 1)[-1]
        return format_minor(value, _EXPONENTS[currency]) + f" {currency}" if currency in _EXPONENTS else str(value)

    context = {
        **admin.site.each_context(request),
        "title": report.title,
        "report": report,
        "since": since,
        "until": until,
        "runs": runs,
        "rows": rows,
        "header": ["Day", *(column.label for column in report.columns)],
        "money_columns": [n + 1 for n, column in enumerate(report.columns) if column.type != "text"],
        "chart": mark_safe(charts.bar_chart(days, series, label)),  # noqa: S308 - built with escape()
        "legend": charts.legend(series),
        "queued": selectors.pending_runs(report.kind),
        "today": timezone.now().astimezone(reports.UTC).date(),
    }
    return TemplateResponse(request, "backoffice/report.html", context)


def report_csv(request, kind: str):
    """`/backoffice/reports/<kind>.csv`: the page's rows as CSV, streamed from a server-side cursor
    row by row (never built in memory), the same text as the page's cells."""
    report = _report_or_404(request, kind)
    try:
        since, until = _date_range(request)
    except ValueError as error:
        return _bad_range(request, error)
    runs = selectors.latest_runs(report.kind, since, until)
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(report.header)
        for day, cells in selectors.iter_rows(runs):
            yield writer.writerow(reports.display(report, day, cells))

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{report.kind}-{since}-{until}.csv"'
    return response


@require_POST
def report_run(request, kind: str):
    """POST `/backoffice/reports/<kind>/run`: "run now", a staff action: queues the report for the
    day asked (`day`, default today), computed at once when embedded (Celery eager)."""
    report = _report_or_404(request, kind)
    try:
        day = dt.date.fromisoformat(
            request.POST.get("day") or timezone.now().astimezone(reports.UTC).date().isoformat()
        )
        run = services.request_report(kind=report.kind, day=day, actor=request.user)
    except ValueError:
        messages.error(request, "INVALID_REPORT_DAY: the day is not a date (YYYY-MM-DD).")
    except (InvalidReportDay, UnknownReport) as error:
        messages.error(request, f"{error.code}: {error.message}")
    else:
        # None: a newer run of the same day finished first and replaced it.
        run = selectors.get_run(run.pk) or run
        outcome = {
            RunStatus.DONE: "is done",
            RunStatus.QUEUED: "is queued: a worker computes it shortly",
            RunStatus.FAILED: f"failed: {run.error}",
        }[run.status]
        (messages.error if run.status == RunStatus.FAILED else messages.success)(
            request, f"The {report.title} report of {day} {outcome}."
        )
    return redirect(reverse("admin:report", args=[report.kind]) + "?" + request.GET.urlencode())
