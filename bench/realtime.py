"""The benchmark of the real-time path, in one run against PAM served as `make serve` does:

1. The baseline: a plain Redis publish-to-subscriber round trip (redis-py asyncio) at the rates.
2. IDLE idle player sockets, opened at a bounded rate beside the PLAYERS clients: the server's
   memory per socket (RSS of its uvicorn processes from /proc, before and after).
3. PLAYERS WebSocket clients, each its own funded player, connected with one-time tickets; signed
   bets through the wallet API paced open-loop at each rate (round-robin over the players); for
   each accepted bet, the time from its HTTP answer to its `wallet.updated` frame (matched by
   player and version); frames missing at the end of a phase, then after every client sent
   `resume` with its last contiguous version.
4. The channel layer under a burst: 1,000 group sends to a group of one consumer, with
   channels-redis at capacity 100 and at the configured capacity, and RedisPubSubChannelLayer.

`BENCH=realtime make bench` runs it alone. Knobs: BENCH_RT_WORKERS (e.g. "1,2": one server per
count, default WORKERS), BENCH_SECONDS (per rate, default 30), BENCH_RT_RATES (default 100,300),
BENCH_RT_PLAYERS (200), BENCH_IDLE (5000; 0 skips), BENCH_RT_WS_COMPRESSION (deflate, as browsers
offer, or none), BENCH_DATABASE (bench/server.py).

Every socket is on 127.0.0.1; every loop is bounded in count and time; the server, its sockets
and the ticket co-process are cleaned up on failure too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import served
from bench.wallet import _signature
from tests import preflight
from tests.support import ROOT

PLAYERS = int(os.environ.get("BENCH_RT_PLAYERS", "200"))
DURATION = float(os.environ.get("BENCH_SECONDS", "30"))
RATES = tuple(int(r) for r in os.environ.get("BENCH_RT_RATES", "100,300").split(","))
IDLE = int(os.environ.get("BENCH_IDLE", "5000"))
# What the idle sockets offer: browsers offer permessage-deflate, which the server accepts.
COMPRESSION = None if os.environ.get("BENCH_RT_WS_COMPRESSION", "deflate") == "none" else "deflate"
CONNECT_RATE = 250.0  # new sockets per second while opening the idle ones
CONNECTING_AT_ONCE = 100  # handshakes in flight at most
TICKET_BATCH = 250  # tickets are asked for just before use: they live 60 s
HTTP_CONNECTIONS = 64  # keep-alive connections the paced bets share
GRACE = 3.0  # seconds after a phase for its last live frames
RESUME_WAIT = 30.0  # seconds for the replays after `resume`
BACKLOG_WAIT = 120.0  # seconds at most for the server's queued pushes after a phase
BURST = 1000
CONFIGURED_CAPACITY = 5000  # pam/settings.py's CHANNEL_LAYER_CAPACITY default

TARGET_P50_MS, TARGET_P99_MS, TARGET_IDLE_KIB = 10.0, 50.0, 40.0
# The rates the targets are set at: p50 and p99 at 100 bets/s; at 300 bets/s, the bet path's
# budget, every bet answered and p99 again.
P50_TARGET_RATES, P99_TARGET_RATES = (100,), (100, 300)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


# ---------------------------------------------------------------------------------------------
# The server's processes and their memory
# ---------------------------------------------------------------------------------------------


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def server_pids(port: int) -> list[int]:
    """The uvicorn processes serving `port`: the workers, or the one process when WORKERS=1."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    masters = [p for p in pids if b"pam.asgi:application" in (cmd := _cmdline(p)) and str(port).encode() in cmd]
    if not masters:
        raise RuntimeError(f"no uvicorn process for port {port}")
    workers = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == masters[0] and any(b"spawn_main" in part for part in _cmdline(pid)):
            workers.append(pid)
    return workers or masters


