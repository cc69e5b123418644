"""One channel-layer receive loop per server process, handing each message to its consumer.

Channels runs a receive loop per consumer, and channels-redis keeps, for each consumer waiting in
it, an asyncio.Queue and two tasks: about a seventh of an idle socket's memory (measured with
tracemalloc, 2,000 sockets). Every consumer channel of a process lives in one Redis list
(`specific.<client prefix>!`), so one loop can read that list for all of them; a message goes to
the consumer registered under its channel, and one for a channel no longer here is dropped, as
channels-redis drops it.

This reads channels-redis (4.3, pinned) through `receive_single` and its channel naming, as push.py
uses its group helpers. Nothing else in the process may `receive()` on the layer's consumer
channels, or the two would take each other's messages. A layer without that shape (the in-memory
layer of embedded mode) has no mailroom: each consumer receives for itself.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Callable

import structlog
from channels_redis.core import RedisChannelLayer

logger = structlog.get_logger(__name__)

RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds, doubling, with jitter

Deliver = Callable[[dict], None]


class Mailroom:
    def __init__(self, layer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.recipients: dict[str, Deliver] = {}
        self.task: asyncio.Task | None = None

    def add(self, channel: str, deliver: Deliver) -> None:
        self.recipients[channel] = deliver
        if self.task is None:
            self.task = self.loop.create_task(self._run_until_cancelled(self.layer.non_local_name(channel)))

    def discard(self, channel: str) -> None:
        # The loop lives as long as the server's: stopped at each last socket and started again
        # at the next, an old and a new loop would briefly both read the process's list.
        self.recipients.pop(channel, None)

    async def _run_until_cancelled(self, process_channel: str) -> None:
        """`_run` in a task of its own, cancelled until it ends. redis-py on Python 3.11 can
        swallow a cancel that lands while it opens a connection (its `asyncio.wait_for` around a
        write), and the receive would then go on for ever: measured, 3 of 30 cancels 2 ms after
        the start, which hung the test's event loop at its close."""
        reader = asyncio.create_task(self._run(process_channel))
        try:
            await asyncio.wait({reader})
            reader.result()
        finally:
            while not reader.done():
                reader.cancel()
                await asyncio.wait({reader}, timeout=0.5)

    async def _run(self, process_channel: str) -> None:
        """Receive for every consumer; a backplane error waits and tries again, never ends the
        loop (the sockets go on with heartbeats and `resume` from the ledger)."""
        delay = RETRY_FIRST
        while True:
            try:
                channels, message = await self.layer.receive_single(process_channel)
            except Exception as exc:  # redis ConnectionError/TimeoutError, OSError: Redis is away
                if asyncio.current_task().cancelling():  # a cancel that redis-py turned into an error
                    raise
                logger.info("realtime.receive_failed", channel=process_channel, error=repr(exc))
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter, not a secret)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = RETRY_FIRST
            for channel in channels if isinstance(channels, list) else [channels]:
                deliver = self.recipients.get(channel)
                if deliver is not None:
                    deliver(message)


_mailrooms: weakref.WeakKeyDictionary[object, Mailroom] = weakref.WeakKeyDictionary()


def mailroom_of(layer) -> Mailroom | None:
    """The running loop's mailroom for `layer`, or None for a layer that is not channels-redis's."""
    if not isinstance(layer, RedisChannelLayer):
        return None
    loop = asyncio.get_running_loop()
    mailroom = _mailrooms.get(layer)
    if mailroom is None or mailroom.loop is not loop:  # a layer outlives a test's loop
        mailroom = _mailrooms[layer] = Mailroom(layer, loop)
    return mailroom
