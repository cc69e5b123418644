"""Who settles a resulted market's bets: background workers of this process, handed the market
once the feed's batch has committed, so the feed's answer never waits for the money
(contracts/sportsbook.md: "possibly after the answer, within the settlement lag").

`settle_after_commit(market_pks)` registers the hand-over on the current transaction's commit.
With SPORTSBOOK_SETTLE_IN_BACKGROUND (the default) each market goes to
SPORTSBOOK_SETTLEMENT_WORKERS threads at once, each running `settlement.settle_market`: they share
its bets by claiming them (`locks.claim_bets_to_settle`, `SKIP LOCKED`), so a market of many bets
is settled by several database connections in parallel; another process settling the same market
(its sweep) shares them the same way. Off (the tests), the settlement runs in the committing
thread itself, right after the commit.

Nothing is lost if the process dies before or during the work: the settlement sweep
(`sweep`, a tick of every process that runs the ticks) finds the markets whose bets are not all
settled at their result. In the background it too runs on the workers, one pass at a time, so the
ticking thread (the staleness watchdog's, every quarter of a second) never waits for money.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import structlog
from django.conf import settings
from django.db import connections, transaction

from apps.sportsbook import settlement

logger = structlog.get_logger(__name__)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_sweeping = threading.Event()  # a pass of the sweep is queued or running on the workers


def settle_after_commit(market_pks: Iterable[int]) -> None:
    """Settle the bets of `market_pks` once the current transaction commits (module docstring)."""
    pks = sorted(set(market_pks))
    if pks:
        transaction.on_commit(lambda: hand_over(pks), robust=True)


def hand_over(market_pks: list[int]) -> None:
    """Start the settlement of each market: on the background workers, or here and now."""
    if not settings.SPORTSBOOK_SETTLE_IN_BACKGROUND:
        for pk in market_pks:
            settlement.settle_market(pk)
        return
    pool = _workers()
    for pk in market_pks:
        for _ in range(settings.SPORTSBOOK_SETTLEMENT_WORKERS):
            pool.submit(_settle_in_worker, pk)


def sweep() -> int:
    """The settlement sweep's tick: `settlement.settle_due_bets` on a worker (at most one pass
    queued or running at a time; returns 0), or here and now when settling in the committing
    thread (returns what it settled)."""
    if not settings.SPORTSBOOK_SETTLE_IN_BACKGROUND:
        return settlement.settle_due_bets()
    if not _sweeping.is_set():
        _sweeping.set()
        _workers().submit(_sweep_in_worker)
    return 0


def _sweep_in_worker() -> None:
    try:
        settlement.settle_due_bets()
    except Exception:
        logger.exception("sportsbook.settlement_sweep_failed")
    finally:
        _sweeping.clear()
        connections.close_all()


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.SPORTSBOOK_SETTLEMENT_WORKERS,
                                       thread_name_prefix="pam-settle")  # fmt: skip
        return _pool


def _settle_in_worker(market_pk: int) -> None:
    try:
        settlement.settle_market(market_pk)
    except Exception:
        # The sweep settles what is left; the worker stays available.
        logger.exception("sportsbook.settlement_failed", market=market_pk)
    finally:
        # This thread's connection goes back: a worker may idle for hours between results.
        connections.close_all()