def reap(pids: list[int]) -> None:
    """Kill, by pid, workers that outlived their master: stop() kills a master still shutting down
    after 15 s (thousands of sockets, a push backlog), and its workers were left running (seen)."""
    for pid in pids:
        if any(b"spawn_main" in part for part in _cmdline(pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def raise_nofile() -> int:
    """Enough descriptors for the idle sockets (this process's ends; the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * IDLE + 2000)) if hard != resource.RLIM_INFINITY else max(soft, 2 * IDLE + 2000)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------------------------------------
# Tickets (a co-process with Django set up on the bench database) and WebSocket clients
# ---------------------------------------------------------------------------------------------


class Tickets:
    """`bench.rt_tickets` as a co-process: one line of player ids in, one line of tickets out."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.rt_tickets"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip

    def issue(self, player_ids: list[str]) -> list[str]:
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write(" ".join(player_ids) + "\n")
        self.process.stdin.flush()
        tickets = self.process.stdout.readline().split()
        if len(tickets) != len(player_ids):
            raise RuntimeError(f"rt_tickets answered {len(tickets)} tickets for {len(player_ids)} players")
        return tickets

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def open_socket(host: str, port: int, ticket: str, compression: str | None = "deflate"):
    """A player socket, once its `hello` has arrived (the consumer is then fully set up)."""
    from websockets.asyncio.client import connect

    ws = await connect(
        f"ws://{host}:{port}/ws/player/?ticket={ticket}", open_timeout=15, close_timeout=2, compression=compression
    )
    try:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if hello.get("type") != "hello":
            raise RuntimeError(f"first frame is not hello: {hello}")
    except BaseException:
        await ws.close()
        raise
    return ws, hello


@dataclass
class Client:
    """One player's socket: the arrival time of the first frame of each version it received."""

    player_id: str
    ws: object = None
    hello_version: int = 0
    frames: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0  # live frames received twice (replays after `resume` may repeat frames)
    resumed: bool = False  # once set, repeats are replays, not live duplicates
    resyncs: int = 0
    reader: asyncio.Task | None = None
    last_frame: float = 0.0  # arrival of the last frame other than a heartbeat

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") != "heartbeat":  # the server's pushes; beats never stop
                    self.last_frame = now
                if frame.get("type") == "wallet.updated":
                    if frame["version"] in self.frames:
                        self.duplicates += not self.resumed
                    else:
                        self.frames[frame["version"]] = now
                elif frame.get("type") == "resync":
                    self.resyncs += 1

    def contiguous(self) -> int:
        """The last version up to which this client has every frame since its hello."""
        version = self.hello_version
        while version + 1 in self.frames:
            version += 1
        return version


async def close_all(sockets: list) -> None:
    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(ws.close() for ws in sockets[start : start + 500]), return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# Paced bets over keep-alive HTTP/1.1 connections
# ---------------------------------------------------------------------------------------------


class Http:
    """A minimal keep-alive HTTP/1.1 client connection (as bench/load.py speaks it)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


@dataclass
class Phase:
    rate: int
    sent: int = 0
    errors: int = 0
    abandoned: int = 0  # not answered 30 s after the last was due (the server fell that far behind)
    late: int = 0  # sent more than 10 ms behind schedule (no free connection): not open-loop then
    seconds: float = 0.0
    http_ms: list[float] = field(default_factory=list)
    accepted: list[tuple[Client, int, float]] = field(default_factory=list)  # client, version, answered at
    frame_ms: list[float] = field(default_factory=list)
    before_answer: int = 0
    lost_before_resume: int = 0
    lost_after_resume: int = 0
    resume_seconds: float = 0.0
    backlog_seconds: float = 0.0  # from the last bet sent to the last frame (live or replayed)

    def missing(self) -> int:
        return sum(1 for client, version, _ in self.accepted if version not in client.frames)


async def bet_phase(rate: int, clients: list[Client], pool: asyncio.Queue, provider: str, secret: str) -> Phase:
    phase = Phase(rate)
    print(f"   ({time.strftime('%H:%M:%S')} {rate} bets/s starting)", flush=True)
    count = max(1, int(rate * DURATION))
    counter = itertools.count()

    async def bet(client: Client, scheduled: float) -> None:
        connection = await pool.get()
        try:
            body = json.dumps({
                "player_id": client.player_id, "currency": "EUR", "amount": 1,
                "transaction_id": f"rt{next(counter)}-{uuid.uuid4().hex[:12]}", "round_id": uuid.uuid4().hex[:12],
                "game_id": "bench-slot",
            }).encode()  # fmt: skip
            headers = {"Content-Type": "application/json", "X-Provider": provider,
                       "X-Signature": _signature(secret, "bet", body)}  # fmt: skip
            started = time.perf_counter()
            if started - scheduled > 0.010:
                phase.late += 1
            status, payload = await asyncio.wait_for(connection.post("/api/wallet/v1/bet", headers, body), 10)
            answered = time.perf_counter()
            if status == 200:
                phase.accepted.append((client, json.loads(payload)["version"], answered))
                phase.http_ms.append((answered - started) * 1000)
            else:
                phase.errors += 1
        except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError):
            phase.errors += 1
            connection.close()  # reopened by its next use
        except asyncio.CancelledError:  # still waiting at the phase's end: its answer is never read
            connection.close()
            raise
        finally:
            pool.put_nowait(connection)

    started = time.perf_counter()
    tasks = []
    for n in range(count):
        scheduled = started + n / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(bet(clients[n % len(clients)], scheduled)))
    phase.sent = count
    _, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    phase.abandoned = len(pending)
    phase.seconds = time.perf_counter() - started

    await wait_until(lambda: phase.missing() == 0, GRACE)
    for client, version, answered in phase.accepted:
        arrived = client.frames.get(version)
        if arrived is not None:
            phase.before_answer += arrived < answered
            phase.frame_ms.append(max(0.0, arrived - answered) * 1000)
    phase.lost_before_resume = phase.missing()

    resumed = time.perf_counter()
    for client in clients:
        client.resumed = True
        await client.ws.send(json.dumps({"type": "resume", "since_version": client.contiguous()}))
    await wait_until(lambda: phase.missing() == 0, RESUME_WAIT)
    phase.resume_seconds = time.perf_counter() - resumed
    phase.lost_after_resume = phase.missing()
    # Pushes still queued in the server arrive late; wait for them, so they do not fall on the next
    # measurement, and say how long the server took to catch up.
    await wait_until(lambda: time.perf_counter() - max(c.last_frame for c in clients) > 1.0, BACKLOG_WAIT)
    phase.backlog_seconds = max(c.last_frame for c in clients) - (started + count / rate)
    return phase


async def wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# Baseline: a plain Redis publish-to-subscriber round trip
# ---------------------------------------------------------------------------------------------


async def redis_round_trip(redis_url: str, rate: int, seconds: float) -> tuple[list[float], int]:
    import redis.asyncio as aioredis

    channel = f"pamrtbench.baseline.{uuid.uuid4().hex}"
    count = max(1, int(rate * seconds))
    subscriber = aioredis.Redis.from_url(redis_url, socket_timeout=5)
    publisher = aioredis.Redis.from_url(redis_url, socket_timeout=5)
    pubsub = subscriber.pubsub()
    sent: dict[int, float] = {}
    latencies: list[float] = []
    try:
        await pubsub.subscribe(channel)
        await asyncio.wait_for(pubsub.get_message(timeout=5), 6)  # the subscribe confirmation

        async def listen() -> None:
            deadline = time.monotonic() + seconds + 10
            while len(latencies) < count and time.monotonic() < deadline:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    latencies.append((time.perf_counter() - sent[int(message["data"])]) * 1000)

        listener = asyncio.create_task(listen())
        started = time.perf_counter()
        for n in range(count):
            if (delay := started + n / rate - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            sent[n] = time.perf_counter()
            await publisher.publish(channel, str(n))
        await asyncio.wait_for(listener, seconds + 15)
    finally:
        await pubsub.aclose()
        await subscriber.aclose()
        await publisher.aclose()
    return latencies, count - len(latencies)


# ---------------------------------------------------------------------------------------------
# Idle connections: the server's memory per socket
# ---------------------------------------------------------------------------------------------


@dataclass
class Idle:
    compression: str | None
    connected: int = 0
    failed: int = 0
    seconds: float = 0.0
    before_kib: int = 0
    after_kib: int = 0
    closed_kib: int = 0

    @property
    def per_connection_kib(self) -> float:
        return (self.after_kib - self.before_kib) / self.connected if self.connected else float("nan")


async def idle_memory(host: str, port: int, tickets: Tickets, player_ids: list[str], compression) -> Idle:
    idle = Idle(compression)
    pids = server_pids(port)
    await asyncio.sleep(2)
    idle.before_kib = rss_kib(pids)
    sockets: list = []
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def one(ticket: str) -> None:
        try:
            ws, _ = await open_socket(host, port, ticket, compression)
            sockets.append(ws)
        except Exception:  # refused, timed out, reset: counted, the run goes on
            idle.failed += 1
        finally:
            gate.release()

    started = time.perf_counter()
    deadline = started + IDLE / CONNECT_RATE * 4 + 60  # a server that falls behind ends the phase
    tasks = []
    try:
        for batch in range(0, IDLE, TICKET_BATCH):
            if time.perf_counter() > deadline:
                break
            ids = [player_ids[n % len(player_ids)] for n in range(batch, min(IDLE, batch + TICKET_BATCH))]
            for ticket in await asyncio.to_thread(tickets.issue, ids):
                if (delay := started + len(tasks) / CONNECT_RATE - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                try:
                    await asyncio.wait_for(gate.acquire(), 30)
                except TimeoutError:  # 100 handshakes stuck for 30 s: the server is not keeping up
                    deadline = 0.0
                    break
                tasks.append(asyncio.create_task(one(ticket)))
        await asyncio.wait(tasks, timeout=max(1.0, deadline - time.perf_counter()))
        idle.seconds = time.perf_counter() - started
        idle.connected = len(sockets)
        await asyncio.sleep(3)  # let the server settle (group_add, hello, buffers)
        idle.after_kib = rss_kib(pids)
    finally:
        for task in tasks:
            task.cancel()
        await close_all(sockets)
    await asyncio.sleep(2)
    idle.closed_kib = rss_kib(pids)
    return idle


# ---------------------------------------------------------------------------------------------
# The channel layer under a burst
# ---------------------------------------------------------------------------------------------


@dataclass
class Burst:
    name: str
    delivered: int
    sends_per_second: float
    error: str = ""


async def layer_burst(name: str, make_layer, *, stalled: bool) -> Burst:
    """One burst (below), reported as failed rather than ending the whole run: seen once, a
    Redis still busy with the bet phases' backlog timed out the first group_add."""
    try:
        return await _layer_burst(name, make_layer, stalled=stalled)
    except Exception as exc:
        return Burst(f"{name}, consumer {'stalled' if stalled else 'reading'}", 0, 0.0, error=repr(exc))


async def _layer_burst(name: str, make_layer, *, stalled: bool) -> Burst:
    """BURST group sends to a group of one consumer, 50 at a time, from a second layer instance
    (another server process). `stalled`: the consumer reads only after the burst (a slow
    socket); otherwise it reads all along."""
    sender, receiver = make_layer(), make_layer()
    channel = await receiver.new_channel()
    group = f"burst{uuid.uuid4().hex[:8]}"
    await receiver.group_add(group, channel)
    delivered = 0

    async def consume(quiet: float) -> None:
        nonlocal delivered
        with contextlib.suppress(TimeoutError):
            while delivered < BURST:
                await asyncio.wait_for(receiver.receive(channel), quiet)
                delivered += 1

    try:
        consumer = None if stalled else asyncio.create_task(consume(5))
        gate = asyncio.Semaphore(50)

        async def send(n: int) -> None:
            async with gate:
                await sender.group_send(group, {"type": "wallet.updated", "frame": {"version": n, "pad": "x" * 200}})

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(send(n) for n in range(BURST))), 60)
        seconds = time.perf_counter() - started
        if consumer is None:
            await asyncio.sleep(0.5)
            await consume(1)
        else:
            await asyncio.wait_for(consumer, 30)
    finally:
        with contextlib.suppress(Exception):
            await receiver.group_discard(group, channel)
        for layer in (sender, receiver):
            with contextlib.suppress(Exception):
                await layer.flush()
    return Burst(f"{name}, consumer {'stalled' if stalled else 'reading'}", delivered, BURST / seconds)


