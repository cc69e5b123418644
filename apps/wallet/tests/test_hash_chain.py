"""The ledger's hash chain (chain.py): every player's transactions follow it, and tampering behind
the triggers (an edited transaction, an edited entry, a removed last transaction) is named by the
audit, which no other invariant would see."""

import pytest
from django.db import connection

from apps.wallet import chain, services
from apps.wallet.audit import broken_hash_chains, run_audit
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import a_ref, bet, funded_player, grant_bonus, rollback, win

pytestmark = pytest.mark.django_db


def sql(statement: str, params: tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def behind_the_triggers(statement: str, params: tuple = ()) -> None:
    """Run `statement` with the append-only triggers off, as someone with the database's keys
    could (inside the test's transaction: the rollback puts everything back). The deferred checks
    still pending from the set-up run first: PostgreSQL alters no table with triggers pending."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql("ALTER TABLE wallet_transaction DISABLE TRIGGER wallet_transaction_append_only")
    sql("ALTER TABLE wallet_entry DISABLE TRIGGER wallet_entry_append_only")
    sql(statement, params)
    sql("ALTER TABLE wallet_transaction ENABLE TRIGGER wallet_transaction_append_only")
    sql("ALTER TABLE wallet_entry ENABLE TRIGGER wallet_entry_append_only")


@pytest.fixture
def played():
    """Two players' mixed day: funding, a bonus, bets, wins, a rollback, a rollback of a bet
    never seen (a transaction that moves nothing) and an operator adjustment."""
    alice, bob = funded_player(1000), funded_player(500)
    grant_bonus(alice, 300)
    first = a_ref()
    bet(alice, 400, ref=first, round_id="a1")
    win(alice, 250, round_id="a1")
    rollback(alice, first.external_id, round_id="a1")
    bet(bob, 100, round_id="b1")
    rollback(bob, "never-seen", round_id="b2")
    services.adjust_balance(player_id=bob.pk, amount=-50, reason="goodwill reversed", acting_user=None)
    return alice, bob


def test_each_player_s_transactions_follow_their_chain(played):
    alice, bob = played
    for player in (alice, bob):
        head = ""
        for tx in Transaction.objects.filter(player=player).order_by("id"):
            entries = Entry.objects.filter(transaction=tx).values_list(
                "account_id", "amount", "balance_after", "account_version"
            )
            assert tx.chain_hash == chain.link(head, tx, entries)
            head = tx.chain_hash
        assert Account.objects.get(player=player, kind="cash").chain_hash == head
    assert all(found == [] for found in run_audit().values())


def test_a_transaction_that_moves_nothing_still_extends_the_chain(played):
    _, bob = played
    nothing = Transaction.objects.get(player=bob, reverses_external_id="never-seen")
    assert not Entry.objects.filter(transaction=nothing).exists()
    later = Transaction.objects.filter(player=bob, pk__gt=nothing.pk).order_by("pk").first()
    assert later.chain_hash == chain.link(nothing.chain_hash, later, later.entries.values_list(
        "account_id", "amount", "balance_after", "account_version"))  # fmt: skip


def test_an_edited_transaction_is_named(played):
    alice, _ = played
    target = Transaction.objects.filter(player=alice, kind="win").get()

    behind_the_triggers("UPDATE wallet_transaction SET reason = 'tampered' WHERE id = %s", (target.pk,))

    assert broken_hash_chains() == [
        f"transaction {target.pk} of player {alice.pk}: its chain hash does not follow the chain"
    ]


def test_an_edited_entry_is_named_even_when_the_sums_still_hold(played):
    """Both sides of a bet moved by the same amount: balanced, and the balance check would need
    the stored balance changed too; the chain sees the entry itself."""
    alice, _ = played
    target = Transaction.objects.filter(player=alice, kind="bet").get()
    behind_the_triggers("UPDATE wallet_entry SET amount = amount * 2 WHERE transaction_id = %s", (target.pk,))

    assert f"transaction {target.pk} of player {alice.pk}: its chain hash does not follow the chain" in (
        broken_hash_chains()
    )


def test_a_removed_last_transaction_is_named(played):
    _, bob = played
    last = Transaction.objects.filter(player=bob).order_by("-pk").first()

    behind_the_triggers("DELETE FROM wallet_entry WHERE transaction_id = %s", (last.pk,))
    behind_the_triggers("DELETE FROM wallet_transaction WHERE id = %s", (last.pk,))

    assert broken_hash_chains() == [
        f"player {bob.pk}: the chain head on the cash account is not the last transaction's"
    ]


def test_the_migration_computes_the_chains_of_an_existing_ledger(played):
    """Migration 0006 on a ledger written before the chain existed: the same hashes."""
    import importlib

    from django.apps import apps

    before = dict(Transaction.objects.values_list("pk", "chain_hash"))
    behind_the_triggers("UPDATE wallet_transaction SET chain_hash = ''")
    sql("UPDATE wallet_account SET chain_hash = ''")
    assert broken_hash_chains()

    migration = importlib.import_module("apps.wallet.migrations.0006_hash_chain")
    with connection.schema_editor() as editor:
        migration.backfill(apps, editor)

    assert dict(Transaction.objects.values_list("pk", "chain_hash")) == before
    assert broken_hash_chains() == []
