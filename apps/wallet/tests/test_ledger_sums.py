"""The ledger summed over windows of kinds: what player protection reads (limits' usage, the net
result of a session, deposits towards the KYC threshold). The ORM reading and the SQL text the bet
path embeds give the same answers, a window's start is exclusive, and nothing else is summed."""

import datetime as dt

import pytest
import time_machine
from django.db import connection

from apps.wallet import selectors
from apps.wallet.tests.factories import bet, funded_player, win

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def history():
    """A player funded with 10,000 at T0, then a bet of 1,000 at T0+1h, a win of 300 at T0+2h and
    a bet of 500 at T0+3h; another player's bet at T0+2h, which no sum of the first may count."""
    with time_machine.travel(T0, tick=False) as clock:
        player, other = funded_player(10_000), funded_player(10_000)
        clock.move_to(T0 + HOUR)
        bet(player, 1_000)
        clock.move_to(T0 + 2 * HOUR)
        win(player, 300)
        bet(other, 4_000)
        clock.move_to(T0 + 3 * HOUR)
        bet(player, 500)
    return player


WINDOWS = [
    (("bet",), T0 + HOUR),  # the bet exactly at the start has left the window: only the 500
    (("bet", "win"), T0),  # -1,000 + 300 - 500
    (("adjustment",), T0 - SECOND),
    (("win",), T0 + 3 * HOUR),  # nothing after the last win
    (("bet", "rollback"), T0 - SECOND),
]
EXPECTED = [-500, -1_200, 10_000, 0, -1_500]


def test_windows_sum_each_its_kinds_after_its_own_start(history):
    assert selectors.sum_ledger_windows(history.pk, WINDOWS) == EXPECTED


def test_the_sql_the_bet_path_embeds_gives_the_same_sums_in_named_columns(history):
    names = [f"w_{n}" for n in range(len(WINDOWS))]
    sql = selectors.ledger_windows_sql(tuple((name, kinds) for name, (kinds, _) in zip(names, WINDOWS, strict=True)))
    params = [after for _, after in WINDOWS] + [history.pk, min(after for _, after in WINDOWS)]

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        row = cursor.fetchone()

    assert columns == names
    assert [int(total) for total in row] == EXPECTED


def test_a_sum_since_a_time_includes_that_time(history):
    assert selectors.sum_ledger(history.pk, kinds=("bet", "win"), since=T0 + HOUR) == -1_200
    assert selectors.sum_ledger(history.pk, kinds=("bet", "win"), since=T0 + HOUR + SECOND) == -200
    assert selectors.sum_ledger(history.pk, kinds=("adjustment",)) == 10_000
    assert selectors.sum_ledger(history.pk, kinds=("deposit",)) == 0


def test_no_windows_cost_no_query(history, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.sum_ledger_windows(history.pk, []) == []


@pytest.mark.parametrize(
    "columns",
    [
        (("used; DROP TABLE wallet_transaction", ("bet",)),),
        (("used", ("bet') OR ('1' = '1",)),),
        (("used", ("jackpot",)),),
    ],
)
def test_the_sql_text_takes_only_identifiers_and_ledger_kinds(columns):
    with pytest.raises(ValueError, match="Not a ledger window"):
        selectors.ledger_windows_sql(columns)
