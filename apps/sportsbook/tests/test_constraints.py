"""The database itself guards the sportsbook's invariants: these tests go around the ORM and the
services with raw SQL, as a script or a person at psql would, and PostgreSQL refuses, naming the
constraint."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from apps.sportsbook.models import Feed, Market, Selection
from apps.sportsbook.tests.factories import a_feed, event, market, post_batch

pytestmark = pytest.mark.django_db


def refused(statement: str, params: tuple = ()) -> str:
    """Run `statement` in a savepoint, expect the database to refuse it, and return its message."""
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return str(error.value)


@pytest.fixture
def a_market() -> Market:
    a_feed()
    assert post_batch(event(1), market(2)).status_code == 200
    return Market.objects.get()


@pytest.mark.parametrize("price", ["1.00", "0.50", "-2.00"])
def test_a_price_of_one_or_less_is_refused(a_market, price):
    selection = Selection.objects.first()

    message = refused("UPDATE sportsbook_selection SET price = %s WHERE id = %s", (price, selection.pk))

    assert "sportsbook_selection_price_above_one" in message


def test_a_price_keeps_two_places(a_market):
    selection = Selection.objects.first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sportsbook_selection SET price = 2.345 WHERE id = %s", (selection.pk,))
    selection.refresh_from_db()

    assert str(selection.price) == "2.35"  # numeric(7, 2): the column holds two places, never more


def test_an_unknown_market_status_is_refused(a_market):
    message = refused("UPDATE sportsbook_market SET status = 'closed' WHERE id = %s", (a_market.pk,))

    assert "sportsbook_market_status_known" in message


def test_an_unknown_event_status_is_refused(a_market):
    message = refused("UPDATE sportsbook_event SET status = 'postponed' WHERE id = %s", (a_market.event_id,))

    assert "sportsbook_event_status_known" in message


def test_a_suspension_after_the_markets_version_is_refused(a_market):
    message = refused("UPDATE sportsbook_market SET suspended_version = version + 1 WHERE id = %s", (a_market.pk,))

    assert "sportsbook_market_suspended_version_range" in message


def test_a_version_below_one_is_refused(a_market):
    message = refused("UPDATE sportsbook_market SET version = 0 WHERE id = %s", (a_market.pk,))

    assert "sportsbook_market_version_positive" in message


def test_a_suspended_market_without_its_suspensions_version_is_refused(a_market):
    message = refused("UPDATE sportsbook_market SET status = 'suspended' WHERE id = %s", (a_market.pk,))

    assert "sportsbook_market_suspension_recorded" in message


def test_settled_and_settled_at_go_together(a_market):
    settled = refused("UPDATE sportsbook_market SET status = 'settled' WHERE id = %s", (a_market.pk,))
    resulted = refused("UPDATE sportsbook_market SET settled_at = now() WHERE id = %s", (a_market.pk,))

    assert "sportsbook_market_settled_when_resulted" in settled
    assert "sportsbook_market_settled_when_resulted" in resulted


def test_an_in_play_delay_out_of_range_is_refused(a_market):
    message = refused("UPDATE sportsbook_event SET in_play_delay_s = 601 WHERE id = %s", (a_market.event_id,))

    assert "sportsbook_event_in_play_delay_range" in message


def test_a_market_id_is_unique_in_its_feed(a_market):
    message = refused(
        "INSERT INTO sportsbook_market (feed_id, event_id, market_id, name, status, version, suspended_version, "
        "last_word_at, winners, void) SELECT feed_id, event_id, market_id, name, status, version, "
        "suspended_version, last_word_at, winners, void FROM sportsbook_market WHERE id = %s",
        (a_market.pk,),
    )

    assert "sportsbook_market_id_unique_per_feed" in message


def test_a_markets_feed_is_its_events_feed(a_market):
    other = Feed.objects.create(code="rival", secret="rival-secret")

    message = refused("UPDATE sportsbook_market SET feed_id = %s WHERE id = %s", (other.pk, a_market.pk))

    assert "sportsbook_market_event_of_its_feed" in message


def test_a_selection_id_is_unique_in_its_market(a_market):
    message = refused(
        "INSERT INTO sportsbook_selection (market_id, selection_id, name, price, position) "
        "SELECT market_id, selection_id, name, price, position + 10 FROM sportsbook_selection WHERE id = %s",
        (Selection.objects.first().pk,),
    )

    assert "sportsbook_selection_id_unique_per_market" in message


def test_an_event_id_is_unique_in_its_feed(a_market):
    message = refused(
        "INSERT INTO sportsbook_event (feed_id, event_id, name, sport, starts_at, in_play_delay_s, status, "
        "created_at, updated_at) SELECT feed_id, event_id, name, sport, starts_at, in_play_delay_s, status, "
        "now(), now() FROM sportsbook_event WHERE id = %s",
        (a_market.event_id,),
    )

    assert "sportsbook_event_id_unique_per_feed" in message


def test_a_feed_needs_a_secret_and_a_sequence_of_at_least_zero():
    feed = a_feed()

    assert "sportsbook_feed_secret_set" in refused("UPDATE sportsbook_feed SET secret = '' WHERE id = %s", (feed.pk,))
    assert "sportsbook_feed_last_seq_not_negative" in refused(
        "UPDATE sportsbook_feed SET last_seq = -1 WHERE id = %s", (feed.pk,)
    )
