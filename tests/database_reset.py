"""A faster way back to a clean database after each transactional test, with the same result.

Every transactional test of this suite asks for `serialized_rollback`: Django empties every table
after the test (one TRUNCATE of all of them) and, before the next one, reloads the rows the
migrations wrote (permissions, currencies, rules, the studio's games...) object by object from a
JSON copy. On PostgreSQL the TRUNCATE of every table costs about a quarter of a second (each table
and index gets a new file) and the reload as much again, while the test itself often takes less.

This module keeps Django's contract (each test starts from the database Django would give it) and
does less work to reach it:

- after a test, only the tables that hold rows are emptied, by DELETE, which costs next to nothing
  on a few rows. Autovacuum is off for every table from the first such reset on (after a TRUNCATE
  of every table written to, as Django's flush), so no deleted row's slot is handed to a new row
  and rows read without ORDER BY still come back in the order written, as after a TRUNCATE.
  TRUNCATE stays for tables with many rows and for a role that may not turn triggers off: then
  only the tables written since their last TRUNCATE, with every table that refers to them;
- the migrations' rows are left in place when they are exactly as the reload wrote them, compared
  by a digest of each table's rows; the next serialized test then needs no reload. When a test
  changed them, every table it wrote is emptied and the rows are reloaded at once, not at the next
  serialized test's set-up.

So every test, transactional or not, starts with the migrations' rows in place, as Django's own
order (every `TestCase` before any `TransactionTestCase`) would give it. Django's reset leaves
the tables empty after a serialized test instead, which a non-transactional test after it would
not expect; with the suite's files shared between two workers (pytest-xdist, by file), each
worker runs both kinds in the order its files come.

The digest is taken right after a reload into an empty database, so "left in place" means
"identical to what the reload would write", not "identical to what the migrations wrote".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.apps import apps
from django.core import serializers
from django.db import connections, transaction
from django.test import TransactionTestCase

# Above this many rows in one table, TRUNCATE (a new file) beats DELETE (a dead row each).
DELETE_AT_MOST = 5000


@dataclass
class _Tables:
    """What is known of one database between tests."""

    # Digests of the non-empty tables right after a reload into an empty database.
    snapshot: dict[str, str] | None = None
    # True when the database holds exactly the snapshot and nothing else (the reload can be skipped).
    at_snapshot: bool = False
    # True when every table Django flushes is empty (the reload must run from empty).
    empty: bool = False
    names: list[str] = field(default_factory=list)
    # Table -> the tables whose foreign keys refer to it.
    referrers: dict[str, set[str]] = field(default_factory=dict)
    superuser: bool | None = None
    # True once autovacuum is off for every table (see `_may_delete`).
    unvacuumed: bool = False


_state: dict[str, _Tables] = {}


def _tables(db_name: str) -> _Tables:
    tables = _state.setdefault(db_name, _Tables())
    if not tables.names:
        connection = connections[db_name]
        # The tables that `manage.py flush` empties, and only those.
        tables.names = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT confrelid::regclass::text, conrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
            )
            for referred, referrer in cursor.fetchall():
                tables.referrers.setdefault(referred.strip('"'), set()).add(referrer.strip('"'))
    return tables


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _non_empty(db_name: str, names: list[str]) -> list[str]:
    connection = connections[db_name]
    if not names:
        return []
    sql = " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {_quote(connection, name)})" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(sql, names)
        return sorted(row[0] for row in cursor.fetchall())


def _row_text(connection, name: str) -> str:
    """A row of `name` as text. The rows of a many-to-many table that Django creates itself are
    written again with new ids by each reload, so only what they link counts."""
    through = _auto_created_tables().get(name)
    if through is None:
        return "t::text"
    return "ROW(" + ", ".join(f"t.{_quote(connection, column)}" for column in through) + ")::text"


def _auto_created_tables() -> dict[str, list[str]]:
    return {
        model._meta.db_table: sorted(f.column for f in model._meta.local_fields if not f.primary_key)
        for model in apps.get_models(include_auto_created=True)
        if model._meta.auto_created
    }


def _digests(db_name: str, names: list[str]) -> dict[str, str]:
    connection = connections[db_name]
    if not names:
        return {}
    selects = []
    for name in names:
        row = _row_text(connection, name)
        selects.append(f"SELECT %s, md5(string_agg({row}, E'\\n' ORDER BY {row})) FROM {_quote(connection, name)} t")
    sql = " UNION ALL ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(sql, names)
        return dict(cursor.fetchall())


def written_tables(db_name: str) -> list[str]:
    """The tables whose heap has a page: rows, or dead rows, since their last TRUNCATE."""
    with connections[db_name].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) AND pg_relation_size(c.oid) > 0",
            [_tables(db_name).names],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _with_referrers(db_name: str, names: list[str]) -> set[str]:
    """`names` and every table that refers to one of them, directly or not: what one TRUNCATE of
    `names` must include."""
    referrers = _tables(db_name).referrers
    found, todo = set(names), list(names)
    while todo:
        for referrer in referrers.get(todo.pop(), ()):
            if referrer not in found:
                found.add(referrer)
                todo.append(referrer)
    return found


def _truncate(db_name: str, names: set[str]) -> None:
    if names:
        connection = connections[db_name]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(_quote(connection, name) for name in sorted(names))}")


def _supported(db_name: str) -> bool:
    return connections[db_name].vendor == "postgresql"


def digests_of_every_table(db_name: str) -> dict[str, str | None]:
    """Each table `manage.py flush` empties, with a digest of its rows (None when it has none)."""
    return _digests(db_name, _tables(db_name).names)


def reload_from_empty(db_name: str) -> None:
    """What Django does between two serialized tests: empty every table, then reload the
    migrations' rows; the result is remembered as the snapshot."""
    tables = _tables(db_name)
    _truncate(db_name, set(tables.names))
    _reload_every_table(db_name)
    _take_snapshot(db_name)
    tables.at_snapshot = True
    tables.empty = False


