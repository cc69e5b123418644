"""The back office's admin site: Django's admin, with PAM's titles, the staff login form, the
dashboard as its index and the back office's own pages (the live feed, the player 360, a player's
standing and KYC, the reports) under `/backoffice/`.

It replaces Django's default site (`BackOfficeAdminConfig.default_site`), so every app's
`admin.site.register` lands here without knowing about it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path


class BackOfficeSite(admin.AdminSite):
    site_header = "PAM back office"
    site_title = "PAM back office"
    index_title = "Operations"

    @property
    def login_form(self):
        # The login throttle's refusal says when to try again (apps/accounts/throttling.py); the
        # one-time code is asked for with the password (docs/backoffice.md).
        from apps.accounts.forms import StaffLoginForm

        return StaffLoginForm

    def has_permission(self, request) -> bool:
        """Staff, and, when two-factor sign-in is required (STAFF_2FA_REQUIRED), only a session
        that signed in with a one-time code: every page of the site (`admin_view`) and its login
        page's redirect ask this."""
        from apps.accounts import selectors

        return super().has_permission(request) and selectors.request_passes_two_factor(request)

    def index(self, request, extra_context=None):
        """The stock index (the app list) under the dashboard's figures that the user may see."""
        from apps.backoffice import selectors

        extra_context = {**(extra_context or {}), "dashboard": selectors.dashboard(request.user)}
        return super().index(request, extra_context)

    def get_urls(self):
        from apps.backoffice import player360, views

        return [
            path("live/", self.admin_view(views.live_feed), name="live_feed"),
            path("players/<int:player_id>/", self.admin_view(player360.player_360), name="player_360"),
            path("players/<int:player_id>/standing/", self.admin_view(views.player_standing), name="player_standing"),
            path("players/<int:player_id>/kyc/", self.admin_view(views.player_kyc), name="player_kyc"),
            path(
                "players/<int:player_id>/kyc/documents/<int:document_id>/",
                self.admin_view(views.kyc_document),
                name="player_kyc_document",
            ),
            path("reports/", self.admin_view(views.reports_index), name="reports"),
            *views.report_urls(self.admin_view),
            # Not behind admin_view: a script's fetch gets a JSON refusal, not the login page.
            path("dashboard.json", views.dashboard_json, name="dashboard_json"),
            *super().get_urls(),
        ]
