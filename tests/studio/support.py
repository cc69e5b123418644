"""What the crash room's tests share: funded players with studio sessions opened by a signed
launch against a real server, servers configured for the room, and a minimal socket client that
speaks the room's protocol (docs/crash-room.md)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from apps.accounts.tests.factories import make_player
from apps.common import launch
from apps.games import services as games
from apps.studio.sessions import open_session
from apps.wallet import services as wallet
from tests.realtime.support import Server, start_server
from tests.support import free_port

LAUNCH = {"jurisdiction": "mt", "min_cycle_ms": "0", "autoplay": "1", "session_info": "1"}
_requests = itertools.count(1)


def crash_server(tmp_path: Path, name: str, **env: str) -> Server:
    """A PAM server whose studio calls its own wallet API, with a short room: a 2.5 s window, a
    0.5 s pause and a multiplier growing about 33 times faster than production's (2.00x in 0.35 s),
    so that a long round still ends in seconds."""
    port = free_port()
    timing = {
        "STUDIO_CRASH_BETTING_MS": "2500",
        "STUDIO_CRASH_PAUSE_MS": "500",
        "STUDIO_CRASH_TICK_MS": "100",
        "STUDIO_CRASH_GROWTH": "0.002",
        "STUDIO_CRASH_CHAIN_LENGTH": "1000",
        "STUDIO_CRASH_LEASE_MS": "1000",
    }
    return start_server(tmp_path, name, port=port, STUDIO_WALLET_URL=f"http://127.0.0.1:{port}", **{**timing, **env})


@database_sync_to_async
def funded_player(username: str, balance: int) -> tuple[int, str]:
    """(player id, a fresh launch token for the studio) for a new player holding `balance`."""
    provider = games.save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    player = make_player(username=username)
    wallet.adjust_balance(player_id=player.pk, amount=balance, reason="test funds", acting_user=None)
    return player.pk, games.issue_launch_token(player=player, provider=provider)


async def crash_session(server: Server, token: str) -> str:
    """Opens a pam-crash session by a signed launch, its token exchanged with `server`'s wallet:
    the session key."""
    query = dict(
        parse_qsl(launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-crash", {"token": token, **LAUNCH}))
    )
    with override_settings(STUDIO_WALLET_URL=server.http):
        _session, key, _balance = await open_session(game_code="pam-crash", query=query)
    return key


async def player_session(server: Server, username: str, balance: int = 10_000) -> tuple[int, str]:
    player_id, token = await funded_player(username, balance)
    return player_id, await crash_session(server, token)


@dataclass
class RoomClient:
    """One socket in the room: every frame it got, in order, and requests answered by request_id."""

    socket: websockets.ClientConnection
    frames: list[dict] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task | None = None

    @classmethod
    async def connect(cls, server: Server, key: str) -> RoomClient:
        socket = await websockets.connect(f"{server.ws}/ws/studio/crash/?session={key}", open_timeout=10)
        client = cls(socket)
        client._reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.socket:
                self.frames.append(json.loads(text))
                self._changed.set()
        self.frames.append({"type": "client.closed"})
        self._changed.set()

    async def close(self) -> None:
        await self.socket.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def wait(self, predicate: Callable[[dict], bool], timeout: float = 30, after: int = 0) -> dict:
        """The first frame (from index `after`) that satisfies `predicate`."""
        try:
            async with asyncio.timeout(timeout):
                seen = after
                while True:
                    for frame in self.frames[seen:]:
                        if predicate(frame):
                            return frame
                    seen = len(self.frames)
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"no such frame within {timeout} s; last frames: {self.frames[-15:]}") from None

    async def frame(self, kind: str, timeout: float = 30, after: int = 0, **fields) -> dict:
        return await self.wait(
            lambda f: f["type"] == kind and all(f.get(k) == v for k, v in fields.items()), timeout, after
        )

    async def request(self, kind: str, timeout: float = 30, **fields) -> dict:
        """Sends a request and returns its answer (the frame carrying its request_id)."""
        request_id = f"r{next(_requests)}"
        await self.socket.send(json.dumps({"type": kind, "request_id": request_id, **fields}))
        return await self.wait(lambda f: f.get("request_id") == request_id, timeout)

    async def snapshot(self) -> dict:
        mark = len(self.frames)
        await self.socket.send(json.dumps({"type": "snapshot"}))
        return await self.frame("crash.snapshot", after=mark)

    async def balance(self) -> int:
        """A fresh snapshot's balance: the `crash.balance` that follows it (the snapshot's own is
        null, so that the wallet's answer never delays it)."""
        mark = len(self.frames)
        await self.socket.send(json.dumps({"type": "snapshot"}))
        return (await self.frame("crash.balance", after=mark))["balance"]
