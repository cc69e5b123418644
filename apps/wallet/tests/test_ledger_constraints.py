"""The database itself guards the ledger: these tests go around the ORM and the services with raw
SQL, as a buggy migration, a script or a person at psql would, and PostgreSQL refuses."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import bet, funded_player, ledger_rows, wallet

pytestmark = pytest.mark.django_db


def sql(statement: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def refused(statement: str, params: tuple = ()) -> str:
    """Run `statement` in a savepoint, expect the database to refuse it, and return its message."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        sql(statement, params)
    return str(error.value)


INSERT_TRANSACTION = (
    "INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, "
    "round_id, game_id, reverses_id, reverses_external_id, reason, acting_user_id, balance_after, "
    "wallet_version, created_at) "
    "VALUES ('adjustment', %s, %s, %s, %s, %s, 'f', '', '', NULL, '', 'raw', NULL, 0, 0, now()) RETURNING id"
)


def insert_transaction(player_id: int, external_id: str, *, origin: str = "raw:sql", amount: int = 0) -> int:
    return sql(INSERT_TRANSACTION, (player_id, "EUR", amount, origin, external_id))[0][0]


INSERT_ENTRY = (
    "INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, account_version) "
    "VALUES (%s, %s, %s, %s, NULL, NULL)"
)


def insert_entry(transaction_id: int, account_id: int, amount: int) -> None:
    sql(INSERT_ENTRY, (transaction_id, account_id, "EUR", amount))


def write_one_sided_transaction(player_id: int, account_id: int, written: list[int]) -> None:
    """In one database transaction: a transaction row and a single entry of +5 (appends the id)."""
    with transaction.atomic():
        written.append(insert_transaction(player_id, "one-sided"))
        insert_entry(written[0], account_id, 5)


# --- balances ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cash", "bonus"])
def test_negative_player_balance_is_rejected_by_a_check_constraint(kind):
    player = funded_player(1000)
    account = Account.objects.get(player=player, kind=kind)

    message = refused("UPDATE wallet_account SET balance = -1 WHERE id = %s", (account.pk,))

    assert "player_account_balance_not_negative" in message
    assert wallet(player) == (1000, 0, 1)


def test_system_account_may_go_negative():
    player = funded_player(1000)
    adjustments = Account.objects.get(code="adjustments", currency="EUR")

    sql("UPDATE wallet_account SET balance = -1 WHERE id = %s", (adjustments.pk,))

    assert Account.objects.get(pk=adjustments.pk).balance == -1
    assert wallet(player) == (1000, 0, 1)


def test_negative_balance_after_on_an_entry_is_rejected():
    player = funded_player(1000)
    tx = Transaction.objects.get(player=player)
    cash = Account.objects.get(player=player, kind="cash")

    message = refused(
        "INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, account_version) "
        "VALUES (%s, %s, 'EUR', 5, -5, 2)",
        (tx.pk, cash.pk),
    )

    assert "entry_balance_after_not_negative" in message


def test_zero_entry_is_rejected():
    player = funded_player(1000)
    tx = Transaction.objects.get(player=player)
    cash = Account.objects.get(player=player, kind="cash")

    message = refused(
        "INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount) VALUES (%s, %s, 'EUR', 0)",
        (tx.pk, cash.pk),
    )

    assert "entry_amount_not_zero" in message


# --- append-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "operation", "table"),
    [
        ("UPDATE wallet_entry SET amount = amount + 1 WHERE transaction_id = %s", "UPDATE", "wallet_entry"),
        ("DELETE FROM wallet_entry WHERE transaction_id = %s", "DELETE", "wallet_entry"),
        ("UPDATE wallet_transaction SET amount = 0 WHERE id = %s", "UPDATE", "wallet_transaction"),
        ("UPDATE wallet_transaction SET reason = 'edited' WHERE id = %s", "UPDATE", "wallet_transaction"),
        ("DELETE FROM wallet_transaction WHERE id = %s", "DELETE", "wallet_transaction"),
    ],
)
def test_ledger_rows_cannot_be_changed_or_deleted(statement, operation, table):
    # given a bet
    player = funded_player(1000)
    placed = bet(player, 300)
    before = ledger_rows()
    entries_before = list(Entry.objects.order_by("pk").values_list("pk", "amount"))
    # when someone edits the ledger by hand
    message = refused(statement, (placed.transaction_id,))
    # then the trigger refuses it, and nothing changed
    assert f"wallet_ledger_append_only: {operation} on {table} is not allowed" in message
    assert ledger_rows() == before
    assert list(Entry.objects.order_by("pk").values_list("pk", "amount")) == entries_before
    assert Transaction.objects.get(pk=placed.transaction_id).reason == ""


def test_the_orm_cannot_change_ledger_rows_either():
    player = funded_player(1000)
    placed = bet(player, 300)

    with pytest.raises(IntegrityError, match="wallet_ledger_append_only"), transaction.atomic():
        Entry.objects.filter(transaction_id=placed.transaction_id).update(amount=1)
    with pytest.raises(IntegrityError, match="wallet_ledger_append_only"), transaction.atomic():
        Transaction.objects.filter(pk=placed.transaction_id).update(amount=1)

    assert Transaction.objects.get(pk=placed.transaction_id).amount == -300


