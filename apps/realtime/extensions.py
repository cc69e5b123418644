"""What other apps add to a player's socket (`/ws/player/`), without the real-time app calling
them: each registers a `PlayerSocketExtension` at start-up, in its AppConfig.ready(), and the
consumer calls every registered extension in a fixed order (`order`, then `name`).

Two things can be added:

- `refusal(player)`: at connect, before `hello`: a `Notice`, or None. The first extension that
  returns a notice has the socket accepted only to send it, then closed 4403 (the player
  may be logged in, e.g. to withdraw, but gets no live play socket).
- a timer: `first_due(player)` gives the time it is first due (or None: no timer), read at
  connect; when it fires, `when_due(player_id, due_at)` runs and returns the next due time (or
  None: the timer stops). The consumer keeps one asyncio timer per extension that has one, never
  a task per socket while it waits; an exception in `when_due` stops that timer for this socket.

`refusal`, `first_due` and `when_due` are synchronous and run in the database thread
(`database_sync_to_async`); `player` is the accounts app's Player as loaded at connect. They
must be cheap for the player with nothing to check: they run at every connect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.accounts.models import Player


@dataclass(frozen=True)
class Notice:
    """A `notice` frame's content (contracts/realtime.md); data holds JSON values only."""

    kind: str
    message: str
    data: dict | None = None


@dataclass(frozen=True)
class PlayerSocketExtension:
    name: str
    order: int = 100
    refusal: Callable[[Player], Notice | None] | None = None
    first_due: Callable[[Player], dt.datetime | None] | None = None
    when_due: Callable[[int, dt.datetime], dt.datetime | None] | None = None

    def __post_init__(self) -> None:
        if (self.first_due is None) != (self.when_due is None):
            raise ValueError(f"{self.name}: a timer needs both first_due and when_due.")

    @property
    def has_timer(self) -> bool:
        return self.first_due is not None


_registered: dict[str, PlayerSocketExtension] = {}
_ordered: tuple[PlayerSocketExtension, ...] = ()


def register(extension: PlayerSocketExtension) -> None:
    """Add (or, under the same name, replace: ready() may run twice in tests) an extension."""
    global _ordered
    _registered[extension.name] = extension
    _ordered = tuple(sorted(_registered.values(), key=lambda e: (e.order, e.name)))


def unregister(name: str) -> None:
    global _ordered
    _registered.pop(name, None)
    _ordered = tuple(sorted(_registered.values(), key=lambda e: (e.order, e.name)))


def player_socket_extensions() -> tuple[PlayerSocketExtension, ...]:
    """Every registered extension, in the order the consumer calls them."""
    return _ordered


@dataclass(frozen=True)
class AtConnect:
    """What the extensions say about a socket at connect: a refusal notice, or the due times of
    their timers (one per extension with a timer and something due)."""

    refusal: Notice | None
    timers: tuple[tuple[PlayerSocketExtension, dt.datetime], ...]


def at_connect(player: Player) -> AtConnect:
    """Ask every extension, in order (synchronous: call it in the database thread)."""
    timers = []
    for extension in _ordered:
        if extension.refusal is not None:
            notice = extension.refusal(player)
            if notice is not None:
                return AtConnect(refusal=notice, timers=())
        if extension.has_timer:
            due_at = extension.first_due(player)
            if due_at is not None:
                timers.append((extension, due_at))
    return AtConnect(refusal=None, timers=tuple(timers))
