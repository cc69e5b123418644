"""The only module of common that takes locks: the one that keeps `migrate` to one process.

Each web container runs `migrate` before it serves (docs/deployment.md), so several start it at
once on a new release. Django's migrations take no lock of their own: two processes would both
find a migration unapplied and both run it, the second failing on what the first created (a
table that exists), or, for a migration that is not atomic, running its steps again beside the
first's. A session-level advisory lock, on a connection of its own held for the whole command,
makes the second wait and then find nothing left to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import DatabaseError, connections

# The first key of the two-key advisory locks of this app, so that no other lock of the database
# shares its numbers (apps/payments/locks.py has its own).
_MIGRATIONS = 0x6D69_6700  # "mig\0"


@contextlib.contextmanager
def migrations_lock(alias: str) -> Iterator[None]:
    """Hold the database's migrations lock (waiting for it) until the block ends. A lock of the
    session, not of a transaction: a migration that is not atomic commits as it goes. Nothing on
    SQLite, whose embedded mode has one process."""
    if connections[alias].vendor != "postgresql":
        yield
        return
    holder = connections.create_connection(alias)  # its own connection, apart from the command's
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, 0)", [_MIGRATIONS])
        yield
    finally:
        # Released before the connection goes back to the process's pool (where a session's
        # locks would outlive it); a failed release leaves it to the session's end.
        with contextlib.suppress(DatabaseError), holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [_MIGRATIONS])
        holder.close()
