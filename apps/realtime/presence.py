"""Players online: how many player sockets are open, across every server process.

With the Redis channel layer, each open player socket is a member of one sorted set in Redis (on
the layer's host for the key), scored by the time it expires: its connect adds it, each of its
heartbeats pushes the expiry on, its disconnect removes it. A socket of a process that crashed
(no disconnect ran) stops beating and is no longer counted once its expiry passes, within
`EXPIRY_BEATS` heartbeats; the next connect anywhere prunes it. A Redis that restarted empty is
filled again by the next beats (and at once by the mailroom's re-join beat). The count is the
members whose expiry is still ahead.

Each connect and each beat costs one round trip (a pipeline), shared by the process's connects
and beats of one moment (gathered.py), a disconnect one command; nothing on the database. The
consumer bounds each call in time and logs and ignores a failure: presence is a figure for the
back office, never a reason to refuse or drop a player's socket.

The in-memory layer (embedded mode: one process) keeps the same record in the process.

Sockets are counted, not players: a player with two tabs open counts twice.
"""

from __future__ import annotations

import threading
import time
import weakref

import redis
import redis.sentinel
from channels_redis.core import RedisChannelLayer
from django.conf import settings

# A socket not seen for this many heartbeats is no longer counted: two beats may be lost (a
# database hiccup skips one, a slow Redis another) before a live socket drops out of the figure.
EXPIRY_BEATS = 3


def _expiry(now: float) -> float:
    return now + EXPIRY_BEATS * settings.REALTIME_HEARTBEAT_SECONDS


class RedisPresence:
    """The sorted set of open player sockets in the channel layer's Redis."""

    def __init__(self, layer: RedisChannelLayer) -> None:
        self.layer = layer
        self.key = f"{layer.prefix}:presence:player_sockets"
        self.index = layer.consistent_hash(self.key)
        self._reader: redis.Redis | None = None
        self._reader_lock = threading.Lock()

    async def seen(self, socket: str, *, prune: bool = False) -> None:
        await self.seen_many([socket], prune=prune)

    async def seen_many(self, sockets: list[str], *, prune: bool = False) -> None:
        """These sockets are open: count them until an expiry from now, in one round trip (the
        process's beats and connects of one moment: gathered.py). `prune` also drops the sockets
        whose expiry passed (the set then never grows past the open sockets and those of the last
        few heartbeats). The key itself expires a minute after the last socket's expiry
        (relative, on Redis's clock: no server's clock can cut it short)."""
        now = time.time()
        expiry = _expiry(now)
        async with self.layer.connection(self.index).pipeline(transaction=False) as pipe:
            pipe.zadd(self.key, dict.fromkeys(sockets, expiry))
            if prune:
                pipe.zremrangebyscore(self.key, "-inf", now)
            pipe.expire(self.key, int(expiry - now) + 60)
            await pipe.execute()

    async def gone(self, socket: str) -> None:
        await self.layer.connection(self.index).zrem(self.key, socket)

    def count(self) -> int:
        """Open player sockets of every process (a read: the expired ones are left for a connect
        to prune). For synchronous code (views, selectors)."""
        return int(self._sync_client().zcount(self.key, time.time(), "+inf"))

    def _sync_client(self) -> redis.Redis:
        """A synchronous client of the host the key lives on, with the layer's options (the
        layer's own clients are asyncio ones, bound to its event loops)."""
        with self._reader_lock:
            if self._reader is None:
                # A page waits on this read: a Redis that does not answer fails it within a second.
                host = {**self.layer.hosts[self.index], "socket_connect_timeout": 1, "socket_timeout": 1}
                if "address" in host:
                    pool = redis.ConnectionPool.from_url(host.pop("address"), **host)
                elif "master_name" in host:
                    sentinel = redis.sentinel.Sentinel(
                        host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None)
                    )
                    pool = redis.sentinel.SentinelConnectionPool(host.pop("master_name"), sentinel, **host)
                else:
                    pool = redis.ConnectionPool(**host)
                self._reader = redis.Redis(connection_pool=pool)
            return self._reader


class LocalPresence:
    """The same record in the process, for the in-memory layer of embedded mode (one process
    serves every socket and page)."""

    def __init__(self) -> None:
        self._expiries: dict[str, float] = {}
        self._lock = threading.Lock()  # sockets on the event loop, readers on request threads

    async def seen(self, socket: str, *, prune: bool = False) -> None:
        await self.seen_many([socket], prune=prune)

    async def seen_many(self, sockets: list[str], *, prune: bool = False) -> None:
        now = time.time()
        with self._lock:
            self._expiries.update(dict.fromkeys(sockets, _expiry(now)))
            if prune:
                for stale in [name for name, expiry in self._expiries.items() if expiry <= now]:
                    del self._expiries[stale]

    async def gone(self, socket: str) -> None:
        with self._lock:
            self._expiries.pop(socket, None)

    def count(self) -> int:
        now = time.time()
        with self._lock:
            return sum(1 for expiry in self._expiries.values() if expiry > now)


Presence = RedisPresence | LocalPresence
_presences: weakref.WeakKeyDictionary[object, Presence] = weakref.WeakKeyDictionary()
_presences_lock = threading.Lock()


def presence_of(layer) -> Presence:
    """The process's presence record for `layer`: in its Redis for channels-redis's layer, in the
    process for any other."""
    with _presences_lock:
        presence = _presences.get(layer)
        if presence is None:
            presence = RedisPresence(layer) if isinstance(layer, RedisChannelLayer) else LocalPresence()
            _presences[layer] = presence
        return presence
