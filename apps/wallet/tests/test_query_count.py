"""The number of queries of the hot paths, pinned: a bet or a win that starts doing more work per
call shows up here first.

A free player's bet is one statement, the bet function (fast_bet.py), which production sends in
autocommit; here, inside pytest-django's transaction, it is wrapped in a savepoint. Every other
money call, and a bet the function leaves to the Python path (`python_path` below switches the
function off to pin that path's own statements), runs in the service's `atomic(durable=True)`: a
SAVEPOINT / RELEASE SAVEPOINT pair here; in production the same two are BEGIN, which travels in
the lock's pipeline, and COMMIT (test_round_trips.py reads them off the wire).

On PostgreSQL a round trip costs more than the work of any statement of a bet (measured with
bench/profile_bet.py), so the lock travels with the idempotency look-up (two prepared statements
in one pipeline, one round trip: locks.lock_player_wallet_then) and the ledger writes with the
outbox row are one statement (services._write_in_one_statement). Every other captured query
below is one round trip.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Player
from apps.wallet import extensions, fast_bet
from apps.wallet.services import forget_system_accounts
from apps.wallet.tests.factories import bet, funded_player, grant_bonus, win

pytestmark = pytest.mark.django_db


def statements(captured) -> list[str]:
    return [query["sql"].split(" ", 1)[0] for query in captured.captured_queries]


def sql(captured, index: int) -> str:
    return captured.captured_queries[index]["sql"]


@pytest.fixture
def player_at_the_table():
    """A funded player whose accounts exist, with the house account already created and its id
    remembered by this process (as after the first bet of a running server)."""
    player = funded_player(10_000)
    bet(player, 100)
    return player


def assert_lock_then_lookup(lock: str, lookup: str) -> None:
    assert "FROM wallet_account" in lock
    assert lock.endswith("FOR UPDATE OF a")
    assert lookup.startswith("SELECT")
    assert "FROM wallet_transaction WHERE external_id" in lookup


def assert_one_statement_write(query: str, *, updates: int, outbox: bool = True) -> None:
    assert query.startswith("WITH t AS (INSERT INTO wallet_transaction")
    assert "INSERT INTO wallet_entry" in query
    assert query.count("UPDATE wallet_account") == 1
    assert query.split("UPDATE wallet_account", 1)[1].split("outbox AS")[0].count("::bigint") == 3 * updates
    assert ("INSERT INTO common_outboxevent" in query) == outbox


def test_a_free_players_bet_is_the_bet_function_alone(player_at_the_table, django_assert_num_queries):
    # 1. SAVEPOINT (nothing in production: the statement is its own transaction)
    # 2. SELECT * FROM wallet_place_bet(...): the lock, the look-up, the checks, the transaction,
    #    its entries, the cash account's update and the outbox row
    # 3. RELEASE SAVEPOINT (nothing in production)
    with django_assert_num_queries(3) as captured:
        bet(player_at_the_table, 100)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "RELEASE"]
    assert sql(captured, 1).startswith("SELECT * FROM wallet_place_bet(")


def test_a_bet_the_function_declines_costs_its_statement_before_the_python_path(player_at_the_table, monkeypatch):
    # A player with player-protection checks to run: compliance's participant acts, so the
    # function declines after its lock, and the Python path runs as it would without it.
    Player.objects.filter(pk=player_at_the_table.pk).update(needs_compliance_checks=True)
    with CaptureQueriesContext(connection) as declined:
        bet(player_at_the_table, 100)
    monkeypatch.setattr(fast_bet, "usable", lambda: False)
    with CaptureQueriesContext(connection) as python_only:
        bet(player_at_the_table, 100)

    assert statements(declined)[:3] == ["SAVEPOINT", "SELECT", "RELEASE"]
    assert "wallet_place_bet" in sql(declined, 1)
    assert statements(declined)[3:] == statements(python_only)


def test_one_bet_takes_four_round_trips(player_at_the_table, python_path, django_assert_num_queries):
    # 1. SAVEPOINT (BEGIN in production)
    # 2. SELECT ... FOR UPDATE OF the player's cash and bonus accounts, joined to the player row
    #    (the lock; compliance reads the player's status from that row, no extra query); then, in
    #    the same round trip (a pipeline),
    # 3. SELECT the transactions with this (origin, external_id), or a rollback naming it
    #    (idempotency)
    # 4. WITH: INSERT the transaction, INSERT its entries (cash and house), UPDATE the cash
    #    account's balance and version (the house is never updated: derived), INSERT the domain
    #    event into the outbox (it commits with the money; apps.common.events), in one statement
    # 5. RELEASE SAVEPOINT (COMMIT in production)
    with django_assert_num_queries(5) as captured:
        bet(player_at_the_table, 100)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "SELECT", "WITH", "RELEASE"]
    assert_lock_then_lookup(sql(captured, 1), sql(captured, 2))
    assert_one_statement_write(sql(captured, 3), updates=1)


def test_one_bet_from_cash_and_bonus_updates_both_accounts_in_the_same_statement(
    player_at_the_table, python_path, django_assert_num_queries, monkeypatch
):
    # The wallet's own statements: the bonuses app's participant (its wagering count, pinned in
    # apps/bonuses/tests/test_wagering_rules.py) is left out here.
    kept = tuple(entry for entry in extensions.STAKE.registered() if entry[0] < extensions.BONUSES)
    monkeypatch.setattr(extensions.STAKE, "participants", tuple(participant for _, participant in kept))
    grant_bonus(player_at_the_table, 500)
    with django_assert_num_queries(5) as captured:
        bet(player_at_the_table, 10_000)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "SELECT", "WITH", "RELEASE"]
    assert_one_statement_write(sql(captured, 3), updates=2)


def test_first_bet_of_a_process_looks_the_house_up_once(player_at_the_table, python_path, django_assert_num_queries):
    # A new worker process does not know the house account's id yet: two more queries, once
    # (INSERT ... ON CONFLICT DO NOTHING, then SELECT its id), before the ledger write.
    forget_system_accounts()

    with django_assert_num_queries(7) as captured:
        bet(player_at_the_table, 100)
    with django_assert_num_queries(5):
        bet(player_at_the_table, 100)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "SELECT", "INSERT", "SELECT", "WITH", "RELEASE"]


def test_one_win_takes_five_round_trips(player_at_the_table, django_assert_num_queries):
    # 1. SAVEPOINT (BEGIN in production)
    # 2. SELECT ... FOR UPDATE the player's accounts (the lock), then, in the same round trip,
    # 3. the idempotency look-up
    # 4. SELECT the bets and rollbacks of the round (was every bet of it rolled back?)
    # 5. WITH: INSERT the transaction, its entries (cash and house), UPDATE the cash account,
    #    INSERT the domain event into the outbox
    # 6. RELEASE SAVEPOINT (COMMIT in production)
    with django_assert_num_queries(6) as captured:
        win(player_at_the_table, 500)

    assert statements(captured) == ["SAVEPOINT", "SELECT", "SELECT", "SELECT", "WITH", "RELEASE"]
    assert_lock_then_lookup(sql(captured, 1), sql(captured, 2))
    assert_one_statement_write(sql(captured, 4), updates=1)


def test_the_bet_functions_call_is_prepared_on_postgresql(player_at_the_table):
    """PostgreSQL plans the call once per connection (apps.common.db); the function's own
    statements are planned once per connection by PL/pgSQL."""
    for _ in range(6):
        bet(player_at_the_table, 1)
    assert any(statement.startswith("SELECT * FROM wallet_place_bet($1") for statement in prepared_statements())


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_python_paths_statements_are_prepared_on_postgresql(player_at_the_table, python_path):
    """PostgreSQL plans the lock, the look-up and the ledger write once per connection
    (apps.common.db), not on every bet."""
    for _ in range(6):
        bet(player_at_the_table, 1)
    prepared = prepared_statements()
    assert any(statement.startswith("WITH t AS (INSERT INTO wallet_transaction") for statement in prepared)
    assert any("FROM wallet_account a JOIN accounts_player" in statement for statement in prepared)
    assert any(statement.startswith("SELECT") and "WHERE external_id = $1" in statement for statement in prepared)
