"""What a call sends to PostgreSQL on this thread's connection, message by message, read from
libpq's own trace: for tests that pin a call's round trips (a round trip ends at each `Sync`, or
at a simple `Query`, which syncs itself). Run them outside any test transaction
(`django_db(transaction=True)`), as in production."""

from __future__ import annotations

from django.db import connection
from psycopg import pq


def forget_prepared_statements() -> None:
    """Leave this thread's connection with no statement prepared, as a server's starts, whatever
    earlier tests on this worker prepared on it. Past 100 of them (psycopg's `prepared_max`),
    preparing one more deallocates the least recently used, a Close and a Sync sent before the
    next statement, which a trace would count as one more round trip of the call. A rollback makes
    psycopg forget them all, on the server too (`DEALLOCATE ALL`)."""
    connection.ensure_connection()
    pg = connection.connection
    pg.autocommit = False  # psycopg begins before its next statement
    pg.execute("SELECT 1")
    pg.rollback()
    pg.autocommit = True  # Django's: outside any atomic block, the connection is in autocommit


def messages_sent(tmp_path, call) -> list[str]:
    """The frontend's messages of `call` on this thread's connection, each statement named by its
    first word: 'Bind BEGIN', 'Bind SELECT', 'Sync', 'Query COMMIT', ... (a statement is a Bind
    in the extended protocol, prepared or not; a Query in the simple one)."""
    connection.ensure_connection()
    pg = connection.connection
    # A statement prepared before the call has no Parse in the trace, and may be gone from the
    # server after it (psycopg deallocates every one at a rollback): looked up in both.
    statements = _prepared()
    path = tmp_path / "libpq.trace"
    with open(path, "w") as trace:
        pg.pgconn.trace(trace.fileno())
        pg.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            pg.pgconn.untrace()
    statements |= _prepared()
    sent = []
    for line in path.read_text().splitlines():
        direction, _, message, *rest = line.split("\t")
        if direction != "F":
            continue
        quoted = rest[0].split('"') if rest else []
        if message == "Parse":  # Parse "name" "text": the text of a statement bound later
            statements[quoted[1]] = quoted[3]
        elif message == "Bind":  # Bind "portal" "statement"
            sent.append(f"Bind {statements[quoted[3]].split(' ', 1)[0]}")
        elif message == "Query":
            sent.append(f"Query {quoted[1].split(' ', 1)[0]}")
        elif message == "Sync":
            sent.append("Sync")
    return sent


def _prepared() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def autocommit_matches_django() -> bool:
    """Whether psycopg's autocommit is Django's again (a BEGIN sent by hand sets psycopg's)."""
    return connection.connection.autocommit == connection.get_autocommit()
