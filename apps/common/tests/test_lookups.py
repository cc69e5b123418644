"""`one_of` (apps/common/lookups.py): the same rule as `in`, written on PostgreSQL as one array."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, migrations, models, transaction
from django.db.migrations.loader import MigrationLoader

from apps.common.lookups import OnPostgreSQL
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


REWRITES = ("accounts", "backoffice", "bonuses", "compliance", "games", "payments", "sportsbook", "wallet")


def _rewrite(app: str):
    """The app's `check_lists_as_arrays` migration, its one operation, the names of the
    constraints it replaces, and the states before and after it."""
    loader = MigrationLoader(connection)
    name = next(key[1] for key in loader.disk_migrations if key[0] == app and key[1].endswith("check_lists_as_arrays"))
    migration = loader.get_migration(app, name)
    (operation,) = migration.operations
    names = [op.constraint.name for op in operation.database_operations if hasattr(op, "constraint")]
    before, after = loader.project_state((app, name), at_end=False), loader.project_state((app, name))
    return migration, operation, names, before, after


def _definitions(names: list[str]) -> dict[str, tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint WHERE conname = ANY (%s)",
            [names],
        )
        return {name: (definition, valid) for name, definition, valid in cursor.fetchall()}


def test_each_rewrite_drops_and_adds_in_one_statement_then_validates_in_another():
    """A large table is locked only for a moment: each constraint added NOT VALID where the old
    one is dropped, then validated (a scan that lets rows be written meanwhile), in a migration
    that runs them as transactions of their own."""
    for app in REWRITES:
        migration, operation, names, before, after = _rewrite(app)
        assert migration.atomic is False, app
        assert isinstance(operation, OnPostgreSQL), app
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            operation.database_forwards(app, editor, before, after)
        assert len(editor.collected_sql) == 2 * len(names), app
        pairs = [editor.collected_sql[n : n + 2] for n in range(0, len(editor.collected_sql), 2)]
        for name, (replace, validate) in zip(names, pairs, strict=True):
            assert f'DROP CONSTRAINT "{name}", ADD CONSTRAINT "{name}" CHECK (' in replace
            assert replace.rstrip(";").endswith(" NOT VALID")
            assert validate.rstrip(";").endswith(f'VALIDATE CONSTRAINT "{name}"')


def test_a_rewrite_applied_again_leaves_its_constraints_as_they_were_and_validated():
    """What a migration run again after a failure does: the same constraints, validated."""
    _, operation, names, before, after = _rewrite("wallet")
    found = _definitions(names)
    assert len(found) == len(names)
    assert all(valid for _, valid in found.values())
    with connection.schema_editor(atomic=False) as editor:  # inside the test's transaction
        operation.database_forwards("wallet", editor, before, after)
    assert _definitions(names) == found


def test_on_postgresql_takes_only_check_constraints_replaced_under_their_names():
    check = models.CheckConstraint(condition=models.Q(kind__one_of=["bet"]), name="kind_known")
    unique = models.UniqueConstraint(fields=["kind"], name="kind_known")
    removed = migrations.RemoveConstraint("transaction", "kind_known")
    OnPostgreSQL(removed, migrations.AddConstraint("transaction", check))
    for operations in (
        [migrations.AddConstraint("transaction", check)],  # nothing removed
        [migrations.RemoveConstraint("transaction", "other"), migrations.AddConstraint("transaction", check)],
        [removed, migrations.AddConstraint("transaction", unique)],
    ):
        with pytest.raises(ValueError, match="CHECK constraints removed and added again"):
            OnPostgreSQL(*operations)
