"""Back-office pages beyond the model admin: the live feed of every player's money movements, and
the dashboard's figures as JSON for the index's script."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from apps.backoffice import selectors
from apps.common.errors import error_body
from apps.common.money import ISO_4217

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
