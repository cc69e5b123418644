"""The webhook endpoint's transport checks, in the contract's order: the body's size, then the
provider's HMAC signature and the timestamp's window, and only then may the body be parsed."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Mapping

from django.http import HttpRequest

from apps.common.bodies import read_bounded_body
from apps.payments import errors

MAX_BODY_BYTES = 64 * 1024
TIMESTAMP_WINDOW_SECONDS = 300
# An integer: an optional minus sign, then ASCII digits (never two signs, a plus or a space).
_INTEGER = re.compile(r"-?[0-9]+")
# More digits than any time near PAM's clock has: refused as off the window before `int()`
# (which refuses strings of thousands of digits with an error).
_MAX_STAMP_DIGITS = 12


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256, keyed with the webhook secret, of `timestamp.body`."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers a PSP sends with `body` (the sandbox's delivery worker, tests)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature_of(secret, stamp, body)}


def read_body(request: HttpRequest) -> bytes:
    """The raw body; BodyTooLarge (413) without reading one whose declared length is over the
    limit, and for one whose actual length is."""
    return read_bounded_body(request, MAX_BODY_BYTES, errors.BodyTooLarge)


def check_signature(headers: Mapping[str, str], secret: str, body: bytes, now: float | None = None) -> None:
    """Raise InvalidSignature (with the reason as its message) unless the timestamp is an integer
    within TIMESTAMP_WINDOW_SECONDS of `now` and the signature is the HMAC of it and the body. A
    repeated header arrives joined with a comma, so it never matches.

    The window is in whole seconds, the stamp's unit: `now`'s second against the stamp, so that a
    stamp made 300 s back within the same second is as good as one 300 s ahead (compared with the
    fraction, the past edge was refused and the future one taken)."""
    stamp = headers.get("X-Webhook-Timestamp", "")
    provided = headers.get("X-Webhook-Signature", "")
    if not provided:
        raise errors.InvalidSignature("The signature is missing.")
    if not _INTEGER.fullmatch(stamp):
        raise errors.InvalidSignature("The timestamp is missing or not an integer.")
    # Compared as bytes: compare_digest raises on a str with a non-ASCII character (a forger's header).
    if not hmac.compare_digest(signature_of(secret, stamp, body).encode(), provided.encode()):
        raise errors.InvalidSignature("The signature is wrong.")
    second = math.floor(time.time() if now is None else now)
    if len(stamp.lstrip("-").lstrip("0")) > _MAX_STAMP_DIGITS or abs(second - int(stamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise errors.InvalidSignature(f"The timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s from PAM's clock.")
