"""The ledger summed over windows of kinds: what player protection reads (limits' usage, the net
result of a session, deposits towards the KYC threshold). The ORM reading and the SQL text the bet
path embeds give the same answers, a window's start is exclusive, and nothing else is summed."""

import datetime as dt
import random

import pytest
import time_machine
from django.db import connection

from apps.wallet import selectors
from apps.wallet.tests.factories import a_ref, bet, funded_player, rollback, win

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)
MICROSECOND = dt.timedelta(microseconds=1)


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
    params = selectors.ledger_windows_params(
        tuple((name, kinds) for name, (kinds, _) in zip(names, WINDOWS, strict=True)),
        history.pk,
        [after for _, after in WINDOWS],
    )

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


def test_the_hourly_sums_give_what_the_ledgers_rows_give_for_any_window():
    """A history of bets, wins and rollbacks over three days at uneven times, some on the hour,
    and windows starting on the hour, a microsecond either side of it, and in between: the
    hourly sums with the edge hour's rows give exactly the sum of every row."""
    rng = random.Random(7)
    moments = sorted(T0 + dt.timedelta(seconds=rng.randrange(3 * 24 * 3600)) for _ in range(60))
    moments += [T0 + 5 * HOUR, T0 + 5 * HOUR + MICROSECOND, T0 + 30 * HOUR - MICROSECOND]
    with time_machine.travel(T0, tick=False) as clock:
        player = funded_player(1_000_000)
        for moment in sorted(moments):
            clock.move_to(moment)
            placed = a_ref()
            bet(player, rng.randrange(1, 500), placed)
            if rng.random() < 0.4:
                win(player, rng.randrange(0, 900))
            elif rng.random() < 0.1:
                rollback(player, placed.external_id)
    starts = [T0 - SECOND, T0 + 5 * HOUR, T0 + 5 * HOUR - MICROSECOND, T0 + 5 * HOUR + MICROSECOND,
              T0 + 30 * HOUR - MICROSECOND, T0 + 71 * HOUR]  # fmt: skip
    starts += [T0 + dt.timedelta(seconds=rng.randrange(3 * 24 * 3600), microseconds=rng.randrange(10**6))
               for _ in range(20)]  # fmt: skip
    kinds = [("bet",), ("bet", "rollback"), ("bet", "rollback", "win", "resettlement"), ("win",)]
    windows = [(kinds[n % len(kinds)], start) for n, start in enumerate(starts)]

    assert connection.vendor == "postgresql"
    assert selectors.sum_ledger_windows(player.pk, windows) == selectors.scan_ledger_windows(player.pk, windows)
    assert any(total != 0 for total in selectors.scan_ledger_windows(player.pk, windows))


def test_the_hourly_sums_are_the_ledgers_own(history):
    """Kept by the ledger's trigger in each transaction: the audit recomputes them from the rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT hour, kind, amount FROM wallet_ledger_hour WHERE player_id = %s ORDER BY 1, 2",
                       [history.pk])  # fmt: skip
        rows = cursor.fetchall()
    assert rows == [(T0, "adjustment", 10_000), (T0 + HOUR, "bet", -1_000), (T0 + 2 * HOUR, "win", 300),
                    (T0 + 3 * HOUR, "bet", -500)]  # fmt: skip
