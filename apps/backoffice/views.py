"""Back-office pages beyond the model admin: the live operations feed, a player's standing (lock,
freeze, re-open) and KYC (documents, decision) pages, which the player 360 page (player360.py)
links to, the reports, and the dashboard's figures as JSON for the index's script. Each page
declares its permission and calls one service per form."""

from __future__ import annotations

import csv
import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts
from apps.accounts.choices import KycDocumentKind
from apps.accounts.errors import DocumentTooLarge
from apps.accounts.models import KYC_DOCUMENT_TYPES, Player
from apps.backoffice import charts, reports, selectors, services
from apps.backoffice.errors import InvalidReportDay, UnknownReport
from apps.backoffice.models import RunStatus
from apps.backoffice.player360 import STANDING_CHANGES
from apps.common.admin import staff_page
from apps.common.errors import PamError, error_body
from apps.common.money import ISO_4217, format_minor
from apps.realtime import selectors as realtime

# For display only: the page formats minor units with each currency's exponent.
_EXPONENTS = {code: exponent for code, (_, exponent) in ISO_4217.items()}


@staff_page("wallet.view_transaction")
def live_feed(request):
    """`/backoffice/live/`: every event the staff member's role may see as it happens (money
    movements, withdrawals, alerts, limit changes, exclusions), through `/ws/backoffice/`
    (apps.realtime.consumers.BackofficeFeedConsumer), which applies the same permission table and
    the filters the page's form sends. The page only renders; the frames come over the socket."""
    events = realtime.feed_event_types_for(request.user)
    if not events:
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Live feed",
        "exponents": _EXPONENTS,
        "feed_events": events,
        "brands": sorted(accounts_selectors.brand_codes().values()),
    }
    return TemplateResponse(request, "backoffice/live_feed.html", context)


# --- a player's standing ---------------------------------------------------------------------------


class StandingForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("lock", "Lock (no bets or deposits; withdrawals still work)"),
            ("freeze", "Freeze (no bets, deposits or withdrawals)"),
            ("reopen", "Re-open after review"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@staff_page("accounts.change_player")
def player_standing(request, player_id: int):
    """`/backoffice/players/<id>/standing/`: lock, freeze or re-open one account with a reason,
    through compliance's services (each records its `account.*` staff action)."""
    player = _player(player_id)
    form = StandingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        change = STANDING_CHANGES[form.cleaned_data["action"]]
        try:
            changed = change(player=player, acting_user=request.user, reason=form.cleaned_data["reason"])
        except PamError as refusal:
            form.add_error(None, f"{refusal.code}: {refusal.message}")
        else:
            messages.success(request, f"{changed}: {changed.status}")
            return redirect(reverse("admin:player_standing", args=[player.pk]))
    context = {**admin.site.each_context(request), "title": f"Standing of {player.user.username}", "player": player,
               "form": form}  # fmt: skip
    return TemplateResponse(request, "backoffice/player_standing.html", context)


# --- a player's KYC ------------------------------------------------------------------------------


class KycUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KycDocumentKind.choices)
    document = forms.FileField(help_text="PDF, JPEG or PNG (told by the content, not the name)")


class KycDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(accounts.KYC_APPROVE, "Approve (verified)"), (accounts.KYC_REJECT, "Reject")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False, help_text="required to reject"
    )


