"""The sockets' periodic calls of one server process, gathered into one call for many sockets.

Every socket beats on its own timer, and sockets that connected together (after a deploy, or a
crowd arriving at kick-off) beat together: a hundred sockets of a process beating in one moment
made a hundred database reads, each through the thread pool, and three hundred Redis round trips,
and the event loop waited for the GIL behind the request threads after each one. The frames of
that moment waited behind them all (measured: answer → frame p99 over half a second at 300
bets/s). Here a socket's call made while the process's previous one for the same purpose is in
flight waits for the next, which takes every socket that asked meanwhile: the first call goes at
once, a crowd pays one read and one round trip per Redis host, as push.py's drain does for pushes.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

from channels.db import database_sync_to_async
from channels_redis.core import RedisChannelLayer

from apps.realtime.presence import presence_of
from apps.wallet import selectors as wallet

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Gathered(Generic[K, V]):
    """`await gathered(key)`: the value `fetch` gives for `key`, fetched together with the keys of
    every other call waiting when its batch starts. A batch that raises raises in each of its
    callers; a caller that gives up (a timeout) leaves the others their answer. One instance per
    event loop: its futures belong to the loop."""

    def __init__(self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]]) -> None:
        self._fetch = fetch
        self._waiting: dict[K, list[asyncio.Future]] = {}
        self._task: asyncio.Task | None = None

    async def __call__(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._task is None:
            self._task = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        batch: dict[K, list[asyncio.Future]] = {}
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    values = await self._fetch(list(batch))
                except Exception as exc:
                    _settle(itertools.chain.from_iterable(batch.values()), exception=exc)
                    continue
                for key, futures in batch.items():
                    _settle(futures, value=values.get(key))
        finally:
            self._task = None
            # Cancelled with its loop: nobody waits for ever on a batch that will never come.
            gone = RuntimeError("the server loop stopped before the call was made")
            _settle(itertools.chain(*batch.values(), *self._waiting.values()), exception=gone)
            self._waiting = {}


def _settle(futures: Iterable[asyncio.Future], *, value=None, exception: BaseException | None = None) -> None:
    """Answer each future still waiting (one whose caller gave up is done already)."""
    for future in futures:
        if future.done():
            continue
        if exception is None:
            future.set_result(value)
        else:
            future.set_exception(exception)


class BeatCalls:
    """A process's gathered calls for its sockets on one channel layer: the wallet versions the
    player sockets' heartbeats show, their presence renewals, and the group joins every beat
    makes (and a connect)."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.version: Gathered[int, int] = Gathered(_versions)
        self.seen: Gathered[str, bool] = Gathered(self._seen)
        self.join: Gathered[tuple[str, str], bool] = Gathered(self._join)

    async def _seen(self, sockets: list[str]) -> dict[str, bool]:
        await presence_of(self.layer).seen_many(sockets, prune=True)
        return dict.fromkeys(sockets, True)

    async def _join(self, memberships: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
        """(group, channel) memberships added as channels-redis's `group_add` adds each one (the
        channel scored by the time, the group's expiry renewed), in one pipeline per Redis host."""
        layer = self.layer
        if not isinstance(layer, RedisChannelLayer):  # the in-memory layer of embedded mode
            for group, channel in memberships:
                await layer.group_add(group, channel)
            return dict.fromkeys(memberships, True)
        by_host: dict[int, dict[str, list[str]]] = collections.defaultdict(lambda: collections.defaultdict(list))
        for group, channel in memberships:
            assert layer.require_valid_group_name(group), "Group name not valid"  # as group_add does
            assert layer.require_valid_channel_name(channel), "Channel name not valid"
            by_host[layer.consistent_hash(group)][group].append(channel)
        for index, groups in by_host.items():
            now = time.time()
            pipe = layer.connection(index).pipeline(transaction=False)
            for group, channels in groups.items():
                key = layer._group_key(group)
                pipe.zadd(key, dict.fromkeys(channels, now))
                pipe.expire(key, layer.group_expiry)
            await pipe.execute()
        return dict.fromkeys(memberships, True)


@database_sync_to_async
def _versions(player_ids: list[int]) -> dict[int, int]:
    return wallet.get_wallet_versions(player_ids)


_calls: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, BeatCalls]] = weakref.WeakKeyDictionary()


def beat_calls(layer) -> BeatCalls:
    """The running loop's gathered calls on `layer` (a layer outlives a test's loop)."""
    per_layer = _calls.setdefault(asyncio.get_running_loop(), {})
    calls = per_layer.get(id(layer))
    if calls is None or calls.layer is not layer:
        calls = per_layer[id(layer)] = BeatCalls(layer)
    return calls
