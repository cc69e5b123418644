"""An in-play feed reprices every market every few seconds: a batch's round trips are pinned, per
request and per message, so a change that adds one to each message shows here. A bet's
statements are pinned too, whatever the number of its legs."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from apps.common.errors import PamError
from apps.sportsbook import breakers, intake, services
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.tests.factories import a_feed, a_match, event, heartbeat, market, post_batch, suspend
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

MARKETS = 5
# A batch that changed markets publishes them once, whatever their number: their states with
# their events, their selections, and the outbox row of `markets_changed`.
PUBLICATION = 3


@pytest.fixture
def five_markets():
    a_feed()
    post_batch(event(1), *[market(2 + n, market_id=f"mk-{n}") for n in range(MARKETS)])


def test_a_batch_costs_five_round_trips_besides_its_messages(five_markets, django_assert_num_queries):
    # The feed's look-up, the savepoint of the service's transaction (a test's own transaction
    # holds it) and its release, the feed's lock and its update.
    with django_assert_num_queries(5):
        response = post_batch(heartbeat(100))

    assert response.json() == {"applied": 1, "skipped": 0}


def test_a_repricing_costs_four_round_trips_and_the_batch_one_publication(five_markets, django_assert_num_queries):
    # Per market: the market with its event, its selections, their new prices, the market's version.
    repricings = [market(200 + n, market_id=f"mk-{n}", prices=("2.00", "3.50", "3.90")) for n in range(MARKETS)]

    with django_assert_num_queries(5 + 4 * MARKETS + PUBLICATION):
        response = post_batch(*repricings)

    assert response.json() == {"applied": MARKETS, "skipped": 0}


def test_suspending_an_event_costs_three_round_trips_and_one_publication(five_markets, django_assert_num_queries):
    # The event, its markets, and one update of them all.
    with django_assert_num_queries(5 + 3 + PUBLICATION):
        response = post_batch(suspend(300, event_id="ev-1"))

    assert response.json() == {"applied": 1, "skipped": 0}


def test_a_repricing_under_a_circuit_breaker_costs_the_same(five_markets, django_assert_num_queries):
    # The breakers are read only by a message that could open an in-play market or a kick-off:
    # repricing open markets never reads them.
    breakers.trip("suspend_in_play", "pinned")
    breakers.trip("cached_prices", "pinned")
    repricings = [market(200 + n, market_id=f"mk-{n}", prices=("2.00", "3.50", "3.90")) for n in range(MARKETS)]

    with django_assert_num_queries(5 + 4 * MARKETS + PUBLICATION):
        response = post_batch(*repricings)

    assert response.json() == {"applied": MARKETS, "skipped": 0}


# --- bets ------------------------------------------------------------------------------------------


def test_a_bet_costs_its_statements_whatever_its_legs(django_assert_num_queries):
    a_match(markets=("mk-1", "mk-2", "mk-3"))
    player = funded_player(100_000)
    legs = [LegRequest(f"mk-{n}-home", Decimal("3.10"), 1) for n in (1, 2, 3)]
    services.place_bet(player=player, idempotency_key="first", stake=100, currency="EUR", legs=legs,
                       accept_price_changes="none")  # fmt: skip

    # Before the money: the legs with the stake factor and the circuit breakers' state, one
    # statement (a replay of the key is the wallet's look-up's to find, and the exposure rows
    # exist). Then, for a free player, one statement: sportsbook_place_bet, the wallet's bet
    # function (the lock, the look-up, the stake's write), the bet with its legs (each written
    # only if its market is as read before the money), the exposure rows locked and grown; in
    # autocommit outside a test's transaction, here within a savepoint.
    with django_assert_num_queries(1 + 3) as captured:
        services.place_bet(player=player, idempotency_key="second", stake=100, currency="EUR", legs=legs,
                           accept_price_changes="none")  # fmt: skip

    statements = [query["sql"].split(" ", 1)[0] for query in captured.captured_queries]
    assert statements == ["SELECT", "SAVEPOINT", "SELECT", "RELEASE"]
    assert "sportsbook_place_bet" in captured.captured_queries[2]["sql"]
    # The breakers are read once, before the money transaction: no longer under the player's lock.
    breaker_reads = [n for n, query in enumerate(captured.captured_queries) if "sportsbook_breaker" in query["sql"]]
    assert breaker_reads == [0]


# The bet's write: sportsbook_place_bet's call, or the participant's write with its exposure when
# that statement is not used (one text per number of legs, one VALUES row each, and of exposure
# rows, each a parameter of its own).
BET_WRITES = {
    "statement": "SELECT * FROM sportsbook_place_bet(%%",
    "participant": "WITH b AS (INSERT INTO sportsbook_bet%%",
}


@pytest.mark.parametrize("write", list(BET_WRITES))
@pytest.mark.parametrize("legs", [1, 3])
def test_the_legs_read_and_the_bets_write_keep_one_plan_for_any_slip_of_its_size(legs, write):
    # PostgreSQL keeps a prepared statement's generic plan once it is estimated no dearer than
    # one for the values at hand; the legs' read is one of every bet's statements, and planning
    # it cost more than running it. Placed often enough on one connection, a slip's read is
    # executed on the generic plan (pg_prepared_statements counts both kinds of plan).
    a_match(markets=("mk-1", "mk-2", "mk-3"))
    player = funded_player(1_000_000)
    ways = (
        contextlib.nullcontext()
        if write == "statement"
        else mock.patch.object(intake, "statement_of", return_value=None)
    )
    with ways:
        for n in range(12):
            slip = [LegRequest(f"mk-{m}-{('home', 'draw', 'away')[n % 3]}", Decimal("3.10"), 1) for m in (1, 2, 3)]
            with contextlib.suppress(PamError):  # a price that is not the one on sale: refused, read all the same
                services.place_bet(player=player, idempotency_key=f"key-{n}", stake=100, currency="EUR",
                                   legs=slip[:legs], accept_price_changes="any")  # fmt: skip

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT s.id, s.selection_id%%sportsbook_stakefactor%%'"
        )
        # This connection may hold the read of other sizes too: the one with this slip's
        # parameters (the player, the currency and one per leg).
        [(generic, custom)] = [(g, c) for text, g, c in cursor.fetchall() if text.count("$") == 2 + legs]
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [BET_WRITES[write].replace("%%", "%")],
        )
        found = cursor.fetchall()
        if write == "participant":
            found = [row for row in found if row[0].count("::smallint") == legs]
        [(_, bet_generic, bet_custom)] = found
    assert generic >= 1
    assert custom <= 5
    assert bet_generic >= 1
    assert bet_custom <= 5
