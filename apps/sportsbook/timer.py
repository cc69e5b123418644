"""Releasing each pending bet at its `release_at`, to the millisecond, in the process that took it.

The in-play delay is a promise to the book (a bet is re-checked only once the whole delay has run)
and to the player (it is decided as soon as it has). The release sweep (`services.release_due_bets`,
on the outbox sweeper's pass every 2 s) keeps the first and only roughly the second; so when a held
bet commits, the service hands it to this process's timer (`schedule_release`, on commit), which
calls `services.release_pending_bet` at its `release_at`.

One daemon thread per process, started with the first bet, waits on a heap of (due, bet id) under
a condition variable: a bet due sooner than the one it waits for wakes it at once. A due bet is
released on a small pool of threads (`RELEASERS`), so that one release waiting for a lock holds
back no other. A thread rather
than the server's event loop because both servers PAM runs have one that suits: embedded
`make run` (Django's runserver, where a bet is placed in a request thread) and `make serve`'s
uvicorn workers (a sync view runs in a worker thread); the release is a database transaction,
which would block an event loop anyway. Each releasing thread closes its database connection
when it finds nothing waiting, so an idle process holds none.

Nothing here is needed for correctness: the release is idempotent (a bet decided already is
returned as it is; two releases racing move the money once), so the sweep, the player's GET and
this timer may all try one bet. A bet this process took and then died with, or one over the
heap's bound (`MAX_WAITING`, logged), is released by the sweep within a pass.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections
from django.utils import timezone

from apps.sportsbook.choices import BetStatus

logger = logging.getLogger(__name__)

# The most bets one process holds a timer for; beyond it the sweep releases them.
MAX_WAITING = 20_000
# How long an idle timer thread waits before it looks at its stop flag again.
IDLE_WAIT_S = 1.0
# Releases that may run at once in a process (each with its own database connection while busy).
RELEASERS = 4


class ReleaseTimer:
    """Calls `release(bet_id)` at each bet's due time (a wall-clock timestamp, as `release_at`), on
    one of `releasers` threads: a release waiting for a lock (its player's next bet holds the
    player's accounts) does not hold back the bets due after it."""

    def __init__(
        self, release: Callable[[int], dt.datetime | None], clock: Callable[[], float] = time.time,
        releasers: int = RELEASERS,
    ) -> None:  # fmt: skip
        self._release = release
        self._clock = clock
        self._releasers = releasers
        self._heap: list[tuple[float, int]] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight = 0

    def schedule(self, bet_id: int, due: float) -> bool:
        """Release `bet_id` at `due` (seconds since the epoch); False when the heap is full."""
        with self._changed:
            if len(self._heap) >= MAX_WAITING:
                logger.warning("release timer full (%d bets): bet %d is left to the sweep", MAX_WAITING, bet_id)
                return False
            heapq.heappush(self._heap, (due, bet_id))
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                # The timer thread is a daemon; at exit the pool's threads finish the releases
                # already handed to them (a release half-done would be rolled back anyway).
                self._pool = ThreadPoolExecutor(max_workers=self._releasers, thread_name_prefix="pam-bet-release")
                self._thread = threading.Thread(target=self._run, name="pam-bet-timer", daemon=True)
                self._thread.start()
            self._changed.notify()
        return True

    def waiting(self) -> int:
        with self._changed:
            return len(self._heap)

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and forget what it waited for (the sweep releases those bets)."""
        with self._changed:
            self._heap.clear()
            self._stop.set()
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _next_due(self) -> int | None:
        """The bet id whose time has come, or None after waiting (until the next one's time, a
        new bet or the stop flag)."""
        with self._changed:
            if not self._heap:
                self._changed.wait(IDLE_WAIT_S)
                return None
            due, bet_id = self._heap[0]
            wait = due - self._clock()
            if wait > 0:
                self._changed.wait(wait)
                return None
            heapq.heappop(self._heap)
            self._in_flight += 1
            return bet_id

    def _run(self) -> None:
        while not self._stop.is_set():
            bet_id = self._next_due()
            if bet_id is not None:
                self._pool.submit(self._release_one, bet_id)

    def _release_one(self, bet_id: int) -> None:
        try:
            later = self._release(bet_id)
        except Exception:
            logger.exception("release of bet %d failed: left to the sweep", bet_id)
            later = None
        if later is not None:  # not yet due by the database's clock: once more then
            self.schedule(bet_id, later.timestamp())
        with self._changed:
            self._in_flight -= 1
            idle = not self._heap
        if idle:
            connections.close_all()  # this thread's: a process with nothing waiting holds none


def _release(bet_id: int) -> dt.datetime | None:
    """Release the bet; its `release_at` if it is still pending because it is not due yet."""
    from apps.sportsbook import services  # services schedules through this module

    bet = services.release_pending_bet(bet_id=bet_id)
    if bet.status == BetStatus.PENDING and bet.release_at > timezone.now():
        return bet.release_at
    return None


_timer = ReleaseTimer(_release)


def schedule_release(bet_id: int, release_at: dt.datetime) -> bool:
    """Release the pending bet `bet_id` at `release_at` in this process (call it once the bet has
    committed); False, doing nothing, when SPORTSBOOK_RELEASE_TIMER is off or the heap is full."""
    if not settings.SPORTSBOOK_RELEASE_TIMER:
        return False
    return _timer.schedule(bet_id, release_at.timestamp())


def stop() -> None:
    """End this process's timer thread (tests; the sweep releases what it waited for)."""
    _timer.stop()
