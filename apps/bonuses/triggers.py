"""The per-process cache of the open wagering-threshold campaigns that keeps the bet path free.

Every bet of every player is offered to the threshold trigger (services.grant_for_wagering);
with no open threshold campaign in the bet's currency that must cost no query. The enabled
threshold campaigns are loaded in one query at most every `CACHE_SECONDS` and forgotten at once in
the process that saves a campaign (receivers.forget_saved_campaign; other processes see a change
within `CACHE_SECONDS`), as compliance's rule cache (`compliance/engine.py`). Beside it, this process
remembers which (campaign, player, period) it has settled (granted, or refused for good), so a
player's later bets in that period cost no query either.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.utils import timezone

from apps.bonuses import selectors

CACHE_SECONDS = 5.0
# The settled (campaign, player, period) memo is forgotten whole when it grows past this: at
# worst a player's next bet reads the ledger once more and finds the grant already made.
SETTLED_MAX = 50_000


@dataclass(frozen=True)
class ThresholdCampaign:
    """An enabled wagering-threshold campaign as the bet path reads it (no model instance)."""

    pk: int
    currency: str | None  # None: every wallet currency
    threshold: int
    period_days: int
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    allow_concurrent: bool

    def is_open(self, now: dt.datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or self.ends_at > now)


_lock = threading.Lock()
_cache: tuple[float, tuple[ThresholdCampaign, ...]] | None = None
_settled: set[tuple[int, int, dt.datetime]] = set()


def threshold_campaigns(currency: str, now: dt.datetime | None = None) -> list[ThresholdCampaign]:
    """The wagering-threshold campaigns open now in `currency`, from this process's cache (loaded
    again after CACHE_SECONDS, or after `forget`): no query while the cache is fresh."""
    global _cache
    cached = _cache
    clock = time.monotonic()
    if cached is None or clock - cached[0] >= CACHE_SECONDS:
        loaded = tuple(
            ThresholdCampaign(
                pk=c.pk,
                currency=c.currency_id,
                threshold=c.wagering_threshold,
                period_days=c.wagering_period_days,
                starts_at=c.starts_at,
                ends_at=c.ends_at,
                allow_concurrent=c.allow_concurrent,
            )
            for c in selectors.enabled_threshold_campaigns()
        )
        with _lock:
            _cache = cached = (clock, loaded)
    if not cached[1]:
        return []
    now = now or timezone.now()
    return [c for c in cached[1] if c.currency in (None, currency) and c.is_open(now)]


def forget() -> None:
    """Drop this process's cached campaigns and settled periods: the next bet reads them again
    (after a campaign is saved)."""
    global _cache
    with _lock:
        _cache = None
        _settled.clear()


def is_settled(campaign_id: int, player_id: int, period_start: dt.datetime) -> bool:
    return (campaign_id, player_id, period_start) in _settled


def settle(campaign_id: int, player_id: int, period_start: dt.datetime) -> None:
    """Remember that the player's period of this campaign needs nothing more in this process."""
    with _lock:
        if len(_settled) >= SETTLED_MAX:
            _settled.clear()
        _settled.add((campaign_id, player_id, period_start))
