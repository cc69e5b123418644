"""The only module of the sportsbook that takes row locks.

Every write of a feed's events, markets and selections happens under the lock of the feed's row
(`SELECT … FOR UPDATE`), taken first in the transaction: a feed's batches apply one after the
other, in the order their locks are granted, so two deliveries of one batch cannot both see the
same `last_seq` and both apply it, and a market's `version` grows by exactly one per change.
Feeds never wait for each other. Code that will write a feed's markets outside a batch (the
staleness watchdog, bet intake) takes the feed's lock first, then its markets' rows in primary-key
order, so nothing can deadlock.

A circuit breaker's change (`breakers.py`) locks the breaker's row first, then the feeds whose
markets it suspends, in primary-key order; an approval locks its request's row before the
breaker's. A feed's batch never locks a breaker: it reads the breakers' state under its feed's
lock, and a breaker tripped meanwhile waits for that lock and then suspends what the batch opened.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.sportsbook.models import Breaker, BreakerRequest, Feed


def lock_feed(pk: int) -> Feed:
    """The feed, locked until the end of the caller's transaction."""
    return Feed.objects.select_for_update().get(pk=pk)


def lock_feeds(pks: Iterable[int]) -> None:
    """The feeds, locked in primary-key order until the end of the caller's transaction."""
    list(Feed.objects.select_for_update().filter(pk__in=sorted(set(pks))).order_by("pk").values_list("pk"))


def lock_breaker(name: str) -> Breaker:
    """The breaker `name` (created off the first time), locked until the end of the caller's
    transaction."""
    Breaker.objects.get_or_create(name=name)
    return Breaker.objects.select_for_update().get(name=name)


def lock_breaker_request(pk: int) -> BreakerRequest | None:
    """The breaker request, locked until the end of the caller's transaction (None: no such one)."""
    return BreakerRequest.objects.select_for_update().filter(pk=pk).first()
