"""a2wsgi's bridge from the server's event loop to Django's WSGI handler on a thread pool, with
one hop each way for an ordinary request.

a2wsgi hands every step back to the loop and waits for it: reading the body, the response's
start, each chunk of its body, and its end are each a coroutine sent to the loop from the
request's thread, which sleeps until the loop has run it. Four waits for a POST with a JSON
answer, each a wake-up of the loop and of the thread and a hand-over of the interpreter's lock
between them (measured with py-spy on served workers under the wallet benchmark: the loop's side
of these hand-overs took a tenth of a worker's time). Here:

- a body of known length up to `READ_AHEAD_BYTES` is read on the loop before the thread starts
  (the request is on the socket already, or on its way), so the thread never waits for it; a
  larger body is read from the thread as a2wsgi reads it;
- a chunked body (`Transfer-Encoding`, no `Content-Length`) is read on the loop too, up to one
  byte past Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`, and handed over with the length read as its
  `CONTENT_LENGTH`: Django's WSGI request reads `CONTENT_LENGTH` bytes and no more, so without it
  the view would see an empty body (a signed call's signature would never match). One longer than
  the limit reaches the view cut at the limit and one byte, declared so: every view that reads
  it refuses it as too large (Django's own check, or a signed endpoint's smaller bound), never
  a part of it as the whole;
- a response whose body is in memory (Django's `HttpResponse`, not a streaming one) is handed
  back whole with the thread's result, and the loop sends it; a streaming response is sent
  chunk by chunk from the thread, as a2wsgi sends it.
"""

from __future__ import annotations

import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

from a2wsgi.wsgi import Body, WSGIMiddleware, WSGIResponder, build_environ
from django.conf import settings
from django.http import HttpResponse

# Enough for any API call or form post; larger uploads are read from the thread.
READ_AHEAD_BYTES = 64 * 1024
# Django's default, where the setting is None (no limit): a chunked body is held in memory whole.
CHUNKED_BODY_FALLBACK_BYTES = 2_621_440


class _ReadBody(Body):
    """A request body read whole before the thread started."""

    def __init__(self, data: bytes) -> None:
        super().__init__(loop=None, receive=None)
        self.buffer.extend(data)
        self._has_more = False


def _chunked_body_limit() -> int:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return CHUNKED_BODY_FALLBACK_BYTES if limit is None else limit


async def _receive_body(receive, most: int) -> bytes:
    """The body's messages until its end, or until more than `most` bytes came."""
    chunks, size, more = [], 0, True
    while more and size <= most:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: the view reads what came
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _read_ahead(scope, receive, loop) -> tuple[Body, int | None]:
    """The request's body for the thread, and the length to declare for a chunked one (None:
    the request's own `Content-Length`, or none)."""
    headers = dict(scope.get("headers", ()))
    length = headers.get(b"content-length")
    if length is None and b"transfer-encoding" in headers:
        limit = _chunked_body_limit()
        body = (await _receive_body(receive, limit))[: limit + 1]
        return _ReadBody(body), len(body)
    try:
        size = int(length) if length is not None else None
    except ValueError:
        size = None
    if size is None or not 0 <= size <= READ_AHEAD_BYTES:
        return Body(loop, receive), None
    return _ReadBody(await _receive_body(receive, size) if size > 0 else b""), None


class OneHopResponder(WSGIResponder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._start: dict | None = None

    async def __call__(self, scope, receive, send) -> None:
        # a2wsgi's WSGIResponder.__call__ (1.10), with the body read ahead and the whole answer
        # sent from here when the thread returns it.
        body, chunked_length = await _read_ahead(scope, receive, self.loop)
        environ = build_environ(scope, body)
        if chunked_length is not None:
            environ["CONTENT_LENGTH"] = str(chunked_length)
        sender = None
        try:
            sender = self.loop.create_task(self.sender(send))
            context = contextvars.copy_context()
            func = functools.partial(context.run, self.wsgi)
            answer = await self.loop.run_in_executor(self.executor, func, environ, self.start_response)
            for message in answer or ():
                await self.send_queue.put(message)
            await self.send_queue.put(None)
            await sender
            if self.exc_info is not None:
                raise self.exc_info[0].with_traceback(self.exc_info[1], self.exc_info[2])
        finally:
            if sender and not sender.done():
                sender.cancel()

    def start_response(self, status, response_headers, exc_info=None):
        """Keeps the start for the answer; sends it only when the body turns out to stream."""
        self.exc_info = exc_info
        if not self.response_started:
            self.response_started = True
            self._start = {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [
                    (name.strip().encode("latin1").lower(), value.strip().encode("latin1"))
                    for name, value in response_headers
                ],
            }
        return self._write

    def _write(self, chunk: bytes) -> None:
        self._send_start()
        self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    def _send_start(self) -> None:
        if self._start is not None:
            start, self._start = self._start, None
            self.send(start)

    def wsgi(self, environ, start_response) -> list[dict] | None:
        """Runs on the thread: the whole answer as messages for the loop to send, or None when it
        was sent from here (a streaming body)."""
        iterable = self.app(environ, start_response)
        try:
            if isinstance(iterable, HttpResponse) and self._start is not None:
                start, self._start = self._start, None
                return [start, {"type": "http.response.body", "body": b"".join(iterable)}]
            for chunk in iterable:
                self._write(chunk)
            self._send_start()  # an empty streaming body
            self.send({"type": "http.response.body", "body": b""})
            return None
        finally:
            getattr(iterable, "close", lambda: None)()


class OneHopWSGIMiddleware(WSGIMiddleware):
    """a2wsgi's `WSGIMiddleware` with `OneHopResponder` for HTTP requests, on a pool of `workers`
    threads named after `name` (in thread dumps and py-spy)."""

    def __init__(self, app, workers: int = 10, send_queue_size: int = 10, *, name: str = "WSGI") -> None:
        super().__init__(app, workers=workers, send_queue_size=send_queue_size)
        self.executor.shutdown(wait=False)
        self.executor = ThreadPoolExecutor(thread_name_prefix=name, max_workers=workers)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            return await OneHopResponder(self.app, self.executor, self.send_queue_size)(scope, receive, send)
        return await super().__call__(scope, receive, send)
