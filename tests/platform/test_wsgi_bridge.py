"""The bridge from the server's loop to Django's WSGI handler (pam/wsgi_bridge.py): what it sends
the server for each kind of answer, and how often the request's thread waits for the loop."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import pytest
from a2wsgi.wsgi import Body
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, StreamingHttpResponse

from pam import wsgi_bridge
from pam.wsgi_bridge import OneHopWSGIMiddleware
from tests.support import chunked_messages, http_scope


def _scope(method: str = "POST", headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return http_scope("/api/wallet/v1/bet", method, headers)


class Served(NamedTuple):
    sent: list[dict]  # the messages sent to the server
    waits: int  # how many times the request's thread waited for the loop
    receives: int  # how many messages the bridge asked the server for


def _serve(app, scope: dict, incoming: list[dict], monkeypatch) -> Served:
    """Runs one request through the bridge."""
    waits = receives = 0
    real = asyncio.run_coroutine_threadsafe

    def counted(coroutine, loop):
        nonlocal waits
        waits += 1
        return real(coroutine, loop)

    monkeypatch.setattr(asyncio, "run_coroutine_threadsafe", counted)
    sent: list[dict] = []

    async def run():
        queue = list(incoming)

        async def receive():
            nonlocal receives
            receives += 1
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await OneHopWSGIMiddleware(app, workers=2)(scope, receive, send)

    asyncio.run(run())
    return Served(sent, waits, receives)


def _echo(environ, start_response):
    """The body back, as Django answers: an HttpResponse."""
    response = HttpResponse(environ["wsgi.input"].read(), content_type="application/json")
    start_response(f"{response.status_code} OK", list(response.items()))
    return response


def test_a_post_and_its_answer_cross_to_the_thread_and_back_once(monkeypatch):
    body = b'{"amount": 100}'
    sent, waits, _ = _serve(
        _echo, _scope(headers=[(b"content-length", str(len(body)).encode())]),
        [{"type": "http.request", "body": body[:5], "more_body": True}, {"type": "http.request", "body": body[5:]}],
        monkeypatch,
    )  # fmt: skip

    assert waits == 0
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert (b"content-type", b"application/json") in sent[0]["headers"]
    assert sent[1]["body"] == body
    assert not sent[1].get("more_body", False)


def test_a_body_larger_than_the_read_ahead_is_read_from_the_thread(monkeypatch):
    chunk = b"x" * (wsgi_bridge.READ_AHEAD_BYTES // 2)
    incoming = [{"type": "http.request", "body": chunk, "more_body": True} for _ in range(3)]
    incoming[-1]["more_body"] = False
    size = str(len(chunk) * 3).encode()

    sent, waits, _ = _serve(_echo, _scope(headers=[(b"content-length", size)]), incoming, monkeypatch)

    assert waits == 3  # a2wsgi's read, one wait per message
    assert sent[1]["body"] == chunk * 3


def test_a_body_of_unknown_length_is_read_from_the_thread(monkeypatch):
    sent, waits, _ = _serve(_echo, _scope(), [{"type": "http.request", "body": b"abc"}], monkeypatch)

    assert waits == 1
    assert sent[1]["body"] == b"abc"


def _django_body(environ, start_response):
    """What a Django view reads as the body (its length declared in the answer), or 413 when
    Django refuses it as too large."""
    try:
        body = WSGIRequest(environ).body
    except RequestDataTooBig:
        response = HttpResponse(status=413)
    else:
        response = HttpResponse(body, headers={"X-Declared": environ.get("CONTENT_LENGTH", "")})
    start_response(f"{response.status_code} OK", list(response.items()))
    return response


def test_a_chunked_body_reaches_django_whole_read_on_the_loop(monkeypatch):
    body = b'{"messages": [{"seq": 1, "type": "heartbeat"}]}' * 100
    scope = _scope(headers=[(b"transfer-encoding", b"chunked")])

    sent, waits, _ = _serve(_django_body, scope, chunked_messages(body, 1000), monkeypatch)

    assert waits == 0
    assert sent[0]["status"] == 200
    assert (b"x-declared", str(len(body)).encode()) in sent[0]["headers"]
    assert sent[1]["body"] == body


def test_an_empty_chunked_body_is_empty(monkeypatch):
    scope = _scope(headers=[(b"transfer-encoding", b"chunked")])

    sent, _, _ = _serve(_django_body, scope, chunked_messages(b"", 10), monkeypatch)

    assert sent[1]["body"] == b""


def test_a_chunked_body_over_djangos_limit_is_refused_not_cut(monkeypatch, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    scope = _scope(headers=[(b"transfer-encoding", b"chunked")])
    incoming = chunked_messages(b"x" * 50_000, 1000)

    sent, _, receives = _serve(_django_body, scope, incoming, monkeypatch)

    assert sent[0]["status"] == 413
    assert receives == 6  # read up to the limit and a byte past it, no further


def test_a_chunked_body_just_within_djangos_limit_is_taken(monkeypatch, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    scope = _scope(headers=[(b"transfer-encoding", b"chunked")])

    sent, _, _ = _serve(_django_body, scope, chunked_messages(b"y" * 5000, 1000), monkeypatch)

    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"y" * 5000


def test_a_get_without_a_body_reads_nothing(monkeypatch):
    def app(environ, start_response):
        start_response("204 No Content", [])
        return HttpResponse(status=204)

    served = _serve(app, _scope("GET"), [], monkeypatch)

    assert (served.receives, served.waits) == (0, 0)
    assert served.sent[0]["status"] == 204


def test_a_streaming_answer_is_sent_chunk_by_chunk_from_the_thread(monkeypatch):
    def app(environ, start_response):
        response = StreamingHttpResponse(iter([b"a,b\n", b"1,2\n"]), content_type="text/csv")
        start_response("200 OK", list(response.items()))
        return response

    sent, waits, _ = _serve(app, _scope("GET"), [], monkeypatch)

    assert [(message["type"], message.get("body")) for message in sent] == [
        ("http.response.start", None),
        ("http.response.body", b"a,b\n"),
        ("http.response.body", b"1,2\n"),
        ("http.response.body", b""),
    ]
    assert waits == 4


def test_an_empty_streaming_answer_still_starts(monkeypatch):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter(())

    sent, _, _ = _serve(app, _scope("GET"), [], monkeypatch)

    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b""


def test_a_client_gone_before_its_body_came_leaves_the_view_what_arrived(monkeypatch):
    half = [{"type": "http.request", "body": b"12345", "more_body": True}]
    sent, _, _ = _serve(_echo, _scope(headers=[(b"content-length", b"10")]), half, monkeypatch)

    assert sent[1]["body"] == b"12345"


def test_an_error_in_the_app_reaches_the_server_and_nothing_is_sent(monkeypatch):
    def app(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _serve(app, _scope("GET"), [], monkeypatch)


def test_the_read_ahead_body_reads_as_a2wsgis_does():
    body = wsgi_bridge._ReadBody(b"line 1\nline 2\nrest")

    assert isinstance(body, Body)
    assert body.readline() == b"line 1\n"
    assert body.read(4) == b"line"
    assert body.read() == b" 2\nrest"
    assert body.read() == b""
