"""A JSON answer written by hand, for the plain Django views that serve the hot calls (the seamless
wallet API, the sportsbook bet) without DRF's response rendering."""

from __future__ import annotations

import json

from django.http import HttpResponse


def json_response(body: dict, status: int = 200) -> HttpResponse:
    """`body` as DRF's JSONRenderer writes it (compact, UTF-8, the two JavaScript line separators
    escaped), so that these views answer byte for byte as the DRF views beside them."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(text.encode(), status=status, content_type="application/json")
