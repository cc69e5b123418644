"""Reads of the realtime app: what a client that holds a given wallet version has missed, and how
many player sockets are open (`players_online`).

The WebSocket `resume` and the polling endpoint answer with this one function, so the two ways of
catching up (contracts/realtime.md) cannot drift apart.
"""

from __future__ import annotations

import redis
import structlog
from channels.layers import get_channel_layer

from apps.realtime import feed, protocol
from apps.realtime.presence import presence_of
from apps.wallet import selectors as wallet

logger = structlog.get_logger(__name__)


def list_frames_since(player_id: int, since_version: int) -> list[dict]:
    """The frames a client holding `since_version` has missed: every `wallet.updated` after it,
    in version order, rebuilt from the ledger; or one `resync` with the current state when more
    than `protocol.RESYNC_AFTER` are missing; nothing when it is up to date (or ahead).

    Raises wallet.errors.UnknownPlayer for a player that does not exist.
    """
    state = wallet.get_wallet_state(player_id)
    missing = state.version - since_version
    if missing <= 0:
        return []
    if missing > protocol.RESYNC_AFTER:
        return [protocol.resync(state)]
    events = wallet.list_events_since(player_id, since_version, protocol.RESYNC_AFTER)
    return [protocol.wallet_updated(event) for event in events]


def feed_event_types_for(user) -> list[str]:
    """The back-office feed's event types this staff member may receive (feed.py's table), in the
    table's order: the pages show a filter only for what can arrive."""
    if not user.is_staff:
        return []
    allowed = feed.allowed_events(user.has_perm)
    return [event for event in feed.EVENT_TYPES if event in allowed]


def players_online() -> int | None:
    """Player sockets open now across every server process (presence.py: each counted from its
    connect until its disconnect, or until its heartbeats stop); None, logged, when Redis does not
    answer (a page showing the figure still renders)."""
    try:
        return presence_of(get_channel_layer()).count()
    except (redis.RedisError, OSError) as exc:
        logger.warning("realtime.presence_unreadable", error=repr(exc))
        return None
