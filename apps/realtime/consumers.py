"""WebSocket consumers of the real-time protocol (contracts/realtime.md).

One handler per message type; frames come from protocol.py. A refused connection is accepted and
closed at once with 4401 (not authenticated) or 4403 (not allowed), never left open and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.models import Player
from apps.realtime import protocol
from apps.realtime.groups import BACKOFFICE_FEED, player_group
from apps.wallet import selectors as wallet

NOT_AUTHENTICATED = 4401
NOT_ALLOWED = 4403


@database_sync_to_async
def _player_of(user) -> Player | None:
    return Player.objects.filter(user=user).first()


@database_sync_to_async
def _state(player_id: int) -> wallet.WalletState:
    return wallet.get_wallet_state(player_id)


@database_sync_to_async
def _catch_up(player_id: int, since_version: int) -> list[dict]:
    """Every missed frame from the ledger, or one `resync` when more than RESYNC_AFTER are missing."""
    if wallet.count_events_since(player_id, since_version) > protocol.RESYNC_AFTER:
        return [protocol.resync(wallet.get_wallet_state(player_id))]
    events = wallet.list_events_since(player_id, since_version, protocol.RESYNC_AFTER)
    return [protocol.wallet_updated(event) for event in events]


class PlayerConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/player/`: the player's own wallet frames, by session cookie or one-time ticket."""

    player_id: int | None = None
    heartbeat_task: asyncio.Task | None = None

    async def connect(self) -> None:
        player = self.scope.get("ticket_player")
        if player is None and not self.scope.get("ticket_given"):
            user = self.scope.get("user")
            if user is not None and user.is_authenticated:
                player = await _player_of(user)
                if player is None:
                    return await self._refuse(NOT_ALLOWED)
        if player is None:
            return await self._refuse(NOT_AUTHENTICATED)
        self.player_id = player.pk
        await self.channel_layer.group_add(player_group(player.pk), self.channel_name)
        await self.accept()
        await self.send_json(protocol.hello(await _state(player.pk)))
        self.heartbeat_task = asyncio.create_task(self._heartbeat())

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def _heartbeat(self) -> None:
        """The current version every HEARTBEAT_SECONDS, read from the ledger: a client that lost a
        frame on the backplane sees the gap within one period and sends `resume`."""
        while True:
            await asyncio.sleep(protocol.HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):  # a database hiccup skips one beat, not the socket
                await self.send_json(protocol.heartbeat((await _state(self.player_id)).version))

    async def disconnect(self, code: int) -> None:
        if self.heartbeat_task:
            self.heartbeat_task.cancel()
        if self.player_id is not None:
            await self.channel_layer.group_discard(player_group(self.player_id), self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "resume":
            await self.resume(content)

    async def resume(self, content: dict) -> None:
        """Replay from the ledger every frame after `since_version` (or `resync`)."""
        since = content.get("since_version")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            await self.send_json(protocol.notice("invalid_request", "resume needs a non-negative since_version"))
            return
        for frame in await _catch_up(self.player_id, since):
            await self.send_json(frame)

    async def wallet_updated(self, message: dict) -> None:
        """Forward a wallet frame; the client orders by `version` and resumes on a gap."""
        await self.send_json(message["frame"])

    async def player_notice(self, message: dict) -> None:
        await self.send_json(message["frame"])


class BackofficeFeedConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/backoffice/`: every player's wallet frames, for staff allowed to see transactions."""

    joined = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            return await self.close(code=NOT_AUTHENTICATED)
        if not (user.is_staff and await database_sync_to_async(user.has_perm)("wallet.view_transaction")):
            await self.accept()
            return await self.close(code=NOT_ALLOWED)
        await self.channel_layer.group_add(BACKOFFICE_FEED, self.channel_name)
        self.joined = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(BACKOFFICE_FEED, self.channel_name)

    async def wallet_updated(self, message: dict) -> None:
        await self.send_json(message["frame"])
