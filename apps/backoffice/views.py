"""Back-office pages beyond the model admin: the live feed of every player's money movements."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse

from apps.common.admin import staff_page
from apps.common.money import ISO_4217

# For display only: the page formats minor units with each currency's exponent.
_EXPONENTS = {code: exponent for code, (_, exponent) in ISO_4217.items()}


@staff_page("wallet.view_transaction")
def live_feed(request):
    """`/backoffice/live/`: every committed wallet movement as it happens, through `/ws/backoffice/`
    (apps.realtime.consumers.BackofficeFeedConsumer). The page only renders; the frames come over
    the socket, which checks the same permission."""
    context = {
        **admin.site.each_context(request),
        "title": "Live feed",
        "exponents": _EXPONENTS,
    }
    return TemplateResponse(request, "backoffice/live_feed.html", context)
