"""The odds socket, `/ws/odds/` (contracts/sportsbook.md, "Prices out"): no login; a client sends
`{"type": "subscribe", "event_ids": [...]}` and gets a `market.updated` frame with the current
state of each market of those events, then one for each change, in version order per market.

Fan-out: the sportsbook publishes each batch's changed markets once, after commit
(`markets_changed`, through the outbox), and realtime's receiver pushes them to one group, ODDS.
Each server process has one member of it, the relay, which hands each market's state to the
sockets of the process that follow its event: a change costs one channel-layer delivery per
process, not one per socket, and one JSON encoding (the crash room's relay measured the
difference: a group membership per socket could not keep up with 200 sockets). With channels-redis
the relay's channel is read by the process's mailroom (mailroom.py), which also has it re-join the
group at once when Redis forgot it; the relay renews its membership every REJOIN_SECONDS besides.

Per socket, the latest state of each market waits in an insertion-ordered mailbox written by a
task of the socket's own, so a slow socket holds back only itself and costs at most one pending
frame per market it follows: a newer state replaces the one still waiting. A state is taken only
if it is newer than the one the socket last took (a higher version; or the same version with the
other `delayed`, when the feed went stale or came back): a repeat (the outbox sweeper after a
crash, the snapshot racing a live change) is never resent, and a socket never goes back.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import weakref
from typing import Any

import structlog
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from apps.common import metrics
from apps.realtime import protocol
from apps.realtime.groups import ODDS
from apps.realtime.mailroom import mailroom_of
from apps.sportsbook import selectors as sportsbook

logger = structlog.get_logger(__name__)

REJOIN_SECONDS = 60.0  # renews the relay's membership, which channels-redis expires after a day
JOIN_WAIT_SECONDS = 3.0  # a first subscriber waits this long at most for its process to join
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)  # after failed joins or receives, then the last again
MAX_MESSAGE_CHARS = 16_384  # a subscribe of the most events with the longest ids fits in it
MAX_EVENT_ID_LENGTH = 100  # the sportsbook's own limit on a feed's ids
MARKETS_PER_MESSAGE = 500  # a batch's markets per channel-layer message (each a few hundred bytes)


class Relay:
    """This process's member of the ODDS group: hands each market's state to the sockets that
    follow its event (`watch`)."""

    def __init__(self) -> None:
        self.watchers: dict[str, set[OddsConsumer]] = collections.defaultdict(set)
        self.channel: str | None = None
        self._task: asyncio.Task | None = None
        self._joined = asyncio.Event()

    def watch(self, socket: OddsConsumer, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self.watchers[event_id].add(socket)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="realtime-odds-relay")

    async def joined(self) -> None:
        """Wait (at most JOIN_WAIT_SECONDS: Redis may be away) until the relay is in the group."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(JOIN_WAIT_SECONDS):
                await self._joined.wait()

    def forget(self, socket: OddsConsumer) -> None:
        for event_id in socket.events:
            sockets = self.watchers.get(event_id)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self.watchers[event_id]

    def deliver(self, message: dict) -> None:
        """A layer message: each market's state to its event's sockets, encoded once."""
        for state in message.get("markets", ()):
            sockets = self.watchers.get(state["event_id"])
            if sockets:
                text = json.dumps(protocol.market_updated(state), separators=(",", ":"))
                for socket in sockets:
                    socket.offer(state["market_id"], state["version"], state["delayed"], text)

    async def _join(self) -> bool:
        try:
            await get_channel_layer().group_add(ODDS, self.channel)
        except Exception as exc:  # Redis away: the loop tries again, the mailroom too once it is back
            logger.info("realtime.odds_join_failed", error=repr(exc))
            return False
        self._joined.set()
        return True

    async def _run(self) -> None:
        layer = get_channel_layer()
        # The layer's usual prefix: with channels-redis it names the process's list, which the
        # mailroom reads for every consumer channel of the process.
        self.channel = await layer.new_channel()
        mailroom = mailroom_of(layer)
        if mailroom is not None:  # channels-redis: the mailroom reads the channel, re-joins on a loss
            mailroom.add(self.channel, self.deliver, self._join, _nothing)
        failures = 0
        while True:  # the process's lifetime
            if not await self._join():
                failures += 1
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
                continue
            failures = 0
            if mailroom is not None:
                await asyncio.sleep(REJOIN_SECONDS)
                continue
            # The in-memory layer of embedded mode: read the channel here.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(REJOIN_SECONDS):
                    while True:
                        self.deliver(await layer.receive(self.channel))


async def _nothing() -> None:
    """The relay has no beat of its own: its sockets' states follow from the next change."""


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay] = weakref.WeakKeyDictionary()


