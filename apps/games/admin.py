"""The back office's games: providers and the catalogue (a game's declared RTP and sigma are
edited here, blank for a game that is not monitored), and the read-only live RTP report
(`selectors.live_rtp`, docs/rtp.md) with its CSV, for the compliance, finance and admin roles
(`games.view_live_rtp`)."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from apps.common import rtp
from apps.common.admin import AuditedAdmin, staff_page
from apps.games import selectors
from apps.games.models import Game, Provider

# The report's windows, in days (the drift rule's default is 30).
WINDOWS = (1, 7, 30)
DEFAULT_WINDOW = 30
LIVE_RTP_PERMISSION = "games.view_live_rtp"


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ("code", "name", "enabled", "launch_url", "created_at")
    list_filter = ("enabled",)
    search_fields = ("code", "name")
    # The secret keys every signature; it is set, never shown back.
    exclude = ("secret",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # ledger rows name providers forever; disable one instead


@admin.register(Game)
class GameAdmin(AuditedAdmin):
    list_display = ("code", "name", "provider", "game_type", "declared_rtp", "return_sigma", "enabled")
    list_filter = ("provider", "game_type", "enabled")
    search_fields = ("code", "name")

    def get_urls(self):
        report = self.admin_site.admin_view(self.live_rtp_view)
        report_csv = self.admin_site.admin_view(self.live_rtp_csv_view)
        return [
            path("live-rtp/", report, name="games_game_live_rtp"),
            path("live-rtp.csv", report_csv, name="games_game_live_rtp_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"may_view_live_rtp": request.user.has_perm(LIVE_RTP_PERMISSION), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @staff_page(LIVE_RTP_PERMISSION)
    def live_rtp_view(self, request):
        """The live RTP report, read-only: out-of-band rows highlighted."""
        days = _allowed(request)
        rows = selectors.live_rtp(since=timezone.now() - dt.timedelta(days=days))
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Live RTP",
            "rows": rows, "days": days, "windows": WINDOWS, "sigmas": rtp.DEFAULT_SIGMAS,
            "outside": sum(1 for row in rows if row.outside),
        }  # fmt: skip
        return TemplateResponse(request, "admin/games/live_rtp.html", context)

    @staff_page(LIVE_RTP_PERMISSION)
    def live_rtp_csv_view(self, request):
        """The same report as CSV (amounts in minor units)."""
        days = _allowed(request)
        rows = selectors.live_rtp(since=timezone.now() - dt.timedelta(days=days))
        writer = csv.writer(_Echo())
        lines = (writer.writerow(row) for row in [rtp.CSV_HEADER, *(row.as_row() for row in rows)])
        response = StreamingHttpResponse(lines, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="live-rtp-{days}d.csv"'
        return response


def _allowed(request) -> int:
    """The window asked for, in days, once the user may see the report (PermissionDenied if not)."""
    if not request.user.has_perm(LIVE_RTP_PERMISSION):
        raise PermissionDenied
    asked = request.GET.get("days", "")
    return int(asked) if asked in {str(days) for days in WINDOWS} else DEFAULT_WINDOW


class _Echo:
    """A file-like object whose write returns what it is given: csv.writer then yields each row's text."""

    def write(self, value: str) -> str:
        return value
