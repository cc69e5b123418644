"""One error vocabulary for every API: `{"error": {"code": CODE, "message": text}}`.

Services raise `PamError` subclasses with a stable upper-case `code`; this module maps them, and
DRF's own exceptions, to a response in one place. Clients and tests compare codes, never messages.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = structlog.get_logger(__name__)


class PamError(Exception):
    """A refusal the client can act on. `code` is part of the API; `message` is for people.

    `details` go inside the error object (e.g. which fields were invalid); `extra` goes beside it
    at the top level (the wallet contract puts the player's balance and currency there).
    """

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request was refused."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.extra = extra or {}
        super().__init__(self.message)


class InvalidRequest(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "The request is not valid."


def error_body(code: str, message: str, details: dict | None = None, extra: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, **(details or {})}, **(extra or {})}


# DRF's exception classes -> our stable codes. Anything not listed keeps its status and gets a
# code derived from DRF's own `default_code`.
_DRF_CODES: dict[type[drf_exceptions.APIException], str] = {
    drf_exceptions.ValidationError: "INVALID_REQUEST",
    drf_exceptions.ParseError: "INVALID_REQUEST",
    drf_exceptions.NotAuthenticated: "NOT_AUTHENTICATED",
    drf_exceptions.AuthenticationFailed: "NOT_AUTHENTICATED",
    drf_exceptions.PermissionDenied: "PERMISSION_DENIED",
    drf_exceptions.NotFound: "NOT_FOUND",
    drf_exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    drf_exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    drf_exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    drf_exceptions.Throttled: "TOO_MANY_REQUESTS",
}


def _drf_response(exc: drf_exceptions.APIException) -> Response:
    code = next(
        (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)),
        str(exc.default_code).upper(),
    )
    details: dict[str, Any] = {}
    if isinstance(exc, drf_exceptions.ValidationError):
        message = "Some fields are missing or invalid."
        details["fields"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    else:
        message = str(exc.detail)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every API error, expected or not, in the one shape."""
    if isinstance(exc, PamError):
        return Response(error_body(exc.code, exc.message, exc.details, exc.extra), status=exc.status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.APIException):
        if isinstance(exc, drf_exceptions.AuthenticationFailed | drf_exceptions.NotAuthenticated):
            # DRF answers 403 when no authenticator offers a challenge header; ours always does.
            exc.status_code = 401
        return _drf_response(exc)
    # A bug, not a refusal: log it with its traceback and answer in the API's shape, so a client
    # never has to parse an HTML error page.
    logger.exception("api.unhandled_exception", view=type(context.get("view")).__name__)
    return Response(error_body("INTERNAL_ERROR", "Internal error; it has been logged."), status=500)
