"""Sending frames through the channel layer from sync code, without ever failing the caller.

A push happens after the money has committed: if the backplane is down the failure is logged and
counted, and the client recovers through heartbeat and `resume` (the ledger has every frame).

Inside a server, pushes are handed to the server's own event loop (`serve_from`), where the
consumers and the channel layer's connections live, and sent there one after another in the
order they were handed over, in batches: the request thread does not wait for Redis, frames of one process
leave in commit order, and no event loop is created per push (measured: `async_to_sync` from a
request thread made a loop and a Redis connection per bet, costing more than half the bet).
Outside a server (management commands, tests without a loop) a push is sent synchronously.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Sequence

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from redis.commands.core import AsyncScript

from apps.common import events, metrics

logger = structlog.get_logger(__name__)

failures = 0  # pushes lost since the process started (read by tests; the metrics count them too)


def count_failure() -> None:
    global failures
    failures += 1
    metrics.PUSH_FAILURES.inc()


Messages = list[tuple[str, dict]]

_server_loop: asyncio.AbstractEventLoop | None = None
# Each handed-over push with the time it is measured from (its event's commit, as perf_counter).
_pending: collections.deque[tuple[float, Messages]] = collections.deque()
_draining: asyncio.Task | None = None


def serve_from(loop: asyncio.AbstractEventLoop) -> None:
    """Called by the ASGI application with its running loop; pushes go there from now on."""
    global _server_loop
    _server_loop = loop


# channels-redis's group send as two scripts, each one command for a whole batch of pushes, where
# its `group_send` takes two to four commands per group (a bet pushes to two groups).
#
# The first drops each group's expired members and reads the rest.
_MEMBERS_LUA = """
local members = {}
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, ARGV[1])
    members[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return members
"""
# The second, per delivery (a member channel's key and its copy of the message), drops the key's
# expired messages (once per key) and adds the copy under the channel's capacity. A score per
# delivery, not one for the whole call: two frames for one channel in the same batch keep their
# order (a sorted set orders equal scores by the random bytes each serialised message starts with).
_DELIVER_LUA = """
local over_capacity = 0
local n = #KEYS
local expiry = ARGV[3 * n + 1]
local expired = ARGV[3 * n + 2]
local swept = {}
for i = 1, n do
    if not swept[KEYS[i]] then
        redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, expired)
        swept[KEYS[i]] = true
    end
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
        redis.call('ZADD', KEYS[i], ARGV[2 * n + i], ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""
# Called by their SHA (EVALSHA); redis-py loads a script again if the server has forgotten it (a
# restart, SCRIPT FLUSH).
_MEMBERS = AsyncScript(None, _MEMBERS_LUA.encode())
_DELIVER = AsyncScript(None, _DELIVER_LUA.encode())


async def _group_send_batch(layer: RedisChannelLayer, messages: Messages) -> None:
    """`group_send` of each (group, message), in order, in one command per Redis host for the
    membership and one for the deliveries, for the whole batch.

    The same steps as channels-redis's `group_send` (channels_redis 4.3, pinned), through its
    helpers: drop expired group members and read the groups, then drop expired messages and add
    each message to each member channel under capacity. A channel over capacity misses the frame,
    as with group_send; the client recovers through heartbeat and `resume`.
    """
    by_host: dict[int, list[tuple[str, dict]]] = collections.defaultdict(list)
    for group, message in messages:
        assert layer.require_valid_group_name(group), "Group name not valid"  # as group_send does
        by_host[layer.consistent_hash(group)].append((group, message))
    deliveries: dict[int, list[tuple[str, bytes, int]]] = collections.defaultdict(list)
    for index, items in by_host.items():
        group_keys = [layer._group_key(group) for group, _ in items]
        members = await _MEMBERS(group_keys, [int(time.time()) - layer.group_expiry], client=layer.connection(index))
        for (_, message), names in zip(items, members, strict=True):
            if not names:
                continue
            channel_keys, payloads, capacities = layer._map_channel_keys_to_connection(
                [name.decode("utf8") for name in names], message
            )
            for channel_index, keys in channel_keys.items():
                deliveries[channel_index].extend((key, payloads[key], capacities[key]) for key in keys)
    for index, items in deliveries.items():
        now = time.time()
        keys = [key for key, _, _ in items]
        args = [payload for _, payload, _ in items] + [capacity for _, _, capacity in items]
        args += [now + position * 1e-6 for position in range(len(items))] + [layer.expiry, int(now) - int(layer.expiry)]
        over_capacity = await _DELIVER(keys, args, client=layer.connection(index))
        if over_capacity:
            logger.info("realtime.channels_over_capacity", channels=over_capacity, deliveries=len(items))


async def _send_all(messages: Messages, since: Sequence[float] = ()) -> None:
    """Send, then record each push's latency from its `since` (a lost push is counted in
    `failures` instead)."""
    layer = get_channel_layer()
    try:
        if isinstance(layer, RedisChannelLayer):
            await _group_send_batch(layer, messages)
        else:  # the in-memory layer of embedded mode
            for group, message in messages:
                await layer.group_send(group, message)
    except Exception as exc:  # any backplane failure: the money has moved already
        count_failure()
        logger.warning("realtime.push_failed", groups=[g for g, _ in messages], error=repr(exc))
        return
    sent = time.perf_counter()
    for started in since:
        metrics.PUSH_SECONDS.observe(sent - started)


# Pushes handed over while a batch was in flight go together in the next one: one Redis batch
# for many bets instead of one each, so the queue drains faster than bets commit (measured by the
# real-time benchmark at 100 bets/s: answer-to-frame p50 15.7 s one by one, 3.0 s batched, on a
# loaded machine). Order is kept: a batch is sent in the order the pushes were handed over.
MAX_BATCH_MESSAGES = 512


async def _drain() -> None:
    global _draining
    try:
        while _pending:
            batch: Messages = []
            since: list[float] = []
            while _pending and len(batch) < MAX_BATCH_MESSAGES:
                started, messages = _pending.popleft()
                batch.extend(messages)
                since.append(started)
            await _send_all(batch, since)
    finally:
        _draining = None


def _enqueue(started: float, messages: Messages) -> None:
    """On the server loop: queue, and start the drain task if none is running."""
    global _draining
    _pending.append((started, messages))
    if _draining is None:
        _draining = asyncio.get_running_loop().create_task(_drain())


def push(messages: Messages) -> None:
    """Send each (group, message) in order. Never raises; failures are logged and counted. The
    latency recorded runs from the commit of the event being dispatched (or from now)."""
    started = events.committed_at() or time.perf_counter()
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _enqueue(started, messages)
        else:
            loop.call_soon_threadsafe(_enqueue, started, messages)
        return
    try:
        async_to_sync(_send_all)(messages, [started])
    except Exception as exc:  # an event-loop problem, not the backplane: still never fail the caller
        logger.warning("realtime.push_failed", error=repr(exc))


async def drained() -> None:
    """Wait until every handed-over push has been sent (for tests and graceful shutdown)."""
    while _pending or _draining is not None:
        await asyncio.sleep(0.01)
