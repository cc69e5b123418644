"""Run every benchmark; each prints its figures and its baseline from the same run."""

import os

from bench.load import run_load
from bench.server import served

WORKERS = int(os.environ.get("WORKERS", "2"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))


def http_baseline() -> None:
    """The floor every endpoint is compared with: /healthz on the production-like server."""
    print(f"== /healthz on {WORKERS} uvicorn workers (PostgreSQL, Redis), {DURATION:.0f} s per run")
    with served(WORKERS) as (host, port, _env):
        for concurrency in (8, 32):
            result = run_load(
                "GET /healthz",
                host,
                port,
                lambda _n: ("GET", "/healthz", {}, b""),
                concurrency=concurrency,
                duration=DURATION,
                max_requests=200_000,
            )
            print(result.line())


if __name__ == "__main__":
    http_baseline()
