"""manage.py wallet_audit: clean on a ledger the services wrote; names each violation, and exits
1, on a database corrupted on purpose (a trigger switched off, then an entry edited)."""

import pytest
from django.db import connection

from apps.wallet.audit import CHECKS, run_audit
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import (
    a_ref,
    bet,
    funded_player,
    grant_bonus,
    rollback,
    win,
)
from tests.support import call_audit_command

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sql(statement: str, params: tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def a_day_of_play():
    """Two players: adjustments, bonus, bets from cash and bonus, wins (one zero, one on a bet paid
    from bonus: bonus money), rollbacks (one of a bet never seen). Returns the first player and
    their first bet's transaction id."""
    alice, bob = funded_player(1000), funded_player(500)
    grant_bonus(alice, 300)
    first = a_ref()
    placed = bet(alice, 1200, ref=first, round_id="a1")
    win(alice, 0, round_id="a1")
    bet(alice, 50, round_id="a2")
    win(alice, 400, round_id="a2")
    rollback(alice, first.external_id, round_id="a1")
    bet(bob, 200, round_id="b1")
    rollback(bob, "never-seen", round_id="b2")
    return alice, placed.transaction_id


def audit() -> tuple[int | None, list[str]]:
    return call_audit_command("wallet_audit")


def test_audit_is_clean_after_the_services_wrote_the_ledger():
    a_day_of_play()

    code, lines = audit()

    assert run_audit() == {name: [] for name in CHECKS}
    assert code is None
    assert lines == [
        *(f"ok   {name}" for name in CHECKS),
        f"wallet_audit: clean ({Transaction.objects.count()} transactions, {Entry.objects.count()} entries, "
        f"{Account.objects.count()} accounts)",
    ]
    assert (Transaction.objects.count(), Entry.objects.count(), Account.objects.count()) == (10, 18, 7)


def test_audit_names_an_edited_entry():
    # given a clean ledger
    alice, bet_id = a_day_of_play()
    cash = Account.objects.get(player=alice, kind="cash")
    entry = Entry.objects.get(transaction_id=bet_id, account=cash)
    assert (entry.amount, cash.balance) == (-1000, 1000)
    # when someone switches the guard off and edits the bet's cash entry from -1000 to -900
    sql("ALTER TABLE wallet_entry DISABLE TRIGGER wallet_entry_append_only")
    try:
        sql("UPDATE wallet_entry SET amount = -900 WHERE id = %s", (entry.pk,))
    finally:
        sql("ALTER TABLE wallet_entry ENABLE TRIGGER wallet_entry_append_only")
    # then the audit fails and names the three broken invariants
    code, lines = audit()
    assert code == 1
    assert f"     - entries of transaction {bet_id} sum to 100 EUR, not 0" in lines
    account = f"cash account {cash.pk} of player {alice.pk}"
    assert f"     - {account}: stored balance 1000 but its entries sum to 1100" in lines
    assert "FAIL entries sum to zero per transaction and currency" in lines
    assert "FAIL player balances equal the sum of their entries" in lines
    assert "ok   database guards are in place" in lines
    assert "ok   player balances are not negative" in lines
    assert f"     - transaction {bet_id} of player {alice.pk}: its chain hash does not follow the chain" in lines
    assert lines[-1].startswith("wallet_audit: 3 violation(s) in 10 transactions, 18 entries, 7 accounts")
    assert {name for name, found in run_audit().items() if found} == {
        "entries sum to zero per transaction and currency",
        "player balances equal the sum of their entries",
        "each player's transactions follow their hash chain",
    }


def test_audit_reports_a_disabled_trigger():
    a_day_of_play()

    sql("ALTER TABLE wallet_entry DISABLE TRIGGER wallet_entry_append_only")
    try:
        code, lines = audit()
        found = run_audit()
    finally:
        sql("ALTER TABLE wallet_entry ENABLE TRIGGER wallet_entry_append_only")

    assert code == 1
    assert "FAIL database guards are in place" in lines
    assert "     - trigger wallet_entry_append_only is missing or disabled" in lines
    assert lines[-1].startswith("wallet_audit: 1 violation(s) in ")
    assert found == {name: [] for name in CHECKS} | {
        "database guards are in place": ["trigger wallet_entry_append_only is missing or disabled"]
    }
    assert run_audit()["database guards are in place"] == []


def test_audit_reports_a_stored_balance_changed_by_hand():
    alice, _ = a_day_of_play()
    bonus = Account.objects.get(player=alice, kind="bonus")

    sql("UPDATE wallet_account SET balance = balance + 1 WHERE id = %s", (bonus.pk,))

    code, lines = audit()
    assert code == 1
    account = f"bonus account {bonus.pk} of player {alice.pk}"
    assert f"     - {account}: stored balance 651 but its entries sum to 650" in lines
    assert f"     - account {bonus.pk}: stored balance 651 v5, last entry says 650 v5" in lines


def test_audit_names_an_hourly_sum_that_is_not_the_ledgers():
    alice, _ = a_day_of_play()
    sql("UPDATE wallet_ledger_hour SET amount = amount + 5 WHERE player_id = %s AND kind = 'win'", (alice.pk,))

    code, lines = audit()

    assert code == 1
    (named,) = [line for line in lines if "hourly sum says" in line]
    assert named.startswith(f"     - player {alice.pk}: the win of the hour from ")
    assert named.endswith("sum to 400, but its hourly sum says 405")
