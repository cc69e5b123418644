"""Helpers for the real-time tests that run PAM as separate server processes: the servers, a
Redis of the test's own, the wallet API and the player API over HTTP, and a WebSocket client that
behaves as contracts/realtime.md says a client does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import websockets
from django.conf import settings
from django.db import connection

from apps.wallet.api.signature import signature_of
from tests.support import PYTHON, ROOT, clean_env, free_port, stop, wait_for_http

UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
REDIS_SERVER = "redis-server"


def database_url_of_this_run() -> str:
    """The URL of the database pytest-django created for this run (not the developer's)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@dataclass
class Server:
    """One PAM ASGI server on 127.0.0.1: uvicorn with its worker processes, in a process group of
    its own (so that `kill_server` can SIGKILL all of them at once)."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def server_env(redis_url: str | None = None, **env: str) -> dict[str, str]:
    """The environment of a PAM process (server or management command) on this run's test
    database, its Redis (or `redis_url`) and this run's channel-layer prefix."""
    return clean_env(
        DATABASE_URL=database_url_of_this_run(),
        REDIS_URL=redis_url or os.environ["REDIS_URL"],
        CHANNEL_LAYER_PREFIX=os.environ["CHANNEL_LAYER_PREFIX"],
        CACHE_KEY_PREFIX=os.environ["CACHE_KEY_PREFIX"],
        # One key for the test process and every instance, as in a real deployment: a session
        # made here (a staff login) is valid on each of them.
        SECRET_KEY=settings.SECRET_KEY,
        PAM_ENV="dev",
        LOG_LEVEL="INFO",
        **env,
    )


def start_server(
    tmp_path: Path,
    name: str,
    *,
    redis_url: str | None = None,
    workers: int = 1,
    port: int | None = None,
    **env: str,
) -> Server:
    """A PAM server answering /healthz, on `port` (a free one by default) with `workers` worker
    processes (more than one: a supervisor and its workers, as `make serve` runs it). Stop it
    with `stop_server`, or crash it with `kill_server`."""
    assert UVICORN.is_file(), f"{UVICORN} is missing: create the virtualenv first"
    port = port or free_port()
    log = tmp_path / f"{name}.log"
    args = [str(UVICORN), "pam.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers), "--lifespan", "off", "--no-access-log"]
    with log.open("a") as out:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=server_env(redis_url, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        wait_for_http(f"{server.http}/healthz", process)
    except (RuntimeError, TimeoutError) as exc:
        stop_server(server)
        raise AssertionError(f"server {name} did not start: {exc}\n{tail(log)}") from exc
    return server


def stop_server(server: Server) -> None:
    stop(server.process)
    kill_group(server.process)  # a worker that outlived its supervisor


def kill_server(server: Server) -> None:
    """SIGKILL every process of the server at once, as a crash (or the OOM killer) would: no
    shutdown, no on_commit still to run, no atexit."""
    kill_group(server.process)
    server.process.wait(timeout=10)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL what is left of the process group that `process` leads (it was started with
    `start_new_session=True`)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Sweeper:
    """`manage.py outbox_sweeper`, in a process group of its own."""

    process: subprocess.Popen
    log: Path


def start_sweeper(tmp_path: Path, name: str, *args: str) -> Sweeper:
    """The outbox sweeper as `make serve` runs it beside the servers, with `args` (e.g. a shorter
    `--grace`), once it has started sweeping. Stop it with `stop_sweeper` or crash it with
    `kill_sweeper`."""
    log = tmp_path / f"{name}.log"
    with log.open("a") as out:
        process = subprocess.Popen(
            [PYTHON, "manage.py", "outbox_sweeper", *args],
            cwd=ROOT,
            env=server_env(PYTHONUNBUFFERED="1"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    sweeper = Sweeper(process, log)
    deadline = time.monotonic() + 60
    while "outbox_sweeper: sweeping every" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_sweeper(sweeper)
            raise AssertionError(f"sweeper {name} did not start\n{tail(log)}")
        time.sleep(0.1)
    return sweeper


def stop_sweeper(sweeper: Sweeper) -> None:
    stop(sweeper.process)
    kill_group(sweeper.process)


def kill_sweeper(sweeper: Sweeper) -> None:
    """SIGKILL the sweeper, as a crash would: a lease it holds stays until it expires."""
    kill_group(sweeper.process)
    sweeper.process.wait(timeout=10)


@dataclass
class RedisServer:
    """A redis-server of the test's own, keeping nothing on disk, on a fixed port so that it can
    be stopped and started again where the PAM server expects it."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.process.returncode} on port {self.port}")
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not answer on port {self.port} within 10 s")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def own_redis() -> Iterator[RedisServer]:
    """A fresh redis-server on a free port, killed however the test ends."""
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- HTTP ----------------------------------------------------------------------------------------


def post_json(url: str, body: dict, headers: dict[str, str] | None = None, timeout: float = 15) -> tuple[int, dict]:
    raw = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=raw, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@dataclass
class Provider:
    code: str
    secret: str

    def call(self, server: Server, operation: str, body: dict) -> tuple[int, dict]:
        """A signed wallet API call, as the contract says a provider makes it."""
        raw = json.dumps(body).encode()
        request = urllib.request.Request(
            f"{server.http}/api/wallet/v1/{operation}",
            data=raw,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Provider": self.code,
                "X-Signature": signature_of(self.secret, operation, raw),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def bet(self, server: Server, player_id: int, amount: int, transaction_id: str) -> tuple[int, dict]:
        return self.call(
            server,
            "bet",
            {
                "player_id": str(player_id),
                "currency": "EUR",
                "amount": amount,
                "transaction_id": transaction_id,
                "round_id": f"round-{transaction_id}",
                "game_id": "slot-1",
            },
        )


def ticket(server: Server, username: str, password: str) -> str:
    """A one-time WebSocket ticket, the way a script gets one: log in, then ask for a ticket."""
    status, login = post_json(f"{server.http}/api/player/v1/auth/login", {"username": username, "password": password})
    assert status == 200, (status, login)
    status, answer = post_json(
        f"{server.http}/api/player/v1/realtime/ticket", {}, {"Authorization": f"Bearer {login['token']}"}
    )
    assert status == 201, (status, answer)
    return answer["ticket"]


# --- A WebSocket client that behaves as the contract's client does ------------------------------


@dataclass
class ContractClient:
    """Applies `wallet.updated` frames in version order, ignores what it holds already, sends
    `resume` when a frame or heartbeat shows a gap, and, if the socket closes, reconnects with
    exponential backoff and jitter (from `backoff_first` doubling to `backoff_max`) and resumes.

    `url()` (a coroutine) gives the URL of each connection, e.g. with a fresh one-time ticket.
    `applied` is every version applied, in the order applied: a correct client ends with 1..N;
    `applied_live` those applied while no `resume` was outstanding, i.e. pushed live.
    """

    url: Callable[[], Awaitable[str]]
    backoff_first: float = 0.2
    backoff_max: float = 2.0
    version: int = 0
    balance: int | None = None
    applied: list[int] = field(default_factory=list)
    applied_live: list[int] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)  # every frame received, for failure messages
    connections: int = 0
    resumes: int = 0
    heartbeats: int = 0
    resuming_to: int = 0  # a resume is outstanding until the client holds this version
    _task: asyncio.Task | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def wait_for(self, predicate: Callable[[ContractClient], bool], timeout: float, what: str = "") -> None:
        """Until `predicate(self)` holds; fails with what the client saw after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{what} not reached within {timeout} s; {self.describe()}") from None

    async def next_heartbeat(self, timeout: float) -> None:
        seen = self.heartbeats
        await self.wait_for(lambda c: c.heartbeats > seen, timeout, "a heartbeat")

    def describe(self) -> str:
        return (
            f"client: version={self.version} balance={self.balance} connections={self.connections} "
            f"resumes={self.resumes} applied={self.applied} applied_live={self.applied_live} "
            f"last frames={self.frames[-12:]}"
        )

    async def _run(self) -> None:
        delay = self.backoff_first
        while True:
            try:
                async with websockets.connect(await self.url(), open_timeout=10, close_timeout=2) as socket:
                    self.connections += 1
                    delay = self.backoff_first
                    async for text in socket:
                        await self._on_frame(socket, json.loads(text))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused handshake, reset, closed: reconnect with backoff
                self.frames.append({"client": "connection ended", "error": repr(exc)})
            self.resuming_to = 0  # whatever was asked on that socket is gone with it
            self._changed.set()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter
            delay = min(delay * 2, self.backoff_max)

    async def _on_frame(self, socket, frame: dict) -> None:
        self.frames.append(frame)
        kind = frame.get("type")
        if kind == "hello":  # a client holding nothing yet resumes from 0: it replays every version
            if frame["version"] > self.version:
                await self._resume(socket, frame["version"])
        elif kind == "wallet.updated":
            if frame["version"] == self.version + 1:
                if self.resuming_to <= self.version:
                    self.applied_live.append(frame["version"])
                self.version, self.balance = frame["version"], frame["balance"]
                self.applied.append(frame["version"])
            elif frame["version"] > self.version + 1:
                await self._resume(socket, frame["version"])
            # at or below what the client holds: ignored, as the contract says
        elif kind == "heartbeat":
            self.heartbeats += 1
            if frame["version"] > self.version:
                await self._resume(socket, frame["version"])
        elif kind == "resync":
            self.frames.append({"client": "resync: the versions in between are not in `applied`"})
            self.version, self.balance = frame["version"], frame["balance"]
        self._changed.set()

    async def _resume(self, socket, seen_version: int) -> None:
        self.resumes += 1
        self.resuming_to = max(self.resuming_to, seen_version)
        await socket.send(json.dumps({"type": "resume", "since_version": self.version}))