# --- idempotency key -----------------------------------------------------------------------------


def test_origin_and_external_id_are_unique_together():
    player = funded_player(1000)
    insert_transaction(player.pk, "same-id", origin="raw:one")

    message = refused(
        "INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, "
        "round_id, game_id, reverses_external_id, reason, balance_after, wallet_version, created_at) "
        "VALUES ('adjustment', %s, 'EUR', 0, 'raw:one', 'same-id', 'other', '', '', '', '', 0, 0, now())",
        (player.pk,),
    )
    insert_transaction(player.pk, "same-id", origin="raw:two")

    assert "transaction_origin_external_id_unique" in message
    assert sorted(Transaction.objects.filter(external_id="same-id").values_list("origin", flat=True)) == [
        "raw:one",
        "raw:two",
    ]


def test_a_bet_is_reversed_at_most_once():
    """The second rollback row naming one bet is refused by a partial unique index; the rows that
    name no bet (every bet and win) are not in it, and any number of them may be written."""
    player = funded_player(1000)
    first = insert_transaction(player.pk, "bet-once")
    rollback = (
        "INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, "
        "round_id, game_id, reverses_id, reverses_external_id, reason, balance_after, wallet_version, created_at) "
        "VALUES ('rollback', %s, 'EUR', 0, 'raw:sql', %s, 'f', '', '', %s, 'bet-once', '', 0, 0, now())"
    )
    sql(rollback, (player.pk, "rollback-1", first))

    message = refused(rollback, (player.pk, "rollback-2", first))

    assert "transaction_reverses_once" in message
    insert_transaction(player.pk, "names-nothing-1")
    insert_transaction(player.pk, "names-nothing-2")


# --- zero sum, checked at commit -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_unbalanced_transaction_is_rejected_at_commit():
    # given a player's accounts and the adjustments account, committed
    player = funded_player(1000)
    adjustments = Account.objects.get(code="adjustments", currency="EUR")
    before = ledger_rows()
    # when a transaction with a single entry is written by hand
    written: list[int] = []
    with pytest.raises(IntegrityError) as error:
        write_one_sided_transaction(player.pk, adjustments.pk, written)
    [tx_id] = written
    # then the commit is refused, and nothing of it is kept
    assert f"wallet_transaction_unbalanced: entries of transaction {tx_id} sum to 5 EUR" in str(error.value)
    assert ledger_rows() == before
    assert Transaction.objects.filter(external_id="one-sided").exists() is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_entries_are_checked_at_commit_not_one_by_one():
    """The zero-sum trigger is deferred: a transaction is unbalanced between its entry inserts."""
    player = funded_player(1000)
    adjustments = Account.objects.get(code="adjustments", currency="EUR")
    house = Account.objects.create(kind="house", code="house", currency_id="EUR")

    with transaction.atomic():
        tx_id = insert_transaction(player.pk, "two-statements")
        insert_entry(tx_id, adjustments.pk, 5)
        insert_entry(tx_id, house.pk, -5)

    assert list(Entry.objects.filter(transaction_id=tx_id).order_by("pk").values_list("amount", flat=True)) == [5, -5]


# --- keys ----------------------------------------------------------------------------------------


def test_an_entry_is_in_its_accounts_currency():
    """An entry's account and currency are one foreign key (to the account's id and currency): a
    currency that exists but is not the account's is refused, as is an account that does not."""
    player = funded_player(1000)
    cash = Account.objects.get(player=player, kind="cash")
    tx_id = insert_transaction(player.pk, "keys")
    # Checked as the row is written rather than at commit, so that each refusal is its own.
    sql("SET CONSTRAINTS entry_account_currency_fk IMMEDIATE")
    missing = Account.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1

    assert "entry_account_currency_fk" in refused(INSERT_ENTRY, (tx_id, cash.pk, "SEK", 5))
    assert "entry_account_currency_fk" in refused(INSERT_ENTRY, (tx_id, missing, "EUR", 5))
    # The account's own currency is taken (and the other side balances the transaction, which
    # the test's end checks with every deferred constraint).
    insert_entry(tx_id, cash.pk, 5)
    insert_entry(tx_id, Account.objects.get(code="adjustments", currency="EUR").pk, -5)
    assert sorted(Entry.objects.filter(transaction_id=tx_id).values_list("currency_id", "amount")) == [
        ("EUR", -5),
        ("EUR", 5),
    ]


def test_a_transaction_is_in_its_players_currency():
    """A transaction's player and currency are one foreign key (to the player's id and currency): a
    currency that exists but is not the player's is refused, as is a player that does not."""
    player = funded_player(1000)
    sql("SET CONSTRAINTS transaction_player_currency_fk IMMEDIATE")

    assert "transaction_player_currency_fk" in refused(INSERT_TRANSACTION, (player.pk, "SEK", 0, "raw:sql", "sek"))
    assert "transaction_player_currency_fk" in refused(
        INSERT_TRANSACTION, (player.pk + 1_000, "EUR", 0, "raw:sql", "x")
    )
    assert insert_transaction(player.pk, "eur")
