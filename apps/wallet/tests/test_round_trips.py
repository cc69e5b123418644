"""What a money call sends to PostgreSQL, message by message, outside any test transaction (as in
production). A free player's bet is one round trip: the bet function's call, in autocommit
(apps/wallet/fast_bet.py). On the Python path (any other money call, and a bet the function
leaves to it) the BEGIN travels in the lock's pipeline, so a bet is three round trips (the BEGIN,
the lock and the look-up; the ledger's write; the COMMIT). Read from libpq's own trace of the
connection: a round trip ends at each `Sync` (or at a simple `Query`, which syncs itself)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from psycopg import pq

from apps.accounts.tests.factories import make_player
from apps.wallet import errors, selectors
from apps.wallet.services import adjust_balance
from apps.wallet.tests.factories import bet, funded_player
from tests.libpq_trace import autocommit_matches_django, forget_prepared_statements, messages_sent

# psycopg prepares a statement at its fifth run on a connection (DB_PREPARE_THRESHOLD).
PREPARED_AFTER = int(settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"])

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _no_statement_prepared_yet():
    forget_prepared_statements()


def test_a_free_players_bet_is_one_round_trip(tmp_path):
    player = funded_player(10_000)
    bet(player, 100)

    sent = messages_sent(tmp_path, lambda: bet(player, 100))

    assert sent[:2] == ["Bind SELECT", "Sync"]  # SELECT * FROM wallet_place_bet(...)
    assert "Bind BEGIN" not in sent
    assert "Query COMMIT" not in sent
    assert selectors.get_wallet_state(player.pk).balance == 9_800
    assert autocommit_matches_django()


def test_a_free_players_refused_bet_rolls_nothing_back(tmp_path):
    # The function answers a refusal instead of raising: its transaction commits having written
    # nothing, and psycopg keeps the connection's prepared statements (no DEALLOCATE).
    player = funded_player(100 + PREPARED_AFTER + 1)
    for _ in range(PREPARED_AFTER + 1):
        bet(player, 1)  # the call prepared (psycopg prepares it at the run after the threshold)

    def refused():
        with pytest.raises(errors.InsufficientFunds):
            bet(player, 500)

    assert messages_sent(tmp_path, refused) == ["Bind SELECT", "Sync"]
    assert bet(player, 100).balance == 0


def test_a_bet_is_three_round_trips_with_the_begin_in_the_locks_pipeline(tmp_path, python_path):
    player = funded_player(10_000)
    bet(player, 100)  # the house account exists, its id remembered

    sent = messages_sent(tmp_path, lambda: bet(player, 100))

    assert sent == [
        "Bind BEGIN", "Bind SELECT", "Bind SELECT", "Sync",  # the lock and the idempotency look-up
        "Bind WITH", "Sync",  # the ledger's one statement
        "Query COMMIT",
    ]  # fmt: skip
    assert selectors.get_wallet_state(player.pk).balance == 9_800
    assert autocommit_matches_django()


def test_a_refused_bet_rolls_back_and_the_connection_is_as_before(tmp_path, python_path):
    player = funded_player(100 + PREPARED_AFTER)
    for _ in range(PREPARED_AFTER):
        bet(player, 1)  # the money path's statements prepared on this connection, as in a server

    def refused():
        with pytest.raises(errors.InsufficientFunds):
            bet(player, 500)

    sent = messages_sent(tmp_path, refused)

    assert sent[:4] == ["Bind BEGIN", "Bind SELECT", "Bind SELECT", "Sync"]
    # psycopg forgets its prepared statements at every rollback: DEALLOCATE ALL, a round trip of
    # its own, and the next calls run their statements unprepared until they are prepared again.
    assert sent[-2:] == ["Query ROLLBACK", "Query DEALLOCATE"]
    assert autocommit_matches_django()
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    assert bet(player, 100).balance == 0  # the next call begins and commits as usual


def test_a_lock_after_the_transaction_began_sends_no_begin(tmp_path):
    # A player's first money call finds no accounts, opens them and locks again, in the same
    # transaction: the second lock's pipeline must not begin again.
    player = make_player(currency="EUR")

    sent = messages_sent(
        tmp_path, lambda: adjust_balance(player_id=player.pk, amount=500, reason="first", acting_user=None)
    )

    money_call = sent[: sent.index("Query COMMIT") + 1]  # receivers after the commit have their own
    assert money_call[:4] == ["Bind BEGIN", "Bind SELECT", "Bind SELECT", "Sync"], money_call
    assert money_call.count("Bind BEGIN") + money_call.count("Query BEGIN") == 1, money_call
    assert selectors.get_wallet_state(player.pk).balance == 500
    assert autocommit_matches_django()
