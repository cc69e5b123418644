"""Readiness probes of the services PAM depends on; each returns None or the reason it failed."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

PROBE_TIMEOUT_SECONDS = 2


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


# Each server process reads its sockets' messages with BZMPOP (apps/realtime/mailroom.py).
REDIS_MINIMUM = (7, 0)


def check_redis() -> str | None:
    """None when the configured Redis answers PING and is recent enough for the mailroom."""
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
        return redis_too_old(client.info("server").get("redis_version", ""))
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()


def redis_too_old(version: str) -> str | None:
    """Why a Redis of `version` (INFO's `redis_version`) cannot serve PAM, or None."""
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        found = ()
    if found >= REDIS_MINIMUM:
        return None
    needed = ".".join(map(str, REDIS_MINIMUM))
    return f"Redis {needed} or later is needed (the real-time mailroom reads with BZMPOP); this one is {version!r}"