def _reload_every_table(db_name: str) -> None:
    """The migrations' rows written again, as Django's set-up of a serialized test writes them."""
    connection = connections[db_name]
    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


def _take_snapshot(db_name: str) -> None:
    """Remember the digest of every table that holds rows now, just after a reload into an empty
    database: what "at the snapshot" is compared with."""
    tables = _tables(db_name)
    tables.snapshot = _digests(db_name, _non_empty(db_name, tables.names))


def is_at_snapshot(db_name: str) -> bool:
    return _tables(db_name).at_snapshot


def _reload(db_name: str, names: set[str]) -> None:
    """Reload the migrations' rows of the tables `names` only, as Django reloads all of them."""
    connection = connections[db_name]
    objects = [
        data
        for data in json.loads(connection._test_serialized_contents)
        if apps.get_model(data["model"])._meta.db_table in names
    ]
    with transaction.atomic(using=db_name), connection.constraint_checks_disabled():
        for deserialized in serializers.deserialize("python", objects, using=db_name):
            deserialized.save()


def _may_delete(db_name: str, names: list[str]) -> bool:
    """Whether DELETE may empty `names`: the role may turn triggers off (a superuser), no table
    holds many rows (TRUNCATE is faster there), and no heap is ever vacuumed (autovacuum off since
    the last TRUNCATE of every written table), so that a new row never takes a dead row's slot and
    rows still come back in the order written, as after a TRUNCATE."""
    tables = _tables(db_name)
    if not tables.unvacuumed:
        return False
    if tables.superuser is None:
        with connections[db_name].cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            tables.superuser = bool(cursor.fetchone()[0])
    if not tables.superuser or not names:
        return tables.superuser
    connection = connections[db_name]
    sql = " UNION ALL ".join(
        f"SELECT count(*) FROM (SELECT 1 FROM {_quote(connection, name)} LIMIT {DELETE_AT_MOST + 1}) s"
        for name in names
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return all(row[0] <= DELETE_AT_MOST for row in cursor.fetchall())


def _delete(db_name: str, names: list[str]) -> None:
    """DELETE every row of `names`. Replica mode fires no trigger: neither the ledger's append-only
    ones (TRUNCATE skips them too) nor the foreign keys' (the caller empties every table that
    holds a row referring to these)."""
    connection = connections[db_name]
    with transaction.atomic(using=db_name), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for name in names:
            cursor.execute(f"DELETE FROM {_quote(connection, name)}")


def _stop_vacuuming(db_name: str) -> None:
    """Autovacuum off for every table of this test database, once each was truncated or never
    written: from here on a deleted row's slot is never handed to a new row."""
    tables = _tables(db_name)
    connection = connections[db_name]
    with connection.cursor() as cursor:
        for name in tables.names:
            cursor.execute(f"ALTER TABLE {_quote(connection, name)} SET (autovacuum_enabled = false)")
    tables.unvacuumed = True


def reset_after(db_name: str) -> None:
    """After a serialized test: empty every table but the migrations' rows if those are untouched
    (by DELETE where it may, else by TRUNCATE of every table written to since its last TRUNCATE
    and of every table that refers to one of them, reloading the migrations' rows it took);
    otherwise truncate every table written to, as Django's flush would, and reload the migrations'
    rows: the database is left at the snapshot either way."""
    tables = _tables(db_name)
    written = written_tables(db_name)
    snapshot = tables.snapshot or {}
    untouched = (
        tables.snapshot is not None
        and set(snapshot) <= set(written)
        and _digests(db_name, sorted(snapshot)) == snapshot
    )
    if untouched:
        holding = _non_empty(db_name, [name for name in written if name not in snapshot])
        if _may_delete(db_name, holding):
            # The snapshot's rows refer only to the snapshot's rows (it is what a reload into an
            # empty database wrote), so emptying every other table leaves no row pointing nowhere.
            _delete(db_name, holding)
        else:
            truncated = _with_referrers(db_name, [name for name in written if name not in snapshot])
            # A table of the snapshot that refers to a table truncated here goes with it
            # (TRUNCATE takes every table that refers to those it empties), and is reloaded.
            reloaded = truncated & set(snapshot)
            _truncate(db_name, truncated)
            if reloaded:
                _reload(db_name, reloaded)
                untouched = _digests(db_name, sorted(reloaded)) == {name: snapshot[name] for name in reloaded}
    if not untouched:
        _truncate(db_name, _with_referrers(db_name, written_tables(db_name)))
        if not tables.unvacuumed:
            _stop_vacuuming(db_name)
        # The migrations' rows at once, not at the next serialized test's set-up: the next test
        # may be a non-transactional one (the suite's files run on two workers, each its own mix
        # of both kinds), which must find the rows it would find had no transactional test run.
        _reload_every_table(db_name)
        if tables.snapshot is None:
            _take_snapshot(db_name)
    tables.at_snapshot = True
    tables.empty = False


def _leave_the_snapshot(db_name: str) -> None:
    """The database Django would have left after a serialized test: every table empty."""
    tables = _tables(db_name)
    if tables.at_snapshot:
        _truncate(db_name, _with_referrers(db_name, sorted(tables.snapshot or ())))
        tables.at_snapshot = False
        tables.empty = True


_django_fixture_setup = TransactionTestCase._fixture_setup.__func__
_django_fixture_teardown = TransactionTestCase._fixture_teardown


def _reloads(cls, db_name: str) -> bool:
    """Whether Django's set-up of `cls` reloads the migrations' rows into `db_name` and does
    nothing else to it."""
    return (
        cls.serialized_rollback
        and cls.available_apps is None
        and not cls.fixtures
        and not cls.reset_sequences
        and _supported(db_name)
        and hasattr(connections[db_name], "_test_serialized_contents")
    )


@classmethod
def _fixture_setup(cls) -> None:
    names = cls._databases_names(include_mirrors=False)
    reloads = [db_name for db_name in names if _reloads(cls, db_name)]
    if reloads == names and all(_tables(db_name).at_snapshot for db_name in names):
        # Each database already holds what the reload would write, and nothing else.
        for db_name in names:
            _tables(db_name).at_snapshot = False
        return
    for db_name in names:
        if db_name in _state:
            _leave_the_snapshot(db_name)
    from_empty = {db_name for db_name in reloads if _tables(db_name).empty}
    _django_fixture_setup(cls)
    for db_name in reloads:
        tables = _tables(db_name)
        tables.at_snapshot = tables.empty = False
        if db_name in from_empty and tables.snapshot is None:
            _take_snapshot(db_name)


def _fixture_teardown(self) -> None:
    databases = self._databases_names(include_mirrors=False)
    fast = (
        self.serialized_rollback
        and self.available_apps is None
        and all(
            _supported(db_name) and hasattr(connections[db_name], "_test_serialized_contents") for db_name in databases
        )
    )
    if not fast:
        for db_name in databases:
            _state.pop(db_name, None)
        _django_fixture_teardown(self)
        return
    for db_name in databases:
        reset_after(db_name)


def install() -> None:
    """Route Django's test-case set-up and tear-down through this module (pytest-django builds its
    test cases on these two classes)."""
    TransactionTestCase._fixture_setup = _fixture_setup
    TransactionTestCase._fixture_teardown = _fixture_teardown
