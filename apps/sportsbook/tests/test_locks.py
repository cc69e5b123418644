"""A feed's batches apply one at a time under the feed's row lock, on real concurrent
connections: the same batch delivered three times at once is applied once and skipped twice, and
each market's version grows by exactly one per change."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from apps.sportsbook import feed as messages
from apps.sportsbook import services
from apps.sportsbook.models import Feed, Market, Selection
from apps.sportsbook.tests.factories import a_feed, event, market, post_batch, suspend
from tests.concurrency.test_payments import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def batch(*bodies: dict) -> list[messages.Message]:
    return messages.parse_batch(json.dumps({"messages": list(bodies)}).encode())


def test_one_batch_delivered_three_times_at_once_is_applied_once():
    feed = a_feed()
    post_batch(event(1), market(2))
    resent = batch(market(3, prices=("2.00", "3.00", "4.00")), suspend(4, market_id="mk-1"))

    results = race(*[lambda: services.apply_feed_batch(feed_id=feed.pk, batch=resent)] * 3)

    assert sorted((r.applied, r.skipped) for r in results) == [(0, 2), (0, 2), (2, 0)], results
    assert Market.objects.values_list("status", "version", "suspended_version").get() == ("suspended", 3, 3)
    assert Feed.objects.get().last_seq == 4


def test_batches_of_one_feed_at_once_each_raise_the_version_once():
    feed = a_feed()
    post_batch(event(1), market(2))
    repricings = [batch(market(seq, prices=(f"2.{seq % 10}0", "3.00", "4.00"))) for seq in (11, 12, 13, 14)]

    results = race(*[lambda b=b: services.apply_feed_batch(feed_id=feed.pk, batch=b) for b in repricings])

    # Whatever order the locks were granted in, the highest seq is applied last or alone, and a
    # batch behind a higher one is skipped: never applied twice, never lost under another.
    applied = sum(r.applied for r in results)
    assert 1 <= applied <= 4
    assert sum(r.skipped for r in results) == 4 - applied
    assert Market.objects.values_list("version", flat=True).get() == 1 + applied
    assert Feed.objects.get().last_seq == 14
    assert Selection.objects.get(selection_id="mk-1-home").price == Decimal("2.40")
