"""Where the studio's async code runs its database work."""

from __future__ import annotations

from channels.db import DatabaseSyncToAsync


def in_db_thread(fn):
    """`fn` made awaitable on a pool of threads, not on the process's one thread for sync code
    (`thread_sensitive`, which Django's async ORM methods use): there every socket's database work
    waits in one queue, and the crash room's crash waited behind its cash-outs and late joiners'
    snapshots behind both (measured by the crash room benchmark). Each call is its own
    transaction; connections are cleaned up around it as Channels does."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False)
