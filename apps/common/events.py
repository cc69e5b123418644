"""The one place that turns a domain event into after-commit side effects."""

from __future__ import annotations

import structlog
from django.db import transaction
from django.dispatch import Signal

logger = structlog.get_logger(__name__)


def send_after_commit(signal: Signal, **payload: object) -> None:
    """Send `signal` once the current transaction commits; receivers can't undo it.

    A receiver that raises is logged and counted; the others still run, and the caller (whose
    money has already moved) never sees the error. Outside a transaction it is sent at once.
    """
    transaction.on_commit(lambda: send_robust(signal, payload), robust=True)


def send_robust(signal: Signal, payload: dict) -> None:
    for receiver, result in signal.send_robust(sender=None, **payload):
        if isinstance(result, Exception):
            logger.error(
                "event.receiver_failed",
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=repr(result),
                exc_info=result,
            )
