"""The sportsbook's receivers of its own domain events (apps.common.events: after commit, again by
the outbox's sweeper after a crash)."""

from __future__ import annotations

import datetime as dt

from apps.sportsbook import services


def suspend_throttled_markets(sender, *, markets: list[int], crossed_at: str, **_: object) -> None:
    """`signals.markets_throttled`: suspend the markets whose liability throttle a bet crossed.
    A repeat is harmless (`services.suspend_throttled_market`)."""
    services.suspend_throttled_markets(market_pks=markets, crossed_at=dt.datetime.fromisoformat(crossed_at))
