"""The sportsbook's demo book (apps/sportsbook/demo.py, seeded by `seed_demo`) and the demo feed's
heartbeat (`services.beat_demo_feed`): `make run` has no feed process, so its server's ticks send
the heartbeat of the feed SPORTSBOOK_DEMO_FEED names, before the watchdog looks, and the demo's
live event stays on sale. Nothing is sent for a feed that is not named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.common import sweeps
from apps.sportsbook import demo, services
from apps.sportsbook.models import Bet, Event, Feed, Market
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

SECRET = "demo-secret-0123456789"


def test_the_book_has_upcoming_events_and_a_live_one_each_with_match_odds_and_totals():
    now = dt.datetime(2026, 12, 5, 12, 30, tzinfo=dt.UTC)

    feed = demo.seed(secret=SECRET, players={}, now=now)

    assert (feed.code, feed.secret, feed.last_seq) == ("demo", SECRET, 13)
    fields = ("event_id", "name", "status", "starts_at", "in_play_delay_s")
    assert list(Event.objects.order_by("starts_at").values_list(*fields)) == [
        ("demo-live", "Kingsport v Lakeside", "live", now - dt.timedelta(minutes=35), 5),
        ("demo-1", "Harbour City v Riverside", "upcoming", dt.datetime(2026, 12, 6, 18, tzinfo=dt.UTC), 5),
        ("demo-2", "Northgate v Southport Athletic", "upcoming", dt.datetime(2026, 12, 6, 20, tzinfo=dt.UTC), 5),
        ("demo-3", "Westfield Rovers v Eastbrook", "upcoming", dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC), 5),
    ]  # fmt: skip
    markets = Market.objects.filter(event__event_id="demo-1").order_by("pk")
    assert [(m.market_id, m.status, m.version) for m in markets] == [
        ("demo-1-1x2", "open", 1), ("demo-1-ou25", "open", 1)
    ]  # fmt: skip
    assert [(s.selection_id, s.name, str(s.price)) for s in markets[0].selections.order_by("position")] == [
        ("demo-1-1x2-home", "Harbour City", "2.10"), ("demo-1-1x2-draw", "Draw", "3.40"),
        ("demo-1-1x2-away", "Riverside", "3.60"),
    ]  # fmt: skip


def test_seeding_again_moves_no_version_places_no_bet_and_reopens_what_the_watchdog_suspended(settings):
    settings.SPORTSBOOK_STALE_AFTER_SECONDS = 10
    alice = funded_player(10_000, username="alice")
    feed = demo.seed(secret=SECRET, players={"alice": alice})
    bets = list(Bet.objects.values_list("public_id", "status", "stake", "potential_payout"))
    assert [row[1:] for row in bets] == [("accepted", 1_000, 2_100), ("accepted", 500, 2_880)]
    # The demo feed silent (no server ran): its live markets are suspended by the watchdog.
    assert services.suspend_stale_feeds(now=timezone.now() + dt.timedelta(seconds=11)) == 1
    assert Market.objects.get(market_id="demo-live-1x2").status == "suspended"

    again = demo.seed(secret=SECRET, players={"alice": alice})

    assert again.last_seq == feed.last_seq + 13
    assert list(Bet.objects.values_list("public_id", "status", "stake", "potential_payout")) == bets
    assert sorted(Market.objects.values_list("market_id", "status", "version")) == sorted(
        [(f"demo-{n}-{m}", "open", 1) for n in (1, 2, 3) for m in ("1x2", "ou25")]
        + [("demo-live-1x2", "open", 3), ("demo-live-ou25", "open", 3)]  # suspended, then reopened
    )


def test_the_named_demo_feed_gets_a_heartbeat_that_ends_its_staleness(settings):
    settings.SPORTSBOOK_DEMO_FEED = "demo"
    feed = demo.seed(secret=SECRET, players={})
    services.suspend_stale_feeds(now=timezone.now() + dt.timedelta(seconds=11))

    assert services.beat_demo_feed() == 1

    beaten = Feed.objects.get(pk=feed.pk)
    assert (beaten.last_seq, beaten.stale_since) == (feed.last_seq + 1, None)
    assert beaten.last_message_at > feed.last_message_at


def test_no_feed_named_no_heartbeat_and_no_query(settings):
    settings.SPORTSBOOK_DEMO_FEED = ""
    feed = demo.seed(secret=SECRET, players={})

    with CaptureQueriesContext(connection) as queries:
        assert services.beat_demo_feed() == 0
    settings.SPORTSBOOK_DEMO_FEED = "no-such-feed"
    assert services.beat_demo_feed() == 0

    assert len(queries) == 0
    assert Feed.objects.get(pk=feed.pk).last_seq == feed.last_seq


def test_the_heartbeat_runs_before_the_watchdog_on_a_pass():
    """A server started more than the limit after the seeding speaks for the demo feed on its
    first pass before the watchdog looks at it."""
    names = list(sweeps._ticks)
    assert names.index("sportsbook.beat_demo_feed") < names.index("sportsbook.suspend_stale_feeds")
