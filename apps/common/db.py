"""Statements that PostgreSQL plans once per connection instead of on every call.

Django binds parameters on the client (the statement travels as text with its values in it), so
PostgreSQL parses and plans every statement it receives. For the money path's few hot statements
planning cost more than running them (measured with pgbench on the bench database: compliance's
two look-ups ran three times as fast prepared). `prepared_cursor()` binds on the server instead,
and psycopg prepares a statement once it has run `DB_PREPARE_THRESHOLD` times on a connection
(settings.py); everything else keeps Django's default.

Behind a connection pooler in transaction mode (PgBouncer before 1.21), where a prepared
statement may not survive to the next transaction, set `DB_PREPARE_THRESHOLD` to empty.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections


def prepared_cursor():
    """A cursor of Django's (query logging and execute wrappers still see it) whose statements
    are bound on the server and so prepared on PostgreSQL; elsewhere (SQLite) the usual cursor.

    Only for statements whose text does not vary with the values: a value belongs in a
    parameter, and a statement rewritten for each call would only fill psycopg's cache."""
    db = default_connection()
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_server_binding_cursor()(db.connection))


def default_connection():
    """This thread's default connection, as `django.db.connection` is, looked up once: each
    attribute read through that proxy looks the connection up again (about eight calls), which
    the money path's functions, reading several for every statement, would pay each time."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def _server_binding_cursor():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg keeps the query on the cursor only when it sends the text, and Django's
            # query log (debug logging, CaptureQueriesContext) reads it from there.
            self._query = pgq
            super()._send_query_prepared(name, pgq, binary=binary)

    return PreparingCursor


def sql_constants(constants) -> str:
    """`'bet', 'win'`: choice constants as SQL literals, for a statement text built once. Only for
    constants of the code (TextChoices values), never a value from outside: those are parameters."""
    return ", ".join(repr(str(constant)) for constant in constants)


# PostgreSQL arrays' text forms, for a parameter the statement casts (`%s::bigint[]`): a string
# like any other for psycopg, where a list is inspected element by element to choose its dumper
# (about 35 Python calls an array, the dearest part of the sportsbook bet's arguments).


def numbers_array(values) -> str:
    """`{1,2.50}` of ints and Decimals (nothing else: a float or a string raises TypeError)."""
    values = list(values)
    if not set(map(type, values)) <= {int, Decimal}:
        raise TypeError("numbers_array takes ints and Decimals only")
    return "{" + ",".join(map(str, values)) + "}"


def texts_array(values) -> str:
    """`{"open","live"}` of strings, each quoted with its backslashes and quotes escaped, so that
    any text (a comma, a brace, a quote) stays one element."""
    return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]) + "}"
