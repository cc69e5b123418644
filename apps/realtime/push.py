"""Sending frames through the channel layer from sync code, without ever failing the caller.

A push happens after the money has committed: if the backplane is down the failure is logged and
counted, and the client recovers through heartbeat and `resume` (the ledger has every frame).

Inside a server, pushes are handed to the server's own event loop (`serve_from`), where the
consumers and the channel layer's connections live, and sent there one after another in the
order they were handed over: the request thread does not wait for Redis, frames of one process
leave in commit order, and no event loop is created per push (measured: `async_to_sync` from a
request thread made a loop and a Redis connection per bet, costing more than half the bet).
Outside a server (management commands, tests without a loop) a push is sent synchronously.
"""

from __future__ import annotations

import asyncio
import collections

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = structlog.get_logger(__name__)

failures = 0  # pushes lost since the process started (read by tests and, later, metrics)

Messages = list[tuple[str, dict]]

_server_loop: asyncio.AbstractEventLoop | None = None
_pending: collections.deque[Messages] = collections.deque()
_draining: asyncio.Task | None = None


def serve_from(loop: asyncio.AbstractEventLoop) -> None:
    """Called by the ASGI application with its running loop; pushes go there from now on."""
    global _server_loop
    _server_loop = loop


async def _send_all(messages: Messages) -> None:
    global failures
    layer = get_channel_layer()
    try:
        for group, message in messages:
            await layer.group_send(group, message)
    except Exception as exc:  # any backplane failure: the money has moved already
        failures += 1
        logger.warning("realtime.push_failed", groups=[g for g, _ in messages], error=repr(exc))


async def _drain() -> None:
    global _draining
    try:
        while _pending:
            await _send_all(_pending.popleft())
    finally:
        _draining = None


def _enqueue(messages: Messages) -> None:
    """On the server loop: queue, and start the drain task if none is running."""
    global _draining
    _pending.append(messages)
    if _draining is None:
        _draining = asyncio.get_running_loop().create_task(_drain())


def push(messages: Messages) -> None:
    """Send each (group, message) in order. Never raises; failures are logged and counted."""
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _enqueue(messages)
        else:
            loop.call_soon_threadsafe(_enqueue, messages)
        return
    try:
        async_to_sync(_send_all)(messages)
    except Exception as exc:  # an event-loop problem, not the backplane: still never fail the caller
        logger.warning("realtime.push_failed", error=repr(exc))


async def drained() -> None:
    """Wait until every handed-over push has been sent (for tests and graceful shutdown)."""
    while _pending or _draining is not None:
        await asyncio.sleep(0.01)
