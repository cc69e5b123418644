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
  larger body, or one of unknown length, is read from the thread as a2wsgi reads it;
- a response whose body is in memory (Django's `HttpResponse`, not a streaming one) is handed
  back whole with the thread's result, and the loop sends it; a streaming response is sent
  chunk by chunk from the thread, as a2wsgi sends it.
"""

from __future__ import annotations

import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

from a2wsgi.wsgi import Body, WSGIMiddleware, WSGIResponder, build_environ
from django.http import HttpResponse

# Enough for any API call or form post; larger uploads are read from the thread.
READ_AHEAD_BYTES = 64 * 1024


class _ReadBody(Body):
    """A request body read whole before the thread started."""

    def __init__(self, data: bytes) -> None:
        super().__init__(loop=None, receive=None)
        self.buffer.extend(data)
        self._has_more = False


async def _read_ahead(scope, receive, loop) -> Body:
    length = next((value for name, value in scope.get("headers", ()) if name == b"content-length"), None)
    try:
        size = int(length) if length is not None else None
    except ValueError:
        size = None
    if size is None or not 0 <= size <= READ_AHEAD_BYTES:
        return Body(loop, receive)
    chunks = []
    more = size > 0
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: the view reads what came
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return _ReadBody(b"".join(chunks))


class OneHopResponder(WSGIResponder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._start: dict | None = None

    async def __call__(self, scope, receive, send) -> None:
        # a2wsgi's WSGIResponder.__call__ (1.10), with the body read ahead and the whole answer
        # sent from here when the thread returns it.
        environ = build_environ(scope, await _read_ahead(scope, receive, self.loop))
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
