"""Where a served load's time goes: the CPU of the server's worker processes and of the database's
backends per request, read from /proc around each slice, and what the backends were doing,
sampled from `pg_stat_activity` while it runs (running, waiting on a row lock, on the WAL, or on
something else).

A load that waits on a row lock every request takes (the sportsbook single's platform exposure
row) reads as idle CPU and lock samples here, not as a dearer request: the two loads of
`BENCH=sportsbook` are compared on both.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.profiling import backend_cpu_of

SAMPLE_EVERY = 0.05  # seconds
STATES = ("running", "row lock", "WAL", "other")


def classify(wait_event_type: str | None, wait_event: str | None) -> str:
    """An active backend's state, from `pg_stat_activity`'s wait columns."""
    if wait_event_type is None:
        return "running"
    if wait_event_type == "Lock" and wait_event in ("tuple", "transactionid"):
        return "row lock"
    if (wait_event or "").startswith("WAL"):
        return "WAL"
    return "other"


def _cpu_seconds(pid: int) -> float | None:
    try:
        return backend_cpu_of(pid)  # any process's, read from /proc
    except OSError:  # ended
        return None


def server_pids(port: int) -> list[int]:
    """The uvicorn process listening on `port` (started with `--port PORT`) and its workers."""
    parents: dict[int, int] = {}
    master = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[1])
        served = b"pam.asgi:application" in cmdline and b"--port" in cmdline
        if served and cmdline[cmdline.index(b"--port") + 1] == str(port).encode():
            master = int(entry.name)
    if master is None:
        raise RuntimeError(f"no PAM server on port {port}")
    return [master, *(pid for pid, parent in parents.items() if parent == master)]


@dataclass
class Split:
    """One load's totals over its slices."""

    requests: int = 0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    samples: collections.Counter = field(default_factory=collections.Counter)

    def line(self, name: str) -> str:
        if not self.requests:
            return f"{name}: no request"
        sampled = sum(self.samples.values()) or 1
        states = ", ".join(f"{self.samples[state] * 100 / sampled:.0f} % {state}" for state in STATES)
        return (
            f"{name}: CPU per request {self.server_cpu / self.requests * 1e6:.0f} us in the server's processes, "
            f"{self.database_cpu / self.requests * 1e6:.0f} us in PostgreSQL; its active backends' samples: {states}"
        )


class Measured:
    """`with Measured(...).slice(split) as done: ...; done(requests)`: the CPU used by the server
    and the database's backends while the block runs, and the backends' states sampled every
    SAMPLE_EVERY seconds, added to `split` with the block's count of requests."""

    def __init__(self, conninfo: str, pids: list[int]) -> None:
        self.conninfo = conninfo  # the served database's
        self.pids = pids  # the server's processes (server_pids)

    def _backends(self, conn: psycopg.Connection) -> list[int]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def _cpu(self, pids: list[int]) -> dict[int, float]:
        return {pid: cpu for pid in pids if (cpu := _cpu_seconds(pid)) is not None}

    @contextlib.contextmanager
    def slice(self, split: Split):
        counted: list[int] = []
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            servers, backends = self._cpu(self.pids), self._cpu(self._backends(conn))
            stop = threading.Event()
            sampler = threading.Thread(target=self._sample, args=(split, stop), daemon=True)
            sampler.start()
            try:
                yield counted.append
            finally:
                stop.set()
                sampler.join()
                split.server_cpu += _grown(servers, self._cpu(self.pids))
                split.database_cpu += _grown(backends, self._cpu(self._backends(conn)))
                split.requests += sum(counted)

    def _sample(self, split: Split, stop: threading.Event) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            query = (
                "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()"
            )
            while not stop.wait(SAMPLE_EVERY):
                for wait_type, wait_event in conn.execute(query).fetchall():
                    split.samples[classify(wait_type, wait_event)] += 1


def _grown(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings; a process that started between them counts from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
