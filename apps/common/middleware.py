"""Request id: every log line of a request carries the same `request_id`, returned to the client."""

import re
import time
import uuid

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from apps.common import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# An id sent by a trusted proxy is kept if it looks like one; anything else is replaced, so a
# client cannot inject arbitrary text into the logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _request_id(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex


class AroundMiddleware:
    """A middleware that does something to the request before the view and to its response after,
    sync and async without a thread hop under ASGI (Django's `MiddlewareMixin` runs its hooks
    through `sync_to_async` there). A subclass defines `before(request)`, whose result is handed
    to `after(request, response, state)`, which returns the response."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def before(self, request):
        return None

    def after(self, request, response, state):
        return response

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        state = self.before(request)
        return self.after(request, self.get_response(request), state)

    async def __acall__(self, request):
        state = self.before(request)
        return self.after(request, await self.get_response(request), state)


class RequestIdMiddleware(AroundMiddleware):
    """Binds `request_id` into structlog's context for the request and returns it to the client."""

    def before(self, request) -> str:
        request_id = _request_id(request)
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return request_id

    def after(self, request, response, request_id: str):
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestMetricsMiddleware(AroundMiddleware):
    """Times and counts every request by its URL pattern's name, method and status class
    (apps.common.metrics): the pattern, not the path, so that ids in paths add no series. First in
    the chain, so the time and the status are the whole stack's; Django has turned an exception
    into its 500 response by then."""

    def before(self, request) -> float:
        return time.perf_counter()

    def after(self, request, response, started: float):
        match = request.resolver_match  # None: no pattern matched (a 404), or a redirect before one
        metrics.observe_request(
            route=match.view_name if match is not None else None, method=request.method,
            status=response.status_code, seconds=time.perf_counter() - started,
        )  # fmt: skip
        return response


# --- browser-only middleware, skipped where no browser state can be ------------------------------

# Calls here are authenticated by their signature alone (contracts/wallet-api.md): they carry no
# cookies, and sessions, CSRF, `request.user` and messages mean nothing to them. Running that
# middleware anyway cost a provider's bet about a third of a trivial request's CPU (measured with
# bench/profile_bet.py), on the hottest path of the product.
SIGNED_API_PREFIXES = ("/api/wallet/",)
# The player API: a call that authenticates by its bearer token and sends no cookie has no
# session, so no CSRF to check and no messages (a browser's call, with its cookies, is served
# with them). Its views read the player from DRF's authentication, never from the session.
PLAYER_API_PREFIX = "/api/player/"


def without_browser_state(request) -> bool:
    """Whether the browser-only middleware passes `request` straight through: a call to a signed
    API, or a player API call with a bearer token and no cookie."""
    path = request.path_info
    if path.startswith(SIGNED_API_PREFIXES):
        return True
    meta = request.META
    return (
        path.startswith(PLAYER_API_PREFIX)
        and not meta.get("HTTP_COOKIE")
        and meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
    )


def _browser_only(middleware: type) -> type:
    """A subclass of `middleware` that passes requests without browser state straight through
    (`without_browser_state`).

    A subclass, so that Django's and the admin's system checks (which look for subclasses of
    SessionMiddleware, AuthenticationMiddleware, MessageMiddleware) still recognise it.
    """

    def __call__(self, request):
        if without_browser_state(request):
            return self.get_response(request)
        return middleware.__call__(self, request)

    async def __acall__(self, request):
        if without_browser_state(request):
            return await self.get_response(request)
        return await middleware.__acall__(self, request)

    scoped = type(middleware.__name__, (middleware,), {"__call__": __call__, "__acall__": __acall__})
    scoped.__module__ = __name__
    scoped.__qualname__ = middleware.__name__
    scoped.__doc__ = f"{middleware.__module__}.{middleware.__name__}, skipped on the signed APIs."
    return scoped


def _scoped_browser_middleware():
    from django.contrib.auth.middleware import AuthenticationMiddleware as _Auth
    from django.contrib.messages.middleware import MessageMiddleware as _Messages
    from django.contrib.sessions.middleware import SessionMiddleware as _Session
    from django.middleware.csrf import CsrfViewMiddleware as _Csrf

    return tuple(_browser_only(m) for m in (_Session, _Csrf, _Auth, _Messages))


SessionMiddleware, CsrfViewMiddleware, AuthenticationMiddleware, MessageMiddleware = _scoped_browser_middleware()
