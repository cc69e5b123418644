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

from bench.instances import loop_lag
from bench.odds import Frame, Suspension, account, summary

CONNECT_RATE = 100.0  # sockets opened a second
SNAPSHOT_WAIT = 30.0  # seconds at most, after the last socket opened, for every snapshot
QUIET_SECONDS, QUIET_BOUND = 1.0, 30.0


class Socket:
    def __init__(self, url: str) -> None:
        self.url = url
        self.ws = None
        self.raw: list[tuple[str, float]] = []
        self.last = 0.0

    async def open(self, event_ids: list[str]) -> None:
        from websockets.asyncio.client import connect

        self.ws = await asyncio.wait_for(connect(self.url, open_timeout=10, close_timeout=2, compression=None), 15)
        await self.ws.send(json.dumps({"type": "subscribe", "event_ids": event_ids}))

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                # Parsed after the run: 200 sockets' frames parsed here as they come made this
                # loop the last frame's wait (each socket's reader waits for the others' work).
                self.raw.append((raw, time.time()))
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
    readers, failed = [], 0
    started = time.perf_counter()
    for n, socket in enumerate(sockets):
        if (delay := started + n / CONNECT_RATE - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        try:
            await socket.open(given["event_ids"])
        except Exception as exc:  # refused or timed out: counted, the others go on
            failed += 1
            print(f"socket {n} ({socket.url}) failed: {exc!r}", file=sys.stderr, flush=True)
            continue
        readers.append(asyncio.create_task(socket.read()))
    opened = [s for s in sockets if s.ws is not None]
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
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(s.ws.close() for s in opened), return_exceptions=True)
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
    asyncio.run(main())
