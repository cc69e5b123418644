"""The staleness watchdog (contracts/sportsbook.md, "Feed"): an in-play market whose feed has said
nothing for the limit is suspended by PAM itself, within a second of the limit, and every price of
the feed is served as cached (`delayed`) until the feed is back. Clocks are controlled: the
service's `now`, and for the ticking, Django's clock and the ticker's monotonic one moved together."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.common import sweeps
from apps.common.models import OutboxEvent
from apps.sportsbook import services
from apps.sportsbook.models import Feed, Market
from apps.sportsbook.tests.factories import a_feed, event, heartbeat, live, market, post_batch, result, resume, suspend

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.SPORTSBOOK_STALE_AFTER_SECONDS = LIMIT
    settings.SPORTSBOOK_WATCHDOG_TICK_SECONDS = 0.25


@pytest.fixture
def in_play() -> Feed:
    """ev-1 in play with mk-1 and mk-2 (settled), ev-2 not started with mk-3."""
    a_feed()
    response = post_batch(
        event(1), market(2), market(3, market_id="mk-2"), live(4), result(5, market_id="mk-2", winners=["mk-2-home"]),
        event(6, event_id="ev-2"), market(7, market_id="mk-3", event_id="ev-2"),
    )  # fmt: skip
    assert response.status_code == 200
    return Feed.objects.get()


def state(market_id: str) -> tuple[str, int, int, bool]:
    return Market.objects.values_list("status", "version", "suspended_version", "watchdog_suspended").get(
        market_id=market_id
    )


def published() -> list[list[tuple[str, int, str, bool]]]:
    """Each `markets_changed` event recorded, as (market, version, status, delayed) per market."""
    rows = OutboxEvent.objects.filter(name="sportsbook.markets_changed").order_by("pk")
    return [[(m["market_id"], m["version"], m["status"], m["delayed"]) for m in row.payload["markets"]] for row in rows]


def test_a_feed_silent_for_the_limit_has_its_in_play_markets_suspended_and_its_prices_delayed(in_play):
    heard_at = in_play.last_message_at
    before = len(published())

    assert services.suspend_stale_feeds(now=heard_at + dt.timedelta(seconds=LIMIT, microseconds=-1)) == 0
    assert state("mk-1") == ("open", 1, 0, False)

    assert services.suspend_stale_feeds(now=heard_at + dt.timedelta(seconds=LIMIT)) == 1

    assert state("mk-1") == ("suspended", 2, 2, True)  # in play: suspended by PAM
    assert state("mk-2") == ("settled", 2, 0, False)  # settled: untouched
    assert state("mk-3") == ("open", 1, 0, False)  # not in play: on sale, at cached prices
    assert Feed.objects.get().stale_since == heard_at + dt.timedelta(seconds=LIMIT)
    assert published()[before:] == [[("mk-1", 2, "suspended", True), ("mk-3", 1, "open", True)]]
    # Found once: a second look changes nothing and publishes nothing.
    assert services.suspend_stale_feeds(now=heard_at + dt.timedelta(seconds=LIMIT + 5)) == 0
    assert len(published()) == before + 1


def test_a_feed_that_spoke_meanwhile_is_not_stale(in_play):
    heard_at = in_play.last_message_at
    post_batch(heartbeat(20))

    # The feed was listed as silent, then its heartbeat committed before the lock was taken.
    cutoff = heard_at + dt.timedelta(microseconds=1)
    assert services._mark_stale(in_play.pk, cutoff=cutoff, now=heard_at + dt.timedelta(seconds=LIMIT)) == 0

    assert state("mk-1") == ("open", 1, 0, False)
    assert Feed.objects.get().stale_since is None


def test_the_feed_back_clears_delayed_and_its_next_prices_lift_pams_suspension(in_play):
    services.suspend_stale_feeds(now=in_play.last_message_at + dt.timedelta(seconds=LIMIT))
    before = len(published())

    post_batch(heartbeat(20))

    assert Feed.objects.get().stale_since is None
    assert state("mk-1") == ("suspended", 2, 2, True)  # a heartbeat says nothing of the prices
    assert published()[before:] == [[("mk-1", 2, "suspended", False), ("mk-3", 1, "open", False)]]

    post_batch(market(21, prices=("3.10", "3.20", "2.40")))  # the same prices, heard again

    assert state("mk-1") == ("open", 3, 2, False)
    assert published()[-1] == [("mk-1", 3, "open", False)]


def test_the_feeds_own_suspension_of_a_market_pam_suspended_waits_for_its_resume(in_play):
    services.suspend_stale_feeds(now=in_play.last_message_at + dt.timedelta(seconds=LIMIT))

    post_batch(suspend(20, event_id="ev-1"))  # a goal while PAM had it suspended
    post_batch(market(21, prices=("2.00", "3.50", "4.00")))

    assert state("mk-1") == ("suspended", 3, 2, False)  # repriced (version 3), still suspended
    post_batch(resume(22, event_id="ev-1"))
    assert state("mk-1") == ("open", 4, 2, False)


def test_a_feed_that_never_sent_anything_is_never_stale():
    a_feed()

    assert services.suspend_stale_feeds(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert Feed.objects.get().stale_since is None


def test_the_ticking_suspends_within_a_second_of_the_limit(in_play, monkeypatch):
    """The watchdog runs as a tick of its own period (SPORTSBOOK_WATCHDOG_TICK_SECONDS), which
    the ticker keeps on its clock: from just after the last batch, with both clocks moved
    together, the market is suspended at most one period after the limit."""
    heard_at = in_play.last_message_at
    elapsed = [0.013]  # seconds since the feed's last batch: the ticker starts at any moment
    monkeypatch.setattr(timezone, "now", lambda: heard_at + dt.timedelta(seconds=elapsed[0]))
    ticker = sweeps.Ticker(clock=lambda: elapsed[0])

    while True:
        assert elapsed[0] < LIMIT + 5, "never suspended"
        wait = ticker.run_due()
        if state("mk-1")[0] == "suspended":
            break
        elapsed[0] += wait

    assert LIMIT <= elapsed[0] <= LIMIT + 0.25


def test_the_outbox_sweeper_runs_the_watchdog(in_play, monkeypatch):
    """`make serve` runs it in the sweeper process (`outbox_sweeper`, here once)."""
    later = in_play.last_message_at + dt.timedelta(seconds=LIMIT + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    call_command("outbox_sweeper", "--once", stdout=io.StringIO())

    assert state("mk-1") == ("suspended", 2, 2, True)
