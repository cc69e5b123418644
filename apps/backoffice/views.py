"""Back-office pages beyond the model admin: the live operations feed (the player 360 page is
player360.py)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from apps.accounts import selectors as accounts
from apps.common.money import ISO_4217
from apps.realtime import selectors as realtime

# For display only: the page formats minor units with each currency's exponent.
_EXPONENTS = {code: exponent for code, (_, exponent) in ISO_4217.items()}


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
        "brands": sorted(accounts.brand_codes().values()),
    }
    return TemplateResponse(request, "backoffice/live_feed.html", context)
