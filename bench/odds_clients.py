"""The odds benchmark's sockets, in a process of their own (bench/odds.py): the players' browsers
are not the feed, and this process's loop lag, printed beside the figures, says how much of each
latency is the clients' own.

Reads a JSON line {"urls", "event_ids", "markets"}; opens one `/ws/odds/` socket per url
(CONNECT_RATE a second), subscribes each to every event, and prints {"connected", "failed"} once
every socket has a snapshot of each of the `markets`. From then on each frame is recorded with its
arrival (epoch seconds). A second JSON line, the feed's log {"answers", "suspensions", "final"},
ends the recording once no socket has read a frame for QUIET_SECONDS; the figures
(`bench.odds.account`, summarised) are printed as one JSON line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

import uvloop
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

from bench.instances import loop_lag
from bench.odds import Frame, Suspension, account, summary

CONNECT_RATE = 100.0  # sockets opened a second
SNAPSHOT_WAIT = 30.0  # seconds at most, after the last socket opened, for every snapshot
QUIET_SECONDS, QUIET_BOUND = 1.0, 30.0
OP_CONT, OP_TEXT, OP_CLOSE, OP_PING = 0x0, 0x1, 0x8, 0x9  # RFC 6455 opcodes


class Socket(asyncio.Protocol):
    """One odds socket. Its opening handshake and the frames it sends (masked, as a client's must
    be) are websockets' own (the sans-I/O `ClientProtocol`); the frames it receives are read here,
    each stamped with the time its last bytes came off the socket, and parsed after the run.

    Read by websockets' client instead, one process's 200 sockets were the run's critical path:
    in a suspension's burst (6,000 frames) their reading, not the servers' writing, set when the
    last frame was seen. On the same servers and machine the suspension frame's p99 was 107 ms
    and this loop's lag p99 20 ms that way, 39 ms and 2 ms this way (docs/benchmarks.md).

    A server's frames are unmasked; a fragmented message is joined, a ping answered, a close
    returned."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.uri = parse_uri(url)
        self.protocol = ClientProtocol(self.uri)
        self.transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] = []  # a fragmented message's frames until its last
        self.raw: list[tuple[bytes, float]] = []
        self.last = 0.0

    async def open(self, event_ids: list[str]) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.create_connection(lambda: self, self.uri.host, self.uri.port), 10)
        await asyncio.wait_for(self.handshake, 10)
        self.protocol.send_text(json.dumps({"type": "subscribe", "event_ids": event_ids}).encode())
        self._write()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self.protocol.send_close()
                self._write()
            self.transport.close()

    def _write(self) -> None:
        self.transport.write(b"".join(self.protocol.data_to_send()))

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._write()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        arrival = time.time()
        if not self.handshake.done():
            self.protocol.receive_data(data)
            self.protocol.events_received()  # the response; its frames come after the subscribe
            if self.protocol.handshake_exc is not None:
                self.handshake.set_exception(self.protocol.handshake_exc)
            elif self.protocol.state is State.OPEN:
                self.handshake.set_result(None)
            return
        self.buffer += data
        self._read(arrival)

    def _read(self, arrival: float) -> None:
        buffer, at, end = self.buffer, 0, len(self.buffer)
        while end - at >= 2:
            first, length, head = buffer[at], buffer[at + 1] & 0x7F, 2
            if length == 126:
                if end - at < 4:
                    break
                length, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if end - at < 10:
                    break
                length, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
            if end - at < head + length:
                break
            self._frame(first & 0x80, first & 0x0F, bytes(buffer[at + head : at + head + length]), arrival)
            at += head + length
        del buffer[:at]

    def _frame(self, fin: int, opcode: int, payload: bytes, arrival: float) -> None:
        if opcode == OP_PING:
            self.protocol.send_pong(payload)
            self._write()
        elif opcode == OP_CLOSE:
            self.close()
        elif opcode in (OP_TEXT, OP_CONT):
            self.fragments.append(payload)
            if fin:
                self.raw.append((b"".join(self.fragments), arrival))
                self.fragments = []
                self.last = time.perf_counter()

    def frames(self) -> list[Frame]:
        found = []
        for raw, arrival in self.raw:
            frame = json.loads(raw)
            if frame.get("type") == "market.updated":
                market_id = frame["market_id"]
                home = frame["prices"].get(f"{market_id}-home", "")
                found.append((market_id, frame["version"], frame["status"], frame["delayed"], home, arrival))
        return found

    def snapshots(self) -> int:
        """How many frames have come: the subscription's snapshot is one per market."""
        return len(self.raw)


async def main() -> None:
    given = json.loads(await asyncio.to_thread(sys.stdin.readline))
    sockets = [Socket(url) for url in given["urls"]]
    done = asyncio.Event()
    lag_ms: list[float] = []
    lagging = asyncio.create_task(loop_lag(done, lag_ms))
    opened, failed = [], 0
    started = time.perf_counter()
    for n, socket in enumerate(sockets):
        if (delay := started + n / CONNECT_RATE - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        try:
            await socket.open(given["event_ids"])
        except Exception as exc:  # refused or timed out: counted, the others go on
            failed += 1
            print(f"socket {n} ({socket.url}) failed: {exc!r}", file=sys.stderr, flush=True)
            socket.close()
            continue
        opened.append(socket)
    deadline = time.monotonic() + SNAPSHOT_WAIT
    while time.monotonic() < deadline and any(s.snapshots() < given["markets"] for s in opened):
        await asyncio.sleep(0.1)
    complete = sum(s.snapshots() >= given["markets"] for s in opened)
    print(json.dumps({"connected": complete, "failed": failed + len(opened) - complete}), flush=True)

    log = json.loads(await asyncio.to_thread(sys.stdin.readline))
    bound = time.monotonic() + QUIET_BOUND
    while time.monotonic() < bound and time.perf_counter() - max((s.last for s in opened), default=0) < QUIET_SECONDS:
        await asyncio.sleep(0.1)
    done.set()
    lagging.cancel()
    for socket in opened:
        socket.close()
    figures = account(
        (s.frames() for s in opened),
        {(m, home): t for m, home, t in log["answers"]},
        [Suspension(**s) for s in log["suspensions"]],
        {m: tuple(state) for m, state in log["final"].items()},
    )
    # Sockets that never opened hold nothing: each of their markets counts as lost.
    lost = figures.lost + (len(sockets) - len(opened)) * len(log["final"])
    print(json.dumps({
        "sockets": len(opened), "frames": figures.frames, "price_ms": summary(figures.price_ms),
        "superseded": figures.superseded, "commit_ms": summary(figures.commit_ms),
        "first_ms": summary(figures.first_ms),
        "suspension_ms": summary(figures.suspension_ms), "limit_ms": summary(figures.limit_ms),
        "suspension_missing": figures.suspension_missing, "backwards": figures.backwards, "repeats": figures.repeats,
        "lost": lost, "loop_lag_ms": summary(lag_ms),
    }), flush=True)  # fmt: skip


if __name__ == "__main__":
    uvloop.run(main())  # the servers' loop: this process's own cost the smaller share of each latency
