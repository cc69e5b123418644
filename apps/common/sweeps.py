"""Periodic sweeps that make the database follow time: work due at a moment rather than on an
event (a bonus's expiry). Apps register theirs at start-up (`AppConfig.ready()`); the outbox
sweeper process (`manage.py outbox_sweeper`, run by `make serve`) runs every registered sweep on
each of its passes, so nothing here needs a scheduler of its own. A sweep must be idempotent and
bounded: it does at most a batch per call, and the next pass does the rest.

A tick is a sweep due within a second of its moment (the sportsbook's staleness watchdog), too
often for the sweeper's passes of a few seconds: `register_tick` gives it a period of its own, and
one thread per process runs the ticks (`start_ticking`). The outbox sweeper starts it in
production; in embedded mode (`make run`, which has no sweeper) the server process does
(pam/asgi.py, `RUN_TICKS_IN_SERVER`, through `run_in_server`), and there its thread also does the
sweeper's pass every SWEEP_SECONDS: events left undispatched, then every sweep. A tick must be as
safe as a sweep to run in several processes at once: each sweeper runs its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

Sweep = Callable[[], int]
_sweeps: dict[str, Sweep] = {}


def register(name: str, sweep: Sweep) -> None:
    """Run `sweep()` (returning how many things it did) on every pass; again with the same name
    replaces it."""
    _sweeps[name] = sweep


def run_all() -> dict[str, int]:
    """Run every registered sweep once: {name: count}. A sweep that raises is logged and counted
    -1; the others still run."""
    done = {}
    for name, sweep in _sweeps.items():
        try:
            done[name] = sweep()
        except Exception:
            logger.exception("sweep %s failed", name)
            done[name] = -1
    return done


_ticks: dict[str, tuple[Sweep, Callable[[], float]]] = {}


def register_tick(name: str, sweep: Sweep, every: Callable[[], float]) -> None:
    """Run `sweep()` every `every()` seconds (asked again after each run, so a setting is read
    when the tick runs, not at start-up); again with the same name replaces it."""
    _ticks[name] = (sweep, every)


class Ticker:
    """Runs the registered ticks each at its period, on a monotonic clock that tests replace."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.due: dict[str, float] = {}

    def run_due(self) -> float:
        """Run every tick that is due; returns the seconds until the next one is. A tick that
        raises is logged and runs again at its next period."""
        now = self.clock()
        for name, (sweep, every) in list(_ticks.items()):
            if self.due.get(name, now) > now:
                continue
            try:
                sweep()
            except Exception:
                logger.exception("tick %s failed", name)
                close_old_connections()  # the database restarting: a fresh connection next time
            self.due[name] = now + every()
        return max(0.0, min(self.due.values(), default=now + 1.0) - self.clock())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            stop.wait(self.run_due())


SWEEP_SECONDS = 2.0  # as the outbox sweeper's default interval
UNDISPATCHED_GRACE = dt.timedelta(seconds=10)  # as its default grace


def sweeper_pass() -> int:
    """What the outbox sweeper does on each pass: the events a failed dispatch left behind, then
    every registered sweep. Returns how many things it did."""
    from apps.common import outbox  # its models: not importable while the apps are loading

    return outbox.sweep(grace=UNDISPATCHED_GRACE) + sum(count for count in run_all().values() if count > 0)


def run_in_server() -> threading.Thread:
    """The ticks in a server process with no sweeper beside it (embedded mode), the sweeper's
    pass among them, so that a bonus expires and an undispatched event goes out there too."""
    if "sweeper" not in _ticks:  # asked on every connection
        register_tick("sweeper", sweeper_pass, every=lambda: SWEEP_SECONDS)
    return start_ticking()


_started: threading.Thread | None = None
_starting = threading.Lock()


def start_ticking(stop: threading.Event | None = None) -> threading.Thread:
    """This process's ticking thread, started once (a daemon: it ends with the process, or when
    `stop` is set)."""
    global _started
    with _starting:
        if _started is None or not _started.is_alive():
            ticker = Ticker()
            _started = threading.Thread(target=ticker.run, args=(stop or threading.Event(),), name="pam-ticks",
                                        daemon=True)  # fmt: skip
            _started.start()
        return _started
