"""Periodic sweeps that make the database follow time: work due at a moment rather than on an
event (a bonus's expiry). Apps register theirs at start-up (`AppConfig.ready()`); the outbox
sweeper process (`manage.py outbox_sweeper`, run by `make serve`) runs every registered sweep on
each of its passes, so nothing here needs a scheduler of its own. A sweep must be idempotent and
bounded: it does at most a batch per call, and the next pass does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Sweep = Callable[[], int]
_sweeps: dict[str, Sweep] = {}


def register(name: str, sweep: Sweep) -> None:
    """Run `sweep()` (returning how many things it did) on every pass; again with the same name
    replaces it."""
    _sweeps[name] = sweep


def run_all() -> dict[str, int]:
    """Run every registered sweep once: {name: count}. A sweep that raises is logged and counted
    -1; the others still run."""
    done = {}
    for name, sweep in _sweeps.items():
        try:
            done[name] = sweep()
        except Exception:
            logger.exception("sweep %s failed", name)
            done[name] = -1
    return done