@staff_page("accounts.view_player")
def player_kyc(request, player_id: int):
    """`/backoffice/players/<id>/kyc/`: the player's KYC status for staff who may read players;
    the documents, their upload and the decision for staff with those permissions (compliance).
    Support sees the status only."""
    user = request.user
    player = _player(player_id)
    may = {
        "view": user.has_perm("accounts.view_kycdocument"),
        "upload": user.has_perm("accounts.add_kycdocument"),
        "decide": user.has_perm("accounts.decide_kyc"),
    }
    upload, decision = KycUploadForm(prefix="upload"), KycDecisionForm(prefix="decision")
    if request.method == "POST":
        if _too_large(request):
            # Refused on the request's declared length, before the form takes the file: nothing of
            # an upload far over the limit is hashed or stored.
            messages.error(request, f"{DocumentTooLarge.code}: {DocumentTooLarge.default_message}")
        elif "upload-kind" in request.POST:
            if not may["upload"]:
                raise PermissionDenied
            upload = KycUploadForm(request.POST, request.FILES, prefix="upload")

            def store(data):
                accounts.upload_kyc_document(player_id=player.pk, kind=data["kind"], file=data["document"],
                                             acting_user=user)  # fmt: skip

            if _submitted(upload, store):
                messages.success(request, "Document stored.")
                return redirect(reverse("admin:player_kyc", args=[player.pk]))
        else:
            if not may["decide"]:
                raise PermissionDenied
            decision = KycDecisionForm(request.POST, prefix="decision")

            def decide(data):
                accounts.decide_kyc(player_id=player.pk, decision=data["decision"], reason=data["reason"],
                                    acting_user=user)  # fmt: skip

            if _submitted(decision, decide):
                messages.success(request, "KYC decision recorded.")
                return redirect(reverse("admin:player_kyc", args=[player.pk]))
    context = {
        **admin.site.each_context(request),
        "title": f"KYC of {player.user.username}",
        "player": accounts_selectors.get_player(player.pk),
        "documents": accounts_selectors.list_kyc_documents(player.pk) if may["view"] else None,
        "may": may,
        "upload": upload,
        "decision": decision,
    }
    return TemplateResponse(request, "backoffice/player_kyc.html", context)


@staff_page("accounts.view_kycdocument")
def kyc_document(request, player_id: int, document_id: int):
    """One KYC document, streamed to staff who may view documents: as an attachment, with the
    type its bytes showed at upload and `nosniff`, so a browser neither renders it in the back
    office's origin nor guesses another type."""
    try:
        document = accounts_selectors.get_kyc_document(player_id, document_id)
    except PamError:
        raise Http404 from None
    extension = KYC_DOCUMENT_TYPES[document.content_type]
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, content_type=document.content_type,
        filename=f"kyc-{player_id}-{document.pk}-{document.kind}.{extension}",
    )  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# What a multipart body adds around the file (the boundaries, the other fields), at most.
_FORM_OVERHEAD = 64 * 1024


def _too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.KYC_DOCUMENT_MAX_BYTES + _FORM_OVERHEAD


def _submitted(form: forms.Form, call) -> bool:
    """Whether `form` was valid and `call(cleaned_data)` ran without a refusal (shown on the form)."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except PamError as refusal:
        form.add_error(None, f"{refusal.code}: {refusal.message}")
        return False
    return True


def _player(player_id: int) -> Player:
    try:
        return accounts_selectors.get_player(player_id)
    except Player.DoesNotExist:
        raise Http404 from None


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


@staff_page("backoffice.view_reports")
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
    return redirect(reverse(report.page_url) + "?" + request.GET.urlencode())


def report_urls(admin_view) -> list:
    """A page, its CSV and its "run now" for each report, each URL declaring the report's own
    permission (`staff_page`) for the permission matrix; the views check it again by kind."""
    urls = []
    for kind, report in reports.REPORTS.items():

        def guard(view, permission=report.permission):
            return admin_view(staff_page(permission)(view))

        urls += [
            path(f"reports/{kind}/", guard(report_page), {"kind": kind}, name=f"report_{kind}"),
            path(f"reports/{kind}/run", guard(report_run), {"kind": kind}, name=f"report_{kind}_run"),
            path(f"reports/{kind}.csv", guard(report_csv), {"kind": kind}, name=f"report_{kind}_csv"),
        ]
    return urls


@never_cache
def dashboard_json(request):
    """`/backoffice/dashboard.json`: the index's figures that this staff member may see, the same
    as the page renders (selectors.dashboard), for static/js/backoffice-dashboard.js to refresh
    them. Refused as JSON: 401 without a login, 403 for a user the back office does not admit."""
    if not request.user.is_authenticated:
        return JsonResponse(error_body("NOT_AUTHENTICATED", "Log in to the back office."), status=401)
    if not admin.site.has_permission(request):
        return JsonResponse(error_body("PERMISSION_DENIED", "Staff only."), status=403)
    return JsonResponse(selectors.dashboard(request.user).as_json())
