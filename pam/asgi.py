"""ASGI entry point: HTTP to Django's WSGI handler on thread pools; WebSockets to Channels.

Django's HTTP stack is synchronous (the ORM, the money services, most middleware). Run through
Django's ASGI handler, each request crosses between the event loop and threads once per
middleware hook (measured: 32 crossings and about 3 ms for /healthz); run through its WSGI
handler on a2wsgi's thread pool, it crosses once, and back once (pam/wsgi_bridge.py). WebSockets
stay on the event loop (Channels).

The studio's pages and API (/studio/) go through Django's ASGI handler instead: their views are
async and wait on the wallet API over HTTP, often this very server; on the thread pool each round
would hold a thread while its wallet calls wait for one, and a handful of rounds at once would
starve the wallet they wait on.
"""

import asyncio
import os

from django.core.handlers.asgi import ASGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")

# Django must be set up before anything imports models.
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402

from apps.common import sweeps  # noqa: E402
from apps.common.startup import freeze_startup_objects  # noqa: E402
from apps.realtime import push  # noqa: E402
from apps.realtime.middleware import BrowserOriginValidator, TicketAuthMiddleware  # noqa: E402
from apps.realtime.routing import odds_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from apps.studio.routing import websocket_urlpatterns as studio_websocket_urlpatterns  # noqa: E402
from pam.wsgi_bridge import OneHopWSGIMiddleware  # noqa: E402

# Static files (admin, API docs) are served by the app itself under /static/, so one process is
# enough to run PAM; a deployment with heavy traffic puts a CDN or reverse proxy in front.
wsgi_app = StaticFilesHandler(django_wsgi_app)
# The APIs that integrators and players' clients call, and the health checks, on threads of their
# own (`HTTP_THREADS`); pages, the back office (its API included), the API docs and metrics on
# others (`PAGE_THREADS`): a slow export or schema build never holds a bet or a probe.
API_PREFIXES = ("/api/wallet/", "/api/player/", "/api/feed/", "/api/payments/", "/healthz", "/readyz")
api_http_application = OneHopWSGIMiddleware(wsgi_app, workers=settings.HTTP_THREADS, name="api")
page_http_application = OneHopWSGIMiddleware(wsgi_app, workers=settings.PAGE_THREADS, name="page")
studio_http_application = ASGIHandler()
STUDIO_PREFIX = "/studio/"


def http_application_for(path: str):
    """The application that serves an HTTP request for `path`."""
    if path.startswith(STUDIO_PREFIX):
        return studio_http_application
    if path.startswith(API_PREFIXES):
        return api_http_application
    return page_http_application


async def http_application(scope, receive, send):
    return await http_application_for(scope["path"])(scope, receive, send)


# Browsers send an Origin, which must be one of ALLOWED_HOSTS; scripts with a ticket send none.
# The studio's sockets (the crash room) authenticate by their play session's key instead, behind
# the same origin check but not Django's session and user look-up: a late joiner of the room would
# wait for it in the one thread for sync code, and the room never reads the user.
player_sockets = AuthMiddlewareStack(TicketAuthMiddleware(URLRouter(websocket_urlpatterns)))
# The odds socket (prices are public) skips both too: no session or ticket to look up.
studio_sockets = URLRouter(studio_websocket_urlpatterns)
STUDIO_SOCKET_PREFIX = "/ws/studio/"
odds_sockets = URLRouter(odds_websocket_urlpatterns)
ODDS_SOCKET_PREFIX = "/ws/odds/"


# Every socket path a router above serves: any other is refused at the handshake (HTTP 403, as a
# refused connection is), where the routers would raise (an HTTP 500 in the server's log).
SOCKET_PATHS = frozenset(
    "/" + str(route.pattern)
    for route in (*websocket_urlpatterns, *studio_websocket_urlpatterns, *odds_websocket_urlpatterns)
)


async def _no_such_socket(scope, receive, send):
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 4404})


async def socket_application(scope, receive, send):
    if scope["path"] not in SOCKET_PATHS:
        return await _no_such_socket(scope, receive, send)
    if scope["path"].startswith(STUDIO_SOCKET_PREFIX):
        return await studio_sockets(scope, receive, send)
    if scope["path"].startswith(ODDS_SOCKET_PREFIX):
        return await odds_sockets(scope, receive, send)
    return await player_sockets(scope, receive, send)


websocket_application = BrowserOriginValidator(socket_application)

router = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application})

# Last: every module the server runs with is loaded; no full garbage collection walks them again.
freeze_startup_objects()


async def application(scope, receive, send):
    """The router, after telling apps.realtime.push which loop this server runs on (and, in
    embedded mode, starting the ticks: the staleness watchdog and the sweeper's pass, which no
    sweeper process runs there)."""
    push.serve_from(asyncio.get_running_loop())
    if settings.RUN_TICKS_IN_SERVER:
        sweeps.run_in_server()
    return await router(scope, receive, send)
