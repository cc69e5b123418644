"""`manage.py outbox_sweeper`: dispatch again what a crash left undispatched (apps.common.outbox),
and run the apps' periodic sweeps (apps.common.sweeps: a bonus's expiry) on each pass, and their
ticks (the sportsbook's staleness watchdog) on a thread of their own, each at its sub-second period.

`make serve` runs it beside the ASGI server. `--once` sweeps once and exits (for cron or tests).
"""

from __future__ import annotations

import datetime as dt
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from apps.common import outbox, sweeps
from apps.common.startup import freeze_startup_objects


class Command(BaseCommand):
    help = "Re-dispatch domain events left undispatched by a crash; run beside the servers (make serve does)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between sweeps (default 2).")
        parser.add_argument(
            "--grace", type=float, default=10.0,
            help="Only events undispatched for longer than this many seconds (default 10): younger ones are "
                 "still being dispatched by the process that committed them.",
        )  # fmt: skip
        parser.add_argument("--keep-days", type=float, default=7.0, help="Delete dispatched events older than this.")

    def handle(self, *args, once: bool, interval: float, grace: float, keep_days: float, **options):
        grace_delta, keep = dt.timedelta(seconds=grace), dt.timedelta(days=keep_days)
        if once:
            done = outbox.sweep(grace=grace_delta)
            self.stdout.write(f"outbox_sweeper: dispatched {done} event(s), {outbox.undispatched_count()} left")
            for name, count in sweeps.run_all().items():
                self.stdout.write(f"outbox_sweeper: {name}: {count}")
            sweeps.Ticker().run_due()
            return
        freeze_startup_objects()  # a long-running process: its settlement and watchdog ticks keep time
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        sweeps.start_ticking(stop)
        self.stdout.write(f"outbox_sweeper: sweeping every {interval} s (grace {grace} s)")
        passes = 0
        while not stop.is_set():
            try:
                while outbox.sweep(grace=grace_delta):  # a full batch may mean more are waiting
                    if stop.is_set():
                        break
                sweeps.run_all()
                if passes % max(1, int(3600 / interval)) == 0:
                    outbox.purge(keep=keep)
            except Exception as exc:  # the database restarting: log and keep sweeping
                self.stderr.write(f"outbox_sweeper: sweep failed: {exc!r}")
                close_old_connections()
            passes += 1
            stop.wait(interval)
