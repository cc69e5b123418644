"""The processes of the benchmarks that run PAM as a deployment does, several instances on one
database and one Redis (bench/crash.py, bench/odds.py): a Redis of the run's own, PAM instances
under uvicorn, the outbox sweeper, and the clients' loop-lag probe."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT, free_port, stop, wait_for_http


class Abort(Exception):
    """The server side did not do what the protocol says: the message says what was missing."""


@contextlib.contextmanager
def private_redis(given_url: str = ""):
    """`given_url` if set, else a redis-server of the run's own on a free loopback port, keeping
    nothing on disk: the run's groups and leases meet nobody else's."""
    if given_url:
        yield given_url
        return
    import redis

    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise Abort(f"redis-server did not start on 127.0.0.1:{port}") from None
                time.sleep(0.1)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def tail(self, lines: int = 30) -> str:
        return tail(self.log, lines)


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def log_path(env: dict[str, str], name: str) -> Path:
    """`PAM_DATA_DIR/<database>-<name>.log`: runs on other databases keep their own logs."""
    return Path(env["PAM_DATA_DIR"]) / f"{env['DATABASE_URL'].rsplit('/', 1)[-1]}-{name}.log"


def _end_group(process: subprocess.Popen) -> None:
    stop(process)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def instance(env: dict[str, str], name: str, *, workers: int = 1, wallet_url: str = "", **settings: str):
    """One PAM instance (uvicorn, `workers` processes, as `make serve` runs it) on a free loopback
    port, in a process group of its own so that a worker outliving its supervisor is ended with
    it. Its studio calls the wallet API at `wallet_url`, by default its own."""
    port = free_port()
    wallet_url = wallet_url or f"http://127.0.0.1:{port}"
    env = {**env, **settings, "PORT": str(port), "STUDIO_WALLET_URL": wallet_url}
    path = log_path(env, name)
    log = open(path, "w")  # noqa: SIM115 - to a file: a full pipe would block the server
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "uvicorn"), "pam.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--lifespan", "off", "--no-access-log",
         "--ws-per-message-deflate", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = Instance(name, port, process, path)
    try:
        try:
            wait_for_http(f"{server.http}/healthz", process)
        except (RuntimeError, TimeoutError) as exc:
            raise Abort(f"instance {name} did not start: {exc}\n{server.tail()}") from exc
        yield server
    finally:
        _end_group(process)
        log.close()


@contextlib.contextmanager
def sweeper(env: dict[str, str], **settings: str):
    """`manage.py outbox_sweeper`, as `make serve` runs it beside the servers: it re-dispatches
    what a crash left undispatched and runs the ticks (the sportsbook's staleness watchdog).
    Yields its log's path."""
    env = {**env, **settings}
    path = log_path(env, "sweeper")
    log = open(path, "w")  # noqa: SIM115 - to a file, as the servers' logs
    process = subprocess.Popen(
        [sys.executable, "manage.py", "outbox_sweeper"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise Abort(f"the outbox sweeper exited {process.returncode}:\n{tail(path)}")
        yield path
    finally:
        _end_group(process)
        log.close()


async def loop_lag(done: asyncio.Event, into: list[float], period: float = 0.05) -> None:
    """How late this process's event loop wakes from a `period` sleep, in ms, appended to `into`
    until `done`: the clients' own share of every latency they measure, on a machine whose cores
    also run the servers."""
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(period)
        into.append((time.perf_counter() - before - period) * 1000)
