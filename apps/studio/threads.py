"""Where the studio's async code runs its database work."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync

# The crash room's runner's own thread: the round's clock (start, crash, settlement) never waits in
# the queue of the players' bets and cash-outs, which come in bursts at the same moments.
_runner_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-crash-runner")


def in_db_thread(fn):
    """`fn` made awaitable on a pool of threads, not on the process's one thread for sync code
    (`thread_sensitive`, which Django's async ORM methods use): there every socket's database work
    waits in one queue, and the crash room's crash waited behind its cash-outs and late joiners'
    snapshots behind both (measured by the crash room benchmark). Each call is its own
    transaction; connections are cleaned up around it as Channels does."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False)


def in_runner_thread(fn):
    """`fn` made awaitable on the crash room runner's own thread (one database connection, one
    step at a time, as the runner takes them), otherwise as `in_db_thread`."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=_runner_thread)