async def layer_bursts(redis_url: str) -> list[Burst]:
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    results = []
    for stalled in (False, True):
        for capacity in (100, CONFIGURED_CAPACITY):
            prefix = f"pamrtburst{uuid.uuid4().hex[:6]}"
            results.append(await layer_burst(
                f"RedisChannelLayer capacity {capacity}",
                lambda prefix=prefix, capacity=capacity: RedisChannelLayer(
                    hosts=[redis_url], prefix=prefix, capacity=capacity, expiry=60
                ),
                stalled=stalled,
            ))  # fmt: skip
        prefix = f"pamrtburst{uuid.uuid4().hex[:6]}"
        results.append(await layer_burst(
            "RedisPubSubChannelLayer",
            lambda prefix=prefix: RedisPubSubChannelLayer(hosts=[redis_url], prefix=prefix),
            stalled=stalled,
        ))  # fmt: skip
    return results


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def seed(env: dict[str, str], provider: str, secret: str) -> list[str]:
    seeded = subprocess.run(
        [sys.executable, "-m", "bench.seed", str(PLAYERS), provider, secret], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname=parts.path[1:], autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")  # a just-seeded database has no statistics yet (bench/wallet.py)
    return seeded.stdout.split()


async def measure(workers: int, host: str, port: int, env: dict[str, str], player_ids: list[str], provider, secret):
    """Every measurement on one server, each printed as soon as it is done."""
    print(f"-- {workers} uvicorn worker(s)", flush=True)
    baseline = {rate: await redis_round_trip(env["REDIS_URL"], rate, min(DURATION, 10)) for rate in RATES}
    tickets = Tickets(env)
    clients = [Client(player_id) for player_id in player_ids]
    connections = [Http(host, port) for _ in range(HTTP_CONNECTIONS)]
    try:
        issued = tickets.issue(player_ids)
        opened = await asyncio.wait_for(asyncio.gather(*(open_socket(host, port, t) for t in issued)), 60)
        for client, (ws, hello) in zip(clients, opened, strict=True):
            client.ws, client.hello_version = ws, hello["version"]
            client.reader = asyncio.create_task(client.read())
        pool: asyncio.Queue = asyncio.Queue()
        for connection in connections:
            pool.put_nowait(connection)
        # Idle sockets first, on a server that has not yet grown and freed memory for a load
        # (memory freed by one measurement is reused by the next: measured, 0.8 KiB a socket).
        if IDLE:
            print_idle(await idle_memory(host, port, tickets, player_ids, COMPRESSION))
        for rate in RATES:
            print_phase(await bet_phase(rate, clients, pool, provider, secret), baseline[rate])
        duplicates, resyncs = sum(c.duplicates for c in clients), sum(c.resyncs for c in clients)
        print(f"   live frames received twice: {duplicates}; resync frames: {resyncs}", flush=True)
    finally:
        for connection in connections:
            connection.close()
        await close_all([c.ws for c in clients if c.ws is not None])
        for client in clients:
            if client.reader:
                client.reader.cancel()
        tickets.close()


def print_phase(phase: Phase, baseline: tuple[list[float], int]) -> None:
    b_lat, b_lost = baseline
    p50, p99 = percentile(phase.frame_ms, 50), percentile(phase.frame_ms, 99)
    answered = len(phase.accepted) == phase.sent and phase.errors == 0 and phase.abandoned == 0
    p50_verdict = f", {verdict(p50 <= TARGET_P50_MS)}" if phase.rate in P50_TARGET_RATES else ""
    p99_verdict = f", {verdict(p99 <= TARGET_P99_MS)}" if phase.rate in P99_TARGET_RATES else ""
    answered_verdict = f" ({verdict(answered)})" if phase.rate in P99_TARGET_RATES else ""
    print(
        f"{phase.rate} bets/s for {phase.seconds:.1f} s: sent {phase.sent}, accepted {len(phase.accepted)}, "
        f"errors {phase.errors}, unanswered {phase.abandoned}{answered_verdict}, sent late {phase.late}; "
        f"HTTP p50 {percentile(phase.http_ms, 50):.1f} ms "
        f"p99 {percentile(phase.http_ms, 99):.1f} ms\n"
        f"   answer -> frame  p50 {p50:7.2f} ms (target <= {TARGET_P50_MS:.0f}{p50_verdict})  "
        f"p99 {p99:7.2f} ms (target <= {TARGET_P99_MS:.0f}{p99_verdict})"
        f"  max {max(phase.frame_ms, default=float('nan')):7.1f} ms; {phase.before_answer} frames before the answer\n"
        f"   baseline Redis publish -> subscriber at {phase.rate}/s: p50 {percentile(b_lat, 50):.2f} ms  "
        f"p99 {percentile(b_lat, 99):.2f} ms  lost {b_lost}\n"
        f"   frames lost before resume {phase.lost_before_resume}; after resume {phase.lost_after_resume} "
        f"(target 0, {verdict(phase.lost_after_resume == 0)}); replays done in {phase.resume_seconds:.2f} s; "
        f"last frame {phase.backlog_seconds:.1f} s after the last bet was sent",
        flush=True,
    )


def print_idle(idle: Idle) -> None:
    per = idle.per_connection_kib
    print(
        f"{idle.connected} idle connections (client offers compression: {idle.compression or 'none'}), "
        f"{idle.failed} failed, opened in {idle.seconds:.1f} s: server RSS {idle.before_kib / 1024:.0f} -> "
        f"{idle.after_kib / 1024:.0f} MiB = {per:.1f} KiB per connection (target <= {TARGET_IDLE_KIB:.0f}, "
        f"{verdict(per <= TARGET_IDLE_KIB)}); {idle.closed_kib / 1024:.0f} MiB after closing them",
        flush=True,
    )


def realtime_benchmark(workers: int) -> None:
    counts = [int(w) for w in os.environ.get("BENCH_RT_WORKERS", str(workers)).split(",")]
    limit = raise_nofile()
    print(
        f"== real time: {PLAYERS} WebSocket players, bets at {' and '.join(map(str, RATES))}/s for {DURATION:.0f} s "
        f"each, answer -> frame vs Redis publish -> subscriber; {IDLE} idle sockets; uvicorn workers "
        f"{', '.join(map(str, counts))}; RLIMIT_NOFILE {limit}"
    )
    for count in counts:
        workers_seen: list[int] = []
        try:
            with served(count) as (host, port, env):
                workers_seen = server_pids(port)
                provider, secret = "bench", secrets.token_hex(32)
                player_ids = seed(env, provider, secret)
                asyncio.run(measure(count, host, port, env, player_ids, provider, secret))
        finally:
            reap(workers_seen)
    print("-- channel layer under a burst: 1000 group sends, 50 at a time, to a group of one consumer", flush=True)
    for burst in asyncio.run(layer_bursts(preflight.test_redis_url())):
        if burst.error:
            print(f"   {burst.name:<52} FAILED: {burst.error}")
            continue
        print(f"   {burst.name:<52} delivered {burst.delivered:5}/{BURST}  sends {burst.sends_per_second:7.0f}/s")
