"""The crash room's frames to this process's sockets: one channel-layer channel per process in the
room's group, fanned out in memory.

With every socket a member of the group, a tick cost one Redis delivery per socket (200 sockets at
ten ticks a second: 2,000 a second, more than a server process drains here; measured by the crash
room benchmark, the ticks reached clients seconds late). Through the relay a frame costs one
delivery per process and one JSON encoding, then a write per socket.

A socket registers before its snapshot is read and its frames are queued until the snapshot has
been sent, so it misses nothing between the two and gets nothing before it. Each socket's frames
are written by a task of its own, so a slow socket holds back only itself.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Protocol

import structlog
from channels.layers import get_channel_layer

logger = structlog.get_logger(__name__)

# Group memberships expire in channels-redis and a Redis that restarts empty forgets them: the
# relay joins again this often, and at once after a failed receive.
REJOIN_SECONDS = 30.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)  # backoff after failed receives, then the last again


OUTBOX_FRAMES = 200  # frames queued for one socket (20 s of ticks); past it a slow socket drops frames


class Socket(Protocol):
    async def send(self, text_data: str) -> None: ...


class _Outbox:
    """One socket's frames, written in order by a task of its own, so that a slow socket holds
    back only itself. Past OUTBOX_FRAMES it drops frames; its client resyncs with `snapshot`."""

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_FRAMES)
        self.writer: asyncio.Task | None = None
        self.dropped = 0

    def put(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped += 1

    async def write(self) -> None:
        while True:  # the socket's lifetime: cancelled when it leaves
            text = await self.queue.get()
            try:
                await self.socket.send(text_data=text)
            except Exception:  # closing meanwhile: its disconnect removes it
                return


class Relay:
    def __init__(self, group: str) -> None:
        self.group = group
        self.channel: str | None = None
        self._outboxes: dict[Socket, _Outbox] = {}
        self._task: asyncio.Task | None = None
        self._joined_at = 0.0

    def hold(self, socket: Socket) -> None:
        """Register `socket`: its frames are queued from now on and written once `release`d."""
        self._outboxes[socket] = _Outbox(socket)
        self._ensure_running()

    def release(self, socket: Socket) -> None:
        """Write what was queued for `socket` (after its snapshot), then its frames as they come."""
        outbox = self._outboxes.get(socket)
        if outbox is not None and outbox.writer is None:
            outbox.writer = asyncio.get_running_loop().create_task(outbox.write(), name="studio-crash-outbox")

    def leave(self, socket: Socket) -> None:
        outbox = self._outboxes.pop(socket, None)
        if outbox is not None and outbox.writer is not None:
            outbox.writer.cancel()
        if outbox is not None and outbox.dropped:
            logger.info("studio.crash.frames_dropped", frames=outbox.dropped)

    async def rejoin(self) -> None:
        """Join the group again now (a client asked for a resync: Redis may have forgotten it)."""
        if self.channel is not None:
            await self._join()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="studio-crash-relay")

    async def _join(self) -> None:
        await get_channel_layer().group_add(self.group, self.channel)
        self._joined_at = time.monotonic()

    async def _run(self) -> None:
        layer = get_channel_layer()
        failures = 0
        while True:  # the process's lifetime
            try:
                if self.channel is None:
                    # Not a process-local name (`new_channel`'s "!"): those share one Redis list per
                    # process, which realtime's mailroom reads for PAM's own sockets alone.
                    self.channel = f"studio-crash-relay.{uuid.uuid4().hex}"
                if failures or time.monotonic() - self._joined_at > REJOIN_SECONDS:
                    await self._join()
                message = await asyncio.wait_for(layer.receive(self.channel), timeout=REJOIN_SECONDS)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                continue  # a quiet room: time to join again
            except Exception as exc:  # Redis away: the sockets resync with `snapshot` once it is back
                logger.info("studio.crash.relay_receive_failed", error=repr(exc))
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
                continue
            failures = 0
            self.deliver(json.dumps(message["frame"], separators=(",", ":")))

    def deliver(self, text: str) -> None:
        for outbox in self._outboxes.values():
            outbox.put(text)


_relays: dict[int, Relay] = {}


def relay(group: str) -> Relay:
    """This event loop's relay of `group`."""
    loop = asyncio.get_running_loop()
    found = _relays.get(id(loop))
    if found is None:
        found = _relays[id(loop)] = Relay(group)
    return found
