"""A small closed-loop HTTP/1.1 load generator on keep-alive connections (asyncio, no dependencies).

Each of `concurrency` clients sends its next request as soon as the previous answer arrives, for
at most `duration` seconds and at most `max_requests` requests in all: every loop is bounded.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    spread: str = ""  # connections per server process, where measured

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def absorb(self, part: Result) -> None:
        """Add a slice of the same load (run apart, in turns with another) to this one."""
        self.latencies += part.latencies
        self.errors += part.errors
        self.seconds += part.seconds
        self.spread = " ".join(filter(None, (self.spread, part.spread)))

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<34} c={self.concurrency:<3} {self.rate:8.0f}/s  p50 {self.percentile(50):6.2f} ms  "
            f"p99 {self.percentile(99):6.2f} ms  n={len(self.latencies)} errors={self.errors}"
            + (f"  per worker {self.spread}" if self.spread else "")
        )


Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _connect(host: str, port: int, count: int, workers: int | None) -> tuple[list[Connection], str]:
    """`count` keep-alive connections; with `workers`, spread evenly over the server's processes.

    The kernel hands each new connection to whichever worker accepts first, so 8 connections to
    2 workers often land 7+1: the run then measures one process, and by how much varies from run
    to run. To compare like with like, open three times as many, keep `count / workers` per
    server process (found with `ss`) and close the others before the clock starts.
    """
    if not workers or workers < 2:
        return [await asyncio.open_connection(host, port) for _ in range(count)], ""
    for _attempt in range(ATTEMPTS_TO_SPREAD - 1):
        kept, spread = await _connect_spread(host, port, count, workers)
        if len(spread) == workers and max(spread) - min(spread) <= 1:
            break
        # One process took them all (it was first back to accept, the other busy): try again.
        for connection in kept:
            connection[1].close()
        await asyncio.sleep(0.5)
    else:
        kept, spread = await _connect_spread(host, port, count, workers)
    return kept, "+".join(str(n) for n in spread)


ATTEMPTS_TO_SPREAD = 5
CONNECT_GAP = 0.005  # seconds between the connections of one try (`_connect_spread`)


async def _connect_spread(host: str, port: int, count: int, workers: int) -> tuple[list[Connection], list[int]]:
    """One try of `_connect`: the connections kept, and how many of them each process holds."""
    opened = []
    for _ in range(3 * count):
        opened.append(await asyncio.open_connection(host, port))
        # Apart, each connection is raced for by every idle worker; in a burst, the first worker
        # awake accepts the whole queue (an asyncio server drains it at once): 24 connections in a
        # burst fell 24+0 in three tries of five, 5 ms apart 13+11 or 12+12 in five of five.
        await asyncio.sleep(CONNECT_GAP)
    ports = [connection[1].get_extra_info("sockname")[1] for connection in opened]
    for _ in range(50):  # a connection still in the accept queue has no owner yet: wait for it
        owner = _server_process_by_client_port(port)
        if all(client_port in owner for client_port in ports):
            break
        await asyncio.sleep(0.1)
    by_process: dict[str, list[Connection]] = {}
    for connection, client_port in zip(opened, ports, strict=True):
        by_process.setdefault(owner.get(client_port, "unaccepted"), []).append(connection)
    share = -(-count // workers)  # ceil: 32 over 2 is 16 each, 8 over 3 is 3+3+2
    kept: list[Connection] = []
    for _, connections in sorted(by_process.items(), key=lambda item: -len(item[1])):
        kept += connections[: min(share, count - len(kept))]
    for connection in opened:  # too few on some process: fill up from the rest
        if len(kept) < count and connection not in kept:
            kept.append(connection)
    for connection in opened:
        if connection not in kept:
            connection[1].close()
    spread = sorted((sum(c in kept for c in cs) for cs in by_process.values()), reverse=True)
    return kept, [n for n in spread if n]


def _server_process_by_client_port(port: int) -> dict[int, str]:
    """{client port: pid of the server process holding the other end} of connections to `port`."""
    import re
    import subprocess

    try:
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    owners = {}
    for line in listing.splitlines():
        found = re.search(r":\d+\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", line)
        if found:
            owners[int(found[1])] = found[2]
    return owners


def _wire(host: str, request: Request) -> bytes:
    method, path, headers, body = request
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


# Requests built before the clock starts, per second of a load's duration: building one (a signed
# bet's JSON, ids and HMAC) is client work on the cores the server needs, which the rates of the
# baselines it is compared with do not carry. A load faster than this builds the rest as it goes.
AHEAD_PER_SECOND = 3000


async def _client(connection, host: str, make_request: Callable[[int], Request], ahead, counter, deadline, result,
                  ok) -> None:  # fmt: skip
    """One closed-loop client: the next request leaves when the previous answer is read."""
    reader, writer = connection
    try:
        while time.monotonic() < deadline and counter[0] > 0:
            counter[0] -= 1
            wire = ahead.pop() if ahead else _wire(host, make_request(counter[0]))
            started = time.perf_counter()
            writer.write(wire)
            # The whole head in one read (one await, not one per line): the generator shares the
            # cores with the server it measures, so it must cost as little as it can per request.
            response_head = await reader.readuntil(b"\r\n\r\n")
            at = response_head.lower().find(b"content-length:")
            length = int(response_head[at + 15 : response_head.index(b"\r\n", at)]) if at >= 0 else 0
            payload = await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            status = int(response_head[9:12])
            if ok(status, payload):
                result.latencies.append(elapsed)
            else:
                result.errors += 1
    finally:
        writer.close()


def run_load(
    name: str,
    host: str,
    port: int,
    make_request: Callable[[int], Request],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    ok: Callable[[int, bytes], bool] = lambda status, _: status == 200,
    workers: int | None = None,
) -> Result:
    """`concurrency` keep-alive connections, all opened before the clock starts (spread evenly
    over `workers` server processes when given), each a closed loop. On uvloop (a dependency of
    the server already) when available: the asyncio default loop costs the generator noticeably
    more CPU per request, CPU the server then lacks."""
    result = Result(name, concurrency)
    # In the order the clients would have built them (`pop` takes from the end).
    count = min(max_requests, int(duration * AHEAD_PER_SECOND))
    ahead = [_wire(host, make_request(n)) for n in range(max_requests - count, max_requests)]

    async def main() -> None:
        connections, result.spread = await _connect(host, port, concurrency, workers)
        counter = [max_requests]
        deadline = time.monotonic() + duration
        started = time.perf_counter()
        clients = (_client(connection, host, make_request, ahead, counter, deadline, result, ok)
                   for connection in connections)  # fmt: skip
        await asyncio.gather(*clients)
        result.seconds = time.perf_counter() - started

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    return result


def ratio(a: Result, b: Result) -> str:
    return f"{a.rate / b.rate:.2f}" if b.rate else "n/a"


__all__ = ["Result", "ratio", "run_load", "statistics"]
