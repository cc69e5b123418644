"""The feed endpoint's transport checks, in the contract's order: the body's size, then the feed's
HMAC signature, and only then may the body be parsed."""

from __future__ import annotations

import hashlib
import hmac

from django.http import HttpRequest

from apps.common.bodies import read_bounded_body
from apps.sportsbook import selectors
from apps.sportsbook.errors import BodyTooLarge, InvalidSignature
from apps.sportsbook.models import Feed

MAX_BODY_BYTES = 256 * 1024


def signature_of(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256, keyed with the feed's secret, of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(feed: str, secret: str, body: bytes) -> dict[str, str]:
    """The two headers a feed sends with `body` (feed replays, tests)."""
    return {"X-Feed": feed, "X-Signature": signature_of(secret, body)}


def read_signed_body(request: HttpRequest) -> tuple[Feed, bytes]:
    """The sending feed and the raw body, once both checks pass.

    BodyTooLarge (413) without reading a body whose declared length is over the limit, and for
    one whose actual length is; InvalidSignature (401) for a missing or wrong signature or an
    unknown feed, compared in constant time. A repeated header arrives joined with a comma, so it
    never matches.
    """
    body = read_bounded_body(request, MAX_BODY_BYTES, BodyTooLarge)
    provided = request.headers.get("X-Signature", "")
    feed = selectors.get_feed(request.headers.get("X-Feed", ""))
    if feed is None or not provided:
        raise InvalidSignature
    # Compared as bytes: compare_digest raises on a str with a non-ASCII character (a forger's header).
    if not hmac.compare_digest(signature_of(feed.secret, body).encode(), provided.encode()):
        raise InvalidSignature
    return feed, body
