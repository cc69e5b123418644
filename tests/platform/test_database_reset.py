"""The suite's faster reset between transactional tests (tests/database_reset.py) leaves exactly the
database Django's own reset would: every table empty, then the migrations' rows reloaded."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from apps.accounts.models import Currency, Player
from apps.wallet.errors import InsufficientFunds
from apps.wallet.models import Entry
from apps.wallet.tests.factories import bet, funded_player
from tests import database_reset

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def djangos_reset() -> dict[str, str | None]:
    """Django's way (as TransactionTestCase calls it): one TRUNCATE of every table, the sequences
    left where they are, then the rows reloaded object by object."""
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True)
    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
    return database_reset.digests_of_every_table("default")


def test_rows_of_a_test_go_and_the_untouched_migrations_rows_stay_as_a_reload_writes_them():
    # given: the migrations' rows as a reload writes them, then a test's rows, the ledger's included
    database_reset.reload_from_empty("default")
    player = funded_player(1_000)
    bet(player, 300)
    assert Entry.objects.count() == 4
    # when
    database_reset.reset_after("default")
    # then: no reload is needed, and Django's reset would give the same rows in every table
    assert database_reset.is_at_snapshot("default") is True
    kept = database_reset.digests_of_every_table("default")
    assert kept == djangos_reset()
    assert kept["wallet_entry"] is None
    assert kept["accounts_currency"] is not None


def test_migrations_rows_that_a_test_changed_are_written_again_before_the_next_test():
    # given: a test that changed a row the migrations wrote
    database_reset.reload_from_empty("default")
    player = funded_player(1_000)
    Currency.objects.filter(code="EUR").update(name="changed by a test")
    # when
    database_reset.reset_after("default")
    # then: the migrations' rows are back at once (a non-transactional test may come next, and
    # it expects them), exactly as Django's reset would reload them, and the test's rows are gone
    assert database_reset.is_at_snapshot("default") is True
    assert Currency.objects.get(code="EUR").name != "changed by a test"
    assert not Player.objects.filter(pk=player.pk).exists()
    assert database_reset.digests_of_every_table("default") == djangos_reset()


def test_no_table_keeps_a_page_that_autovacuum_could_hand_to_a_new_row():
    # given: a test's rows, and the dead rows of a refused bet
    database_reset.reload_from_empty("default")
    player = funded_player(100)
    with pytest.raises(InsufficientFunds):
        bet(player, 101)
    # when
    database_reset.reset_after("default")
    # then: rows only in the migrations' tables; any other table with a page (dead rows of a
    # DELETE) is one autovacuum never visits, so new rows come back in the order written, as
    # after Django's TRUNCATE of every table
    holding = {name for name, digest in database_reset.digests_of_every_table("default").items() if digest}
    assert "accounts_currency" in holding
    assert "accounts_user" not in holding
    with_dead_rows = sorted(set(database_reset.written_tables("default")) - holding)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) "
            "AND NOT coalesce('autovacuum_enabled=false' = ANY(reloptions), false)",
            [with_dead_rows],
        )
        assert cursor.fetchall() == []
