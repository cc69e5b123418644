"""The crash room's socket, `/ws/studio/crash/?session=<session key>` (docs/crash-room.md,
"Protocol"). Thin: it authenticates the session, registers with this process's relay of the room's
frames (crash_relay.py), sends the snapshot and then the balance, and hands bets and cash-outs to
crash_room, each in a task of its own so that a slow wallet call never holds back the room's frames
on this socket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import parse_qs

import structlog
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.studio import crash_relay, crash_room

logger = structlog.get_logger(__name__)

CLOSE_UNAUTHENTICATED = 4401
MAX_IN_FLIGHT = 4  # requests of one socket being handled at once; more are refused


class CrashConsumer(AsyncJsonWebsocketConsumer):
    # No channel of its own: the room's frames come through the process's relay, and a consumer
    # channel would be read by Channels' per-consumer receive loop, which takes messages from the
    # process's list that realtime's mailroom reads for PAM's own sockets (mailroom.py).
    channel_layer_alias = None
    session = None

    async def connect(self) -> None:
        keys = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("session") or [""]
        # Registered before the snapshot is read: every frame after it reaches this socket, and
        # the ones queued meanwhile are written after it.
        self.relay = crash_relay.relay(crash_room.GROUP)
        self.relay.hold(self)
        joined = await crash_room.join(keys[0])
        if joined is None:
            self.relay.leave(self)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session, snapshot = joined
        self.tasks: set[asyncio.Task] = set()
        crash_room.ensure_runner()
        await self.accept()
        await self.send_json(snapshot)
        self.relay.release(self)
        # The balance is the wallet's, over HTTP: it follows the snapshot rather than delaying it.
        self._spawn(self._send_balance())

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Text that is not JSON is answered INVALID_REQUEST (below), not by closing the socket."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            self.relay.leave(self)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.session is None:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        request_id = content.get("request_id") if isinstance(content, dict) else None
        if kind == "snapshot":
            with contextlib.suppress(Exception):
                await self.relay.rejoin()  # Redis may have forgotten the relay's membership
            await self.send_json(await crash_room.snapshot(self.session))
            self._spawn(self._send_balance())
        elif kind in ("bet", "cashout"):
            if len(self.tasks) >= MAX_IN_FLIGHT:
                await self._refuse(request_id, "TOO_MANY_REQUESTS", "Wait for the answers to your requests.")
                return
            self._spawn(self._handle(kind, request_id, content))
        else:
            await self._refuse(request_id, "INVALID_REQUEST", "Unknown request type.")

    async def _handle(self, kind: str, request_id: Any, content: dict) -> None:
        try:
            if kind == "bet":
                placed = await crash_room.place_bet(self.session, content.get("stake"))
                reply = {"type": "crash.bet_accepted", "request_id": request_id, "number": placed.number}
                reply["balance"] = placed.balance
            else:
                done = await crash_room.cash_out(self.session)
                reply = {
                    "type": "crash.cashed_out",
                    "request_id": request_id,
                    "number": done.number,
                    "cashout_x100": done.cashout_x100,
                    "win": done.win,
                    "balance": done.balance,
                }
        except crash_room.Refused as refused:
            await self._refuse(request_id, refused.code, refused.message)
            return
        except Exception:
            logger.exception("studio.crash.request_failed", kind=kind)
            await self._refuse(request_id, "INTERNAL_ERROR", "Something went wrong. Try again.")
            return
        with contextlib.suppress(Exception):  # the socket may have closed meanwhile
            await self.send_json(reply)

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send_balance(self) -> None:
        balance = await crash_room.balance_of(self.session)
        if balance is not None:
            with contextlib.suppress(Exception):  # the socket may have closed meanwhile
                await self.send_json({"type": "crash.balance", "balance": balance})

    async def _refuse(self, request_id: Any, code: str, message: str) -> None:
        with contextlib.suppress(Exception):
            await self.send_json({"type": "crash.refused", "request_id": request_id, "code": code, "message": message})
