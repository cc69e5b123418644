"""Fail fast, and say how to fix it, when the test services are not there.

The suite never skips for a missing PostgreSQL or Redis: `make test` runs this first, and the
pytest plugin (tests/plugin.py) runs it again for a bare `pytest`. Exit status 3 and one message
per missing service on stderr.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pam"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT_SECONDS = 3


def test_database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


def test_server_url() -> str:
    """The test database's PostgreSQL server, without a database: append `/name` for one."""
    return test_database_url().rsplit("/", 1)[0]


def test_redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def _maintenance_connection(url: str):
    """A connection to the server's maintenance database: the test database itself is created by
    the run."""
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname="postgres", connect_timeout=TIMEOUT_SECONDS,
    )  # fmt: skip


def check_postgres(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    try:
        with _maintenance_connection(url):
            return None
    except psycopg.Error as exc:
        where = f"{parts.hostname}:{parts.port or 5432}"
        reason = " ".join(str(exc).split())
        return (
            f"PostgreSQL is not reachable at {where} (TEST_DATABASE_URL={url}): {reason}\n"
            "  Start it (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start),\n"
            "  or point TEST_DATABASE_URL at a running server, e.g. postgres://postgres@127.0.0.1:5432/pam"
        )


def check_redis(url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "")
    except redis.RedisError as exc:
        return (
            f"Redis is not reachable (REDIS_URL={url}): {exc}\n"
            "  Start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''),\n"
            "  or point REDIS_URL at a running server, e.g. redis://127.0.0.1:6379/0"
        )
    finally:
        client.close()
    from apps.common.health import redis_too_old

    too_old = redis_too_old(version)
    return None if too_old is None else f"{too_old} (REDIS_URL={url})"


# The most connections a pytest-xdist worker holds at once: the one that runs the concurrency
# tests (50 threads, one connection each; tests/plugin.py gives them all to one worker), and
# each other (its tests' servers; measured: 22 at most).
CONNECTIONS_OF_THE_CONCURRENCY_WORKER = 60
CONNECTIONS_PER_OTHER_WORKER = 30


def max_connections(url: str) -> int:
    with _maintenance_connection(url) as conn:
        return int(conn.execute("SHOW max_connections").fetchone()[0])


def workers(cores: int, allowed_connections: int) -> int:
    """How many pytest-xdist workers `make test` runs: one per core, as many as PostgreSQL's
    `max_connections` leaves room for (at least one)."""
    others = (allowed_connections - CONNECTIONS_OF_THE_CONCURRENCY_WORKER) // CONNECTIONS_PER_OTHER_WORKER
    return max(1, min(cores, 1 + others))


def problems() -> list[str]:
    return [p for p in (check_postgres(test_database_url()), check_redis(test_redis_url())) if p]


def main() -> int:
    found = problems()
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if found:
        print("The test suite needs both services and never skips without them.", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
