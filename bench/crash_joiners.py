"""The crash room benchmark's late joiners, in a process of their own: a late joiner is another
player's browser, so its wait for the snapshot must not include the harness's own work for the
200 players' sockets (that process's event loop is late by tens of ms at its p99 while it reads a
round's frames). Run by bench/crash.py: reads {"urls", "joins", "rate"} as JSON on stdin, opens a
fresh socket of a random url `rate` times a second until `joins` snapshots came (at most three
times as many attempts), and prints {"joins_ms", "phases", "failures", "loop_lag_ms"} as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time


async def main(urls: list[str], joins: int, rate: float) -> dict:
    from bench.crash import connect
    from bench.instances import loop_lag

    result = {"joins_ms": [], "phases": {}, "failures": 0, "loop_lag_ms": []}
    done = asyncio.Event()

    async def join(url: str) -> None:
        try:
            ws, frame, seconds = await connect(url)
        except Exception:  # refused, timed out: counted, the run goes on
            result["failures"] += 1
            return
        result["joins_ms"].append(seconds * 1000)
        phase = (frame.get("round") or {}).get("phase", "none")
        result["phases"][phase] = result["phases"].get(phase, 0) + 1
        with contextlib.suppress(Exception):
            await ws.close()

    lagging = asyncio.create_task(loop_lag(done, result["loop_lag_ms"]))
    started = time.perf_counter()
    pending: set[asyncio.Task] = set()
    for attempt in range(3 * joins):
        if len(result["joins_ms"]) >= joins:
            break
        if (delay := started + attempt / rate - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        # Each join on its own: a slow one does not hold back the next one's start.
        task = asyncio.create_task(join(random.choice(urls)))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending, return_exceptions=True)
    done.set()
    lagging.cancel()
    return result


if __name__ == "__main__":
    given = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(main(given["urls"], given["joins"], given["rate"]))), flush=True)
