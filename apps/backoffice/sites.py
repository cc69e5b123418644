"""The back office's admin site: Django's admin, with PAM's titles, the staff login form, the
dashboard as its index and the back office's own pages (the live feed) under `/backoffice/`.

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

    def index(self, request, extra_context=None):
        """The stock index (the app list) under the dashboard's figures that the user may see."""
        from apps.backoffice import selectors

        extra_context = {**(extra_context or {}), "dashboard": selectors.dashboard(request.user)}
        return super().index(request, extra_context)

    def get_urls(self):
        from apps.backoffice import views

        return [
            path("live/", self.admin_view(views.live_feed), name="live_feed"),
            # Not behind admin_view: a script's fetch gets a JSON refusal, not the login page.
            path("dashboard.json", views.dashboard_json, name="dashboard_json"),
            *super().get_urls(),
        ]
