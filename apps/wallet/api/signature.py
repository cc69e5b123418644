"""The wallet API's transport checks, in the contract's order: body size, then the provider's
HMAC signature, and only then may the body be parsed."""

from __future__ import annotations

import hashlib
import hmac

from django.http import HttpRequest

from apps.common.bodies import read_bounded_body
from apps.common.errors import PamError
from apps.games import selectors as games
from apps.games.errors import InvalidSignature
from apps.games.models import Provider

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(PamError):
    code = "INVALID_REQUEST"
    status = 413
    default_message = "The body is over 64 KiB."


def signature_of(secret: str, operation: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256, keyed with the provider's secret, of `operation\\nbody`."""
    return hmac.new(secret.encode(), operation.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def read_signed_body(request: HttpRequest, operation: str) -> tuple[Provider, bytes]:
    """The calling provider and the raw body, once both checks pass.

    Raises BodyTooLarge (413) without reading a body whose declared length is over the limit,
    and InvalidSignature (401) for a missing, repeated or wrong signature or an unknown or
    disabled provider. A repeated header arrives joined with a comma, so it never matches.
    """
    body = read_bounded_body(request, MAX_BODY_BYTES, BodyTooLarge)
    provided = request.headers.get("X-Signature", "")
    provider = games.get_enabled_provider(request.headers.get("X-Provider", ""))
    if provider is None or not provided:
        raise InvalidSignature
    if not hmac.compare_digest(signature_of(provider.secret, operation, body), provided):
        raise InvalidSignature
    return provider, body
