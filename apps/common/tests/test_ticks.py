"""Ticks (apps.common.sweeps): sweeps on a sub-second period of their own, run by one thread per
process, on a clock the tests control."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from apps.common import sweeps
from apps.common.models import OutboxEvent


def test_each_tick_runs_at_its_own_period_and_one_that_raises_runs_again_at_the_next(monkeypatch):
    clock = [100.0]
    calls: list[tuple[str, float]] = []

    def failing() -> int:
        calls.append(("failing", clock[0]))
        raise RuntimeError("the database restarting")

    def quick() -> int:
        calls.append(("quick", clock[0]))
        return 0

    monkeypatch.setattr(sweeps, "_ticks", {})
    monkeypatch.setattr(sweeps, "close_old_connections", lambda: None)  # no database in this test
    sweeps.register_tick("failing", failing, every=lambda: 0.5)
    sweeps.register_tick("quick", quick, every=lambda: 0.2)
    ticker = sweeps.Ticker(clock=lambda: clock[0])

    waits = []
    for now in (100.0, 100.1, 100.2, 100.4, 100.5):
        clock[0] = now
        waits.append(round(ticker.run_due(), 6))

    assert calls == [("failing", 100.0), ("quick", 100.0), ("quick", 100.2), ("quick", 100.4), ("failing", 100.5)]
    assert waits == [0.2, 0.1, 0.2, 0.1, 0.1]


def test_the_ticking_thread_starts_once_per_process_and_stops_when_told(monkeypatch):
    monkeypatch.setattr(sweeps, "_ticks", {})
    stop = threading.Event()
    thread = sweeps.start_ticking(stop)
    try:
        assert thread.is_alive()
        assert sweeps.start_ticking(stop) is thread
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_without_a_sweeper_runs_the_sweepers_pass_as_a_tick(monkeypatch):
    """Embedded mode: what the outbox sweeper does on a pass (the events left undispatched, then
    every sweep) is one of the server's ticks, on the sweeper's period."""
    monkeypatch.setattr(sweeps, "_ticks", {})
    monkeypatch.setattr(sweeps, "_sweeps", {})
    monkeypatch.setattr(sweeps, "start_ticking", lambda stop=None: None)  # the tick is run by hand
    swept = []
    sweeps.register("counted", lambda: swept.append(1) or 1)
    old = timezone.now() - dt.timedelta(minutes=1)
    left = OutboxEvent.objects.create(name="pam.unknown_in_this_test", payload={}, created_at=old)

    sweeps.run_in_server()
    sweeps.run_in_server()  # asked on every connection: one tick
    assert list(sweeps._ticks) == ["sweeper"]
    sweeper_pass, every = sweeps._ticks["sweeper"]
    assert every() == sweeps.SWEEP_SECONDS

    sweeper_pass()

    assert swept == [1]
    left.refresh_from_db()
    assert left.attempts == 1  # the outbox's sweep tried it (and set aside a signal nobody knows)
    assert "pam.unknown_in_this_test" in left.last_error
