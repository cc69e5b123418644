"""Sending frames through the channel layer, from sync code, without ever failing the caller.

A push happens after the money has committed: if the backplane is down the failure is logged and
counted, and the client recovers through heartbeat and `resume` (the ledger has every frame).
"""

from __future__ import annotations

import asyncio

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = structlog.get_logger(__name__)

failures = 0  # pushes lost since the process started (read by tests and, later, metrics)


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))


def push(messages: list[tuple[str, dict]]) -> bool:
    """Send each (group, message) at once, concurrently; True if all went out. Never raises."""
    global failures
    try:
        async_to_sync(_send_all)(messages)
    except Exception as exc:  # any backplane failure: the money has moved already
        failures += 1
        logger.warning("realtime.push_failed", groups=[g for g, _ in messages], error=repr(exc))
        return False
    return True
