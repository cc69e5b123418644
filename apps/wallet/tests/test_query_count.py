"""The number of queries of the hot paths, pinned: a bet or a win that starts doing more work per
call shows up here first.

The test runs inside pytest-django's transaction, so the service's `atomic(durable=True)` is a
SAVEPOINT / RELEASE SAVEPOINT pair here; in production the same two are BEGIN and COMMIT.
"""

import pytest

from apps.wallet.services import forget_system_accounts
from apps.wallet.tests.factories import bet, funded_player, grant_bonus, win

pytestmark = pytest.mark.django_db


def statements(captured) -> list[str]:
    return [query["sql"].split(" ", 1)[0] for query in captured.captured_queries]


@pytest.fixture
def player_at_the_table():
    """A funded player whose accounts exist, with the house account already created and its id
    remembered by this process (as after the first bet of a running server)."""
    player = funded_player(10_000)
    bet(player, 100)
    return player


def test_one_bet_takes_seven_queries(player_at_the_table, django_assert_num_queries):
    # 1. SAVEPOINT (BEGIN in production)
    # 2. SELECT ... FOR UPDATE OF the player's cash and bonus accounts, joined to the player row
    #    (the lock; compliance reads the player's status from that row, no extra query)
    # 3. SELECT the transactions with this (origin, external_id), or a rollback naming it (idempotency)
    # 4. INSERT the transaction
    # 5. INSERT its entries in one statement (cash and house)
    # 6. UPDATE the cash account's balance and version (the house is never updated: derived)
    # 7. INSERT the domain event into the outbox (it commits with the money; apps.common.events)
    # 8. RELEASE SAVEPOINT (COMMIT in production)
    with django_assert_num_queries(8) as captured:
        bet(player_at_the_table, 100)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT", "RELEASE"]
    assert "common_outboxevent" in captured.captured_queries[6]["sql"]
    assert "FOR UPDATE" in captured.captured_queries[1]["sql"]


def test_one_bet_from_cash_and_bonus_updates_both_accounts(player_at_the_table, django_assert_num_queries):
    # Only the last step differs: one UPDATE for the bonus account and one for the cash account.
    grant_bonus(player_at_the_table, 500)
    with django_assert_num_queries(9) as captured:
        bet(player_at_the_table, 10_000)

    assert statements(captured) == [
        "SAVEPOINT",
        "SELECT",
        "SELECT",
        "INSERT",
        "INSERT",
        "UPDATE",
        "UPDATE",
        "INSERT",
        "RELEASE",
    ]


def test_first_bet_of_a_process_looks_the_house_up_once(player_at_the_table, django_assert_num_queries):
    # A new worker process does not know the house account's id yet: two more queries, once
    # (INSERT ... ON CONFLICT DO NOTHING, then SELECT its id), before the ledger write.
    forget_system_accounts()

    with django_assert_num_queries(10) as captured:
        bet(player_at_the_table, 100)
    with django_assert_num_queries(8):
        bet(player_at_the_table, 100)

    assert statements(captured) == [
        "SAVEPOINT",
        "SELECT",
        "SELECT",
        "INSERT",
        "SELECT",
        "INSERT",
        "INSERT",
        "UPDATE",
        "INSERT",
        "RELEASE",
    ]


def test_one_win_takes_nine_queries(player_at_the_table, django_assert_num_queries):
    # 1. SAVEPOINT (BEGIN in production)
    # 2. SELECT ... FOR UPDATE the player's accounts (the lock)
    # 3. SELECT the transactions with this (origin, external_id) (idempotency)
    # 4. SELECT the bets and rollbacks of the round (was every bet of it rolled back?)
    # 5. INSERT the transaction
    # 6. INSERT its entries (cash and house)
    # 7. UPDATE the cash account's balance and version
    # 8. INSERT the domain event into the outbox
    # 9. RELEASE SAVEPOINT (COMMIT in production)
    with django_assert_num_queries(9) as captured:
        win(player_at_the_table, 500)

    assert statements(captured) == [
        "SAVEPOINT", "SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT", "RELEASE"
    ]  # fmt: skip
