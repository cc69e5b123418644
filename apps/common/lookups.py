"""`one_of`: a text column's value is one of a fixed list, written for CHECK constraints.

`Q(kind__one_of=["bet", "win"])` means what `Q(kind__in=["bet", "win"])` means, and on SQLite it
is the same `IN`. On PostgreSQL it is one array constant, `kind::text = ANY ('{bet,win}'::text[])`,
where `IN (…)` becomes an ARRAY of one constant per value.

Why it matters there: PostgreSQL keeps a CHECK as the text of its expression tree, and every
statement that inserts or updates a row reads that text back into a tree and folds the ARRAY
into a constant before it checks anything. A list of eighteen kinds stored as eighteen
constants is four kilobytes read on every bet; as one array it is a third of that, with nothing
to fold. On the bets' path that was 4.5 to 7 % of PostgreSQL's time per bet (docs/benchmarks.md,
"CHECK constraints as one array constant").

Partial indexes keep `__in`: PostgreSQL reads an index's predicate once per connection, not per
statement.
"""

from django.db import migrations
from django.db.models import CharField, CheckConstraint
from django.db.models.lookups import In

from apps.common.db import texts_array


class OneOf(In):
    lookup_name = "one_of"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery: `IN` as ever
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        return f"{lhs} = ANY (%s::text[])", (*lhs_params, texts_array(values))


def register() -> None:
    CharField.register_lookup(OneOf)


class OnPostgreSQL(migrations.SeparateDatabaseAndState):
    """CHECK constraints replaced by ones of the same name (`RemoveConstraint` and `AddConstraint`
    pairs), in the schema on PostgreSQL only and in the state everywhere: for constraints
    rewritten with `one_of`, whose SQL on SQLite is the `IN` it was. There the change would only
    rebuild each table, and a rebuilt table keeps only the indexes its models declare (not those
    other apps' migrations added to it).

    On PostgreSQL each constraint is dropped and added `NOT VALID` in one `ALTER TABLE` (the table
    locked for a moment, new rows checked from then on), then validated in a statement of its own,
    which reads the table under a lock that lets rows be written meanwhile. In a migration with
    `atomic = False` the two are two transactions, so a large ledger is never locked for the
    length of a scan; run again after a failure, the pair only does the same again."""

    def __init__(self, *operations):
        removed = {(op.model_name, op.name) for op in operations if isinstance(op, migrations.RemoveConstraint)}
        added = {
            (op.model_name, op.constraint.name)
            for op in operations
            if isinstance(op, migrations.AddConstraint) and isinstance(op.constraint, CheckConstraint)
        }
        if removed != added or len(operations) != len(removed) + len(added):
            raise ValueError("OnPostgreSQL takes CHECK constraints removed and added again under the same names")
        super().__init__(database_operations=list(operations), state_operations=list(operations))

    def deconstruct(self):
        return self.__class__.__qualname__, list(self.state_operations), {}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._replace(app_label, schema_editor, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._replace(app_label, schema_editor, to_state)

    def _replace(self, app_label, schema_editor, to_state) -> None:
        """Each constraint as `to_state` has it, in place of the one of its name."""
        if schema_editor.connection.vendor != "postgresql":
            return
        for op in self.database_operations:
            if not isinstance(op, migrations.AddConstraint):
                continue
            model = to_state.apps.get_model(app_label, op.model_name)
            constraint = next(c for c in model._meta.constraints if c.name == op.constraint.name)
            table, name = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(constraint.name)
            check = constraint.constraint_sql(model, schema_editor)  # CONSTRAINT "name" CHECK (…)
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD {check} NOT VALID")
            schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
