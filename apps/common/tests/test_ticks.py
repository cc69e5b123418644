"""Ticks (apps.common.sweeps): sweeps on a sub-second period of their own, run by one thread per
process, on a clock the tests control."""

from __future__ import annotations

import threading

from apps.common import sweeps


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
