"""`one_of` (apps/common/lookups.py): the same rule as `in`, written on PostgreSQL as one array."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.wallet.models import Account, Transaction
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db


def _constraint(model, name: str):
    return next(c for c in model._meta.constraints if c.name == name)


def test_a_check_lists_its_values_as_one_array_constant():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'transaction_kind_valid'")
        (definition,) = cursor.fetchone()
    assert "= ANY ('{bet,win,rollback," in definition
    assert "ARRAY[" not in definition


def test_no_check_constraint_lists_its_values_one_constant_each():
    """Every CHECK of the schema, the PostgreSQL-only ones of the migrations too, is read back on
    each insert and update of its table: none spells a list as an ARRAY of constants."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.contype = 'c' "
            "AND pg_get_constraintdef(c.oid) LIKE '%%ARRAY[%%'"
        )
        assert cursor.fetchall() == []


def test_the_database_refuses_a_value_outside_the_list():
    player = funded_player(amount=100)
    account = Account.objects.get(player=player, kind="cash")
    with pytest.raises(IntegrityError, match="account_player_xor_system_code"), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(kind="house")


def test_model_validation_reads_the_rule_as_the_database_does():
    rule = _constraint(Transaction, "transaction_kind_valid")
    rule.validate(Transaction, Transaction(kind="bet"))
    with pytest.raises(ValidationError):
        rule.validate(Transaction, Transaction(kind="spin"))


def test_one_of_filters_as_in_does():
    funded_player(amount=500)
    listed = ["deposit", "adjustment"]
    assert Transaction.objects.count() > 0
    assert set(Transaction.objects.filter(kind__one_of=listed)) == set(Transaction.objects.filter(kind__in=listed))
    assert not Transaction.objects.filter(kind__one_of=["spin"]).exists()
