"""The device a player logs in from: a long-lived random first-party cookie (`pam_device`) that
the site sets on any page when the browser has none, or, for API clients, the `X-Device-Id`
header they send. The id is random (256 bits), so it need not be signed: it cannot be guessed,
only copied. It is stored only as its keyed hash (`PlayerLogin.device_hash`)."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.http import HttpRequest

from apps.common.identity import identity_hash
from apps.common.middleware import AroundMiddleware

COOKIE = "pam_device"
HEADER = "X-Device-Id"
HASH_PURPOSE = "device"
# Ours are 43 characters; an API client's own id may be any opaque token of this shape.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{16,128}$")
# The player site's pages get the cookie; the integrator APIs (signed, cookie-less) and the
# player API (whose clients send the header) do not.
_NO_COOKIE_PREFIXES = ("/api/",)


def device_id(request: HttpRequest) -> str:
    """The request's device id: the API's header if valid, else the cookie (or the one this
    response is setting); "" when there is none."""
    for candidate in (request.headers.get(HEADER, ""), request.COOKIES.get(COOKIE, ""),
                      getattr(request, "new_device_id", "")):  # fmt: skip
        if _VALID.match(candidate):
            return candidate
    return ""


def device_hash(request: HttpRequest) -> str:
    device = device_id(request)
    return identity_hash(HASH_PURPOSE, device) if device else ""


class DeviceCookieMiddleware(AroundMiddleware):
    """Gives a browser without a valid `pam_device` cookie a new one, on the site's pages. The new
    id is on the request (`new_device_id`) before the view runs, so a first visit that logs in at
    once is recorded with it."""

    def before(self, request) -> str:
        return _issue(request)

    def after(self, request, response, issued: str):
        return _set_cookie(response, issued)


def _issue(request) -> str:
    if request.path_info.startswith(_NO_COOKIE_PREFIXES) or _VALID.match(request.COOKIES.get(COOKIE, "")):
        return ""
    request.new_device_id = secrets.token_urlsafe(32)
    return request.new_device_id


def _set_cookie(response, issued: str):
    if issued:
        response.set_cookie(
            COOKIE, issued, max_age=settings.DEVICE_COOKIE_DAYS * 86_400, secure=settings.SECURE_COOKIES,
            httponly=True, samesite="Lax",
        )  # fmt: skip
    return response
