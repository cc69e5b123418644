"""The server's two thread pools for HTTP (pam/asgi.py): the APIs and the health checks on one,
everything else served on threads on the other, so that a slow page never holds a bet."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.conf import settings
from django.http import HttpResponse

from pam import asgi
from pam.wsgi_bridge import OneHopWSGIMiddleware
from tests.support import http_scope


@pytest.mark.parametrize(
    "path",
    ["/api/wallet/v1/bet", "/api/player/v1/sportsbook/bets", "/api/feed/v1/messages", "/api/payments/v1/webhook",
     "/healthz", "/readyz"],
)  # fmt: skip
def test_the_apis_and_the_health_checks_run_on_the_api_pool(path):
    assert asgi.http_application_for(path) is asgi.api_http_application


@pytest.mark.parametrize(
    "path",
    ["/", "/history/", "/backoffice/", "/backoffice/wallet/transaction/", "/api/backoffice/v1/players",
     "/api/docs/", "/api/schema/", "/metrics", "/static/admin/css/base.css", "/sandbox-psp/pay/1", "/api/other"],
)  # fmt: skip
def test_pages_the_back_office_and_the_docs_run_on_the_page_pool(path):
    assert asgi.http_application_for(path) is asgi.page_http_application


def test_the_studio_runs_on_the_event_loop():
    assert asgi.http_application_for("/studio/play/pam-slot/") is asgi.studio_http_application


def test_each_pool_has_the_configured_threads_under_its_own_name():
    assert asgi.api_http_application.executor._max_workers == settings.HTTP_THREADS
    assert asgi.page_http_application.executor._max_workers == settings.PAGE_THREADS
    names = {}
    for pool in (asgi.api_http_application, asgi.page_http_application):
        names[pool] = pool.executor.submit(lambda: threading.current_thread().name).result(timeout=10)
    assert names[asgi.api_http_application].startswith("api")
    assert names[asgi.page_http_application].startswith("page")


def test_a_page_holding_every_page_thread_does_not_hold_a_bet_or_a_probe(monkeypatch):
    release = threading.Event()
    started = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"].startswith("/backoffice/"):
            started.set()
            release.wait(timeout=30)  # an export that takes its time
        response = HttpResponse(environ["PATH_INFO"].encode())
        start_response("200 OK", list(response.items()))
        return response

    monkeypatch.setattr(asgi, "api_http_application", OneHopWSGIMiddleware(app, workers=1, name="api"))
    monkeypatch.setattr(asgi, "page_http_application", OneHopWSGIMiddleware(app, workers=1, name="page"))

    async def request(path: str) -> bytes:
        sent = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        await asgi.http_application(http_scope(path), receive, send)
        return b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")

    async def run() -> tuple[list[bytes], bool]:
        page = asyncio.ensure_future(request("/backoffice/export"))
        await asyncio.to_thread(started.wait, 10)
        # The page's only thread is busy: the API's answers come all the same.
        answers = [await asyncio.wait_for(request(path), 10) for path in ("/healthz", "/api/wallet/v1/bet")]
        page_done_meanwhile = page.done()
        release.set()
        await asyncio.wait_for(page, 10)
        return answers, page_done_meanwhile

    answers, page_done_meanwhile = asyncio.run(run())

    assert answers == [b"/healthz", b"/api/wallet/v1/bet"]
    assert not page_done_meanwhile
