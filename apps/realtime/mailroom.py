"""One channel-layer receive loop per server process, handing each message to its consumer.

Channels runs a receive loop per consumer, and channels-redis keeps, for each consumer waiting in
it, an asyncio.Queue and two tasks: about a seventh of an idle socket's memory (measured with
tracemalloc, 2,000 sockets). Every consumer channel of a process lives in one Redis list
(`specific.<client prefix>!`), so one loop can read that list for all of them; a message goes to
the consumer registered under its channel, and one for a channel no longer here is dropped, as
channels-redis drops it.

The mailroom also notices when the backplane has forgotten this process: a Redis restarted empty
(no persistence), flushed, or another shard host of the layer restarted, loses every group
membership, and no live frame would reach the process's sockets until each one's next beat. A
probe every PROBE_SECONDS writes a marker key of the process on each host (`SET ... GET`, one
round trip) and reads back whether it was still there; when a host that knew the marker (or was
away) answers without it, every registered consumer re-joins its groups at once, then beats. This
also catches a restart the receive loop never saw as an error, and does nothing for a failover or
a restart that kept the data (the marker, like the groups, survived). The probe is one task per
process, so an idle socket still holds nothing of its own.

This reads channels-redis's storage (4.3, pinned: a sorted set per process list, its
serialisation and channel naming) directly, many messages a round trip (`Mailroom._receive`), as
push.py writes it through its group helpers; `BZMPOP` needs Redis 7.0 or later. Nothing else in
the process may `receive()` on the layer's consumer channels, or the two would take each other's
messages. A layer without that shape (the in-memory layer of embedded mode) has no mailroom: each
consumer receives for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import weakref
from collections.abc import Awaitable, Callable

import structlog
from channels_redis.core import RedisChannelLayer

logger = structlog.get_logger(__name__)

RETRY_FIRST, RETRY_MAX = 0.5, 5.0  # seconds, doubling, with jitter
# Seconds between two probes of the backplane: a Redis that came back empty is noticed within
# this, and costs one command per host and process each time.
PROBE_SECONDS = 0.5
MARKER_TTL = 3600  # seconds; every probe renews it, so it outlives the process by at most this
# Consumers re-joining (a group call each, also bounded by consumers.LAYER_CALLS_AT_ONCE), then
# beating (a database read each, gathered: gathered.py), at once after the backplane forgot them.
REJOINS_AT_ONCE = 20
# Messages taken from Redis in one round trip at most: under load, one batch per turn of the loop.
RECEIVE_BATCH = 100

Deliver = Callable[[dict], None]
Rejoin = Callable[[], Awaitable[bool]]
Beat = Callable[[], Awaitable[None]]


class Mailroom:
    def __init__(self, layer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.recipients: dict[str, tuple[Deliver, Rejoin, Beat]] = {}
        self.task: asyncio.Task | None = None
        self.marker = f"{layer.prefix}:mailroom:{layer.client_prefix}"
        # Per host: whether a probe was made. The first one that finds no marker is the start,
        # unless an earlier probe failed (sockets that connected while it was away never joined).
        self._probed = [False] * layer.ring_size
        self._answering = asyncio.Event()  # set by a probe that a host answered; wakes the receive
        # Channels owed a re-join since the backplane last forgot them: a join can fail on a pooled
        # connection that still points at the Redis that went away, after the probe's own worked.
        self._owed: set[str] = set()

    def add(self, channel: str, deliver: Deliver, rejoin: Rejoin, beat: Beat) -> None:
        """From now on, hand `channel`'s messages to `deliver`; when the backplane has forgotten
        the process's groups, await `rejoin()` (True once joined, or nothing left to join; False
        to be asked again at the next probe), and once it has re-joined, `beat()` (neither may
        raise)."""
        self.recipients[channel] = (deliver, rejoin, beat)
        if self.task is None:
            self.task = self.loop.create_task(self._run_until_cancelled(self.layer.non_local_name(channel)))

    def discard(self, channel: str) -> None:
        # The loop lives as long as the server's: stopped at each last socket and started again
        # at the next, an old and a new loop would briefly both read the process's list.
        self.recipients.pop(channel, None)

    async def _run_until_cancelled(self, process_channel: str) -> None:
        """`_run` and `_watch` in tasks of their own, cancelled until they end. redis-py on
        Python 3.11 can swallow a cancel that lands while it opens a connection (its
        `asyncio.wait_for` around a write), and the receive would then go on for ever: measured,
        3 of 30 cancels 2 ms after the start, which hung the test's event loop at its close."""
        workers = {asyncio.create_task(self._run(process_channel)), asyncio.create_task(self._watch())}
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
            for worker in done:
                worker.result()
        finally:
            for worker in workers:
                while not worker.done():
                    worker.cancel()
                    await asyncio.wait({worker}, timeout=0.5)

    async def _run(self, process_channel: str) -> None:
        """Receive for every consumer; a backplane error waits and tries again, never ends the
        loop (the sockets go on with heartbeats and `resume` from the ledger)."""
        delay = RETRY_FIRST
        while True:
            try:
                batch = await self._receive(process_channel)
            except Exception as exc:  # redis ConnectionError/TimeoutError, OSError: Redis is away
                if asyncio.current_task().cancelling():  # a cancel that redis-py turned into an error
                    raise
                logger.info("realtime.receive_failed", channel=process_channel, error=repr(exc))
                # Woken early by the probe that finds Redis answering: frames pushed right after
                # it is back wait in Redis only until this loop reads again.
                self._answering.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay * random.uniform(0.5, 1.0)):  # noqa: S311 (jitter)
                        await self._answering.wait()
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = RETRY_FIRST
            for channels, message in batch:
                for channel in channels if isinstance(channels, list) else [channels]:
                    recipient = self.recipients.get(channel)
                    if recipient is not None:
                        recipient[0](message)

    async def _receive(self, process_channel: str) -> list[tuple[str | list[str], dict]]:
        """The messages waiting in the process's list, oldest first, up to RECEIVE_BATCH of them,
        in one round trip: `BZMPOP` blocks (at most the layer's `brpop_timeout`, then answers
        nothing) until one is there and takes the others with it. Each is (its channel, or the
        list of this process's channels it is for, as channels-redis's group send stores it; the
        message).

        channels-redis's `receive_single` takes one message in four round trips (its backup
        queue's restore, the pop, the backup and its clean-up, each after the last), and a
        server process's event loop waits for the GIL behind the request threads after every
        one of them: under load the frames queued in Redis faster than one loop could take them.
        A batch lost with a connection that broke after Redis popped it is lost to the sockets
        as a frame over capacity is, and recovered the same way: heartbeat and `resume`."""
        layer = self.layer
        connection = layer.connection(layer.consistent_hash(process_channel))
        popped = await connection.bzmpop(
            layer.brpop_timeout, 1, [layer.prefix + process_channel], min=True, count=RECEIVE_BATCH
        )
        if popped is None:
            return []
        batch = []
        for content, _score in popped[1]:
            message = layer.deserialize(content)
            batch.append((message.pop("__asgi_channel__", process_channel), message))
        return batch

    async def _watch(self) -> None:
        """Probe every host each PROBE_SECONDS; when one has forgotten the process, every
        consumer re-joins its groups and beats, and one whose join failed is asked again at each
        probe until it joins. Never ends: a host that does not answer is probed again at the next
        period."""
        while True:
            if await self._probe():
                self._owed = set(self.recipients)
            if self._owed:
                await self._rejoin_owed()
            await asyncio.sleep(PROBE_SECONDS)

    async def _probe(self) -> bool:
        """Renew the marker on each host; True if one that should have held it did not."""
        forgotten = []
        for index in range(self.layer.ring_size):
            probed, self._probed[index] = self._probed[index], True
            try:
                previous = await self.layer.connection(index).set(self.marker, b"1", ex=MARKER_TTL, get=True)
            except Exception as exc:  # Redis away: the next period tries again
                if asyncio.current_task().cancelling():  # a cancel that redis-py turned into an error
                    raise
                logger.debug("realtime.probe_failed", host=index, error=repr(exc))
                continue
            self._answering.set()
            if previous is None and probed:
                forgotten.append(index)
        if forgotten:
            logger.warning("realtime.backplane_forgot", hosts=forgotten, sockets=len(self.recipients))
        return bool(forgotten)

    async def _rejoin_owed(self) -> None:
        """Every consumer owed a re-join re-joins its groups, then every one that did beats,
        REJOINS_AT_ONCE at a time: the joins, which bring live frames back, do not wait behind
        the beats' database reads. A consumer that registers meanwhile joins on its own."""
        owed = [(channel, self.recipients[channel]) for channel in self._owed if channel in self.recipients]
        joined = await _each([rejoin for _, (_, rejoin, _) in owed])
        rejoined = [(channel, beat) for (channel, (_, _, beat)), done in zip(owed, joined, strict=True) if done]
        await _each([beat for _, beat in rejoined])
        self._owed.difference_update(channel for channel, _ in rejoined)
        self._owed.intersection_update(self.recipients)  # a socket that closed is owed nothing
        logger.info("realtime.rejoined", sockets=len(rejoined), still_owed=len(self._owed))


async def _each(calls: list[Callable[[], Awaitable[object]]]) -> list[object]:
    """Await every call, REJOINS_AT_ONCE at a time, and return their results in order; one that
    raises is logged and gives None, the others go on."""
    results: list[object] = [None] * len(calls)
    pending = list(enumerate(calls))

    async def some() -> None:
        while pending:
            index, call = pending.pop()
            try:
                results[index] = await call()
            except Exception as exc:
                logger.warning("realtime.rejoin_failed", error=repr(exc))

    await asyncio.gather(*(some() for _ in range(min(REJOINS_AT_ONCE, len(pending)))))
    return results


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