def relay() -> Relay:
    """The running loop's relay."""
    loop = asyncio.get_running_loop()
    found = _relays.get(loop)
    if found is None:
        found = _relays[loop] = Relay()
    return found


def push_messages(markets: list[dict]) -> list[tuple[str, dict]]:
    """The channel-layer messages (for push.push) that carry `markets`' states to the relays."""
    return [
        (ODDS, {"type": "odds.markets", "markets": markets[start : start + MARKETS_PER_MESSAGE]})
        for start in range(0, len(markets), MARKETS_PER_MESSAGE)
    ]


class InvalidSubscription(ValueError):
    pass


def parse_subscription(content: Any, following: int, limit: int) -> list[str]:
    """The event ids of a `subscribe` message, in order, without repeats; InvalidSubscription
    (its message says why) for anything else, or for more than `limit` events in all with the
    `following` ones the socket has."""
    if not isinstance(content, dict) or content.get("type") != "subscribe":
        raise InvalidSubscription('Send {"type": "subscribe", "event_ids": [...]}.')
    if set(content) != {"type", "event_ids"}:
        raise InvalidSubscription("A subscribe message has a type and event_ids, nothing else.")
    event_ids = content["event_ids"]
    if not isinstance(event_ids, list) or not 1 <= len(event_ids) <= limit:
        raise InvalidSubscription(f"event_ids must be a list of 1 to {limit} event ids.")
    for event_id in event_ids:
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH or not event_id.isprintable():
            raise InvalidSubscription(f"An event id is a string of 1 to {MAX_EVENT_ID_LENGTH} printable characters.")
    return list(dict.fromkeys(event_ids))


class OddsConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/odds/`. No channel of its own (`channel_layer_alias = None`): the frames come
    through the process's relay, and a channel of its own would cost a group membership per socket."""

    channel_layer_alias = None
    socket_kind = metrics.ODDS_SOCKET
    _writer: asyncio.Task | None = None

    async def connect(self) -> None:
        self.events: set[str] = set()
        self.held: dict[str, tuple[int, bool]] = {}  # market id -> (version, delayed) last taken
        self.mailbox: dict[str, str] = {}  # market id -> its frame waiting to be written
        self.wake = asyncio.Event()
        self.relay = relay()
        await self.accept()
        metrics.socket_opened(self.socket_kind)
        self._writer = asyncio.get_running_loop().create_task(self._write(), name="realtime-odds-socket")

    async def disconnect(self, code: int) -> None:
        self.relay.forget(self)
        if self._writer is not None:
            self._writer.cancel()
            metrics.socket_closed(self.socket_kind)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE_CHARS:
            await self._refuse(f"Send JSON text of at most {MAX_MESSAGE_CHARS} characters.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._refuse("The message is not JSON.")
            return
        await self.subscribe(content)

    async def subscribe(self, content: Any) -> None:
        """Follow more events: their markets' current states at once, then their changes. Events
        followed already are left as they are; unknown ones have no markets (yet)."""
        limit = settings.ODDS_SOCKET_MAX_EVENTS
        try:
            event_ids = parse_subscription(content, len(self.events), limit)
        except InvalidSubscription as refused:
            await self._refuse(str(refused))
            return
        new = [event_id for event_id in event_ids if event_id not in self.events]
        if len(self.events) + len(new) > limit:
            await self._refuse(f"A socket follows at most {limit} events.", {"max_events": limit})
            return
        # Watched before the snapshot is read: a change committed meanwhile arrives live, and
        # whichever of the two is older is dropped by its version.
        self.events.update(new)
        self.relay.watch(self, new)
        if new:
            await self.relay.joined()  # the first socket of the process: the group before the snapshot
            for state in await database_sync_to_async(sportsbook.list_market_states)(new):
                text = json.dumps(protocol.market_updated(state), separators=(",", ":"))
                self.offer(state["market_id"], state["version"], state["delayed"], text)

    def offer(self, market_id: str, version: int, delayed: bool, text: str) -> None:
        """Queue a market's frame unless the socket has taken that state, or a newer one."""
        held = self.held.get(market_id)
        if held is not None and (version < held[0] or (version == held[0] and delayed == held[1])):
            return
        self.held[market_id] = (version, delayed)
        self.mailbox[market_id] = text  # replaces a frame of the market still waiting
        self.wake.set()

    async def _write(self) -> None:
        while True:  # the socket's lifetime: cancelled at its disconnect
            await self.wake.wait()
            self.wake.clear()
            while self.mailbox:
                market_id = next(iter(self.mailbox))
                try:
                    await self.send(text_data=self.mailbox.pop(market_id))
                except Exception:  # closing meanwhile: its disconnect ends this task
                    return

    async def _refuse(self, message: str, data: dict | None = None) -> None:
        with contextlib.suppress(Exception):
            await self.send_json(protocol.notice("invalid_request", message, data))
