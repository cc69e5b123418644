"""The raw body of a signed request (a provider's wallet call, a PSP's webhook, an odds feed's
batch), read only when it is within its limit: a signature is checked over the raw bytes before
anything is parsed, and a body over the limit is refused without reading it."""

from __future__ import annotations

from django.http import HttpRequest

from apps.common.errors import PamError


def read_bounded_body(request: HttpRequest, max_bytes: int, too_large: type[PamError]) -> bytes:
    """The raw body; raises `too_large` without reading one whose declared length is over
    `max_bytes` (or not a number), and for one whose actual length is."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > max_bytes:
        raise too_large
    body = request.body
    if len(body) > max_bytes:
        raise too_large
    return body
