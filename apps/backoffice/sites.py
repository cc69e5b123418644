"""The back office's admin site: Django's admin, with PAM's titles, the staff login form and the
back office's own pages (the live feed, the reports) under `/backoffice/`.

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
        # The login throttle's refusal says when to try again (apps/accounts/throttling.py).
        from apps.accounts.forms import StaffLoginForm

        return StaffLoginForm

    def get_urls(self):
        from apps.backoffice import views

        return [
            path("live/", self.admin_view(views.live_feed), name="live_feed"),
            path("reports/", self.admin_view(views.reports_index), name="reports"),
            path("reports/<slug:kind>/", self.admin_view(views.report_page), name="report"),
            path("reports/<slug:kind>/run", self.admin_view(views.report_run), name="report_run"),
            path("reports/<slug:kind>.csv", self.admin_view(views.report_csv), name="report_csv"),
            *super().get_urls(),
        ]
