"""`list_transactions_page`: the player's history page, newest first, filtered and paginated,
with the playable balance after each movement; another player's movements never appear."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.choices import KycStatus
from apps.accounts.models import Player
from apps.wallet import selectors, services
from apps.wallet.choices import clearing_code
from apps.wallet.tests.factories import a_ref, bet, funded_player, grant_bonus, win

pytestmark = pytest.mark.django_db

DAY_1 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
DAY_2 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
DAY_3 = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def history():
    """Given a player funded 100.00 on day 1, who bets 10.00 and wins 25.00 on day 2, gets a
    5.00 bonus and bets 30.00 on day 3 (a zero win too, which moves nothing); and another
    player with movements of their own."""
    with time_machine.travel(DAY_1, tick=False):
        player = funded_player(10_000)
        other = funded_player(777)
    with time_machine.travel(DAY_2, tick=False):
        bet(player, 1_000)
        win(player, 2_500)
        bet(other, 100)
    with time_machine.travel(DAY_3, tick=False):
        grant_bonus(player, 500)
        bet(player, 3_000, round_id="round-2")
        win(player, 0, round_id="round-2")
    return player


def summary(page: selectors.HistoryPage) -> list[tuple]:
    return [(row.version, row.kind, row.amount, row.balance_after) for row in page.rows]


def test_every_movement_newest_first_with_the_balance_after_each(history):
    page = selectors.list_transactions_page(history.pk)

    assert summary(page) == [
        (5, "bet", -3_000, 9_000),
        (4, "bonus", 500, 12_000),
        (3, "win", 2_500, 11_500),
        (2, "bet", -1_000, 9_000),
        (1, "adjustment", 10_000, 10_000),
    ]
    assert (page.number, page.pages, page.total, page.has_previous, page.has_next) == (1, 1, 5, False, False)
    assert {row.currency for row in page.rows} == {"EUR"}
    assert page.rows[-1].created_at == DAY_1


def test_filter_by_kinds(history):
    page = selectors.list_transactions_page(history.pk, kinds=["bet", "win"])

    assert summary(page) == [(5, "bet", -3_000, 9_000), (3, "win", 2_500, 11_500), (2, "bet", -1_000, 9_000)]
    assert page.total == 3


def test_an_unknown_kind_is_ignored_rather_than_matching_nothing(history):
    assert selectors.list_transactions_page(history.pk, kinds=["nonsense"]).total == 5


def test_filter_by_dates_since_inclusive_until_exclusive(history):
    page = selectors.list_transactions_page(history.pk, since=DAY_2, until=DAY_3)

    assert summary(page) == [(3, "win", 2_500, 11_500), (2, "bet", -1_000, 9_000)]
    assert summary(selectors.list_transactions_page(history.pk, since=DAY_3)) == [
        (5, "bet", -3_000, 9_000),
        (4, "bonus", 500, 12_000),
    ]
    assert selectors.list_transactions_page(history.pk, until=DAY_1).total == 0


def test_pages_of_two(history):
    first = selectors.list_transactions_page(history.pk, page_size=2)
    second = selectors.list_transactions_page(history.pk, page=2, page_size=2)
    third = selectors.list_transactions_page(history.pk, page=3, page_size=2)

    assert [row.version for row in first.rows] == [5, 4]
    assert [row.version for row in second.rows] == [3, 2]
    assert [row.version for row in third.rows] == [1]
    assert (first.pages, first.has_previous, first.has_next) == (3, False, True)
    assert (second.has_previous, second.has_next) == (True, True)
    assert (third.has_previous, third.has_next) == (True, False)


def test_a_page_out_of_range_is_clamped(history):
    assert selectors.list_transactions_page(history.pk, page=99, page_size=2).number == 3
    assert selectors.list_transactions_page(history.pk, page=0, page_size=2).number == 1
    assert selectors.list_transactions_page(history.pk, page_size=10_000).page_size == 100


def test_a_player_without_movements_has_one_empty_page():
    player = funded_player(0)

    page = selectors.list_transactions_page(player.pk)

    assert (page.rows, page.total, page.number, page.pages) == ([], 0, 1, 1)


def test_two_queries_whatever_the_page(history):
    with CaptureQueriesContext(connection) as queries:
        selectors.list_transactions_page(history.pk, page=2, page_size=2, kinds=["bet"], since=DAY_1)

    assert len(queries) == 2


def test_a_paid_withdrawal_shows_its_reservation_and_its_payout():
    """The reservation takes the money from the playable balance; the payout moves it on from
    the pending-withdrawal account, leaving the playable balance as it was (amount 0)."""
    player = funded_player(10_000)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)
    services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=a_ref("payment:test"))
    services.pay_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=a_ref("payment:test"),
                            counter=clearing_code("test"))  # fmt: skip

    page = selectors.list_transactions_page(player.pk)

    assert [(row.kind, row.amount, row.balance_after) for row in page.rows] == [
        ("withdrawal_paid", 0, 6_000),
        ("withdrawal", -4_000, 6_000),
        ("adjustment", 10_000, 10_000),
    ]


def test_the_movements_of_a_period_are_listed_oldest_first_with_both_ends_included(history):
    """`list_transactions_in_period` (a compliance case's report): from the start to the end,
    both included, oldest first; the zero win and another player's movements never."""
    tick = dt.timedelta(microseconds=1)
    rows = list(selectors.list_transactions_in_period(history.pk, DAY_2, DAY_3))
    before_day_3 = list(selectors.list_transactions_in_period(history.pk, DAY_2, DAY_3 - tick))
    later = list(selectors.list_transactions_in_period(history.pk, DAY_3 + tick, DAY_3 + dt.timedelta(days=1)))

    assert [(r.version, r.kind, r.amount, r.balance_after, r.created_at) for r in rows] == [
        (2, "bet", -1_000, 9_000, DAY_2),
        (3, "win", 2_500, 11_500, DAY_2),
        (4, "bonus", 500, 12_000, DAY_3),
        (5, "bet", -3_000, 9_000, DAY_3),
    ]
    assert [r.version for r in before_day_3] == [2, 3]
    assert later == []
