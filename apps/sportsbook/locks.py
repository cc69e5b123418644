"""The only module of the sportsbook that takes row locks.

Every write of a feed's events, markets and selections happens under the lock of the feed's row
(`SELECT … FOR UPDATE`), taken first in the transaction: a feed's batches apply one after the
other, in the order their locks are granted, so two deliveries of one batch cannot both see the
same `last_seq` and both apply it, and a market's `version` grows by exactly one per change.
Feeds never wait for each other. Code that will write a feed's markets outside a batch (the
staleness watchdog, bet intake) takes the feed's lock first, then its markets' rows in primary-key
order, so nothing can deadlock.
"""

from __future__ import annotations

from apps.sportsbook.models import Feed


def lock_feed(pk: int) -> Feed:
    """The feed, locked until the end of the caller's transaction."""
    return Feed.objects.select_for_update().get(pk=pk)
