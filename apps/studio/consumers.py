"""The crash room's socket, `/ws/studio/crash/?session=<session key>` (docs/crash-room.md,
"Protocol"). Thin: it authenticates the session, sends the snapshot, joins the room's group and
hands bets and cash-outs to crash_room, each in a task of its own so that a slow wallet call never
holds back the room's frames on this socket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import parse_qs

import structlog
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.studio import crash_room
from apps.studio.sessions import find_session

logger = structlog.get_logger(__name__)

CLOSE_UNAUTHENTICATED = 4401
MAX_IN_FLIGHT = 4  # requests of one socket being handled at once; more are refused


class CrashConsumer(AsyncJsonWebsocketConsumer):
    session = None

    async def connect(self) -> None:
        keys = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("session") or [""]
        session = await find_session(keys[0])
        if session is None or session.game_code != crash_room.GAME_CODE:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session = session
        self.tasks: set[asyncio.Task] = set()
        crash_room.ensure_runner()
        # Joined before the snapshot is read: every frame after it reaches this socket, and the
        # ones queued meanwhile are sent after it (a consumer handles one message at a time).
        await self.channel_layer.group_add(crash_room.GROUP, self.channel_name)
        await self.accept()
        await self.send_json(await crash_room.snapshot(session))

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Text that is not JSON is answered INVALID_REQUEST (below), not by closing the socket."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(crash_room.GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.session is None:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        request_id = content.get("request_id") if isinstance(content, dict) else None
        if kind == "snapshot":
            await self.channel_layer.group_add(crash_room.GROUP, self.channel_name)  # Redis may have forgotten it
            await self.send_json(await crash_room.snapshot(self.session))
        elif kind in ("bet", "cashout"):
            if len(self.tasks) >= MAX_IN_FLIGHT:
                await self._refuse(request_id, "TOO_MANY_REQUESTS", "Wait for the answers to your requests.")
                return
            task = asyncio.create_task(self._handle(kind, request_id, content))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
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

    async def _refuse(self, request_id: Any, code: str, message: str) -> None:
        with contextlib.suppress(Exception):
            await self.send_json({"type": "crash.refused", "request_id": request_id, "code": code, "message": message})

    async def crash_frame(self, event: dict) -> None:
        await self.send_json(event["frame"])
