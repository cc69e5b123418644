"""The one place that turns a domain event into after-commit side effects, through an outbox.

`send_after_commit(signal, **payload)`, called inside the transaction that made the change (or
`outbox_cte` and `dispatch_on_commit` for a change written in one statement, the outbox row with it):

1. writes the event to `OutboxEvent` in that same transaction (it commits or rolls back with
   the change: a rolled-back bet leaves no event);
2. on commit, sends the signal in-process at once (`dispatch`): the receivers get the payload
   plus `event_id`;
3. marks the row dispatched, in batches, off the request path (`_Dispatched`).

If the process dies between 1 and 3, `manage.py outbox_sweeper` finds the row undispatched and
dispatches it again. Delivery is therefore at least once; receivers are idempotent per event id
(`once_per_event` for receivers with database effects; the real-time push is idempotent by the
protocol's versions). An event whose receiver raised stays undispatched and is retried by the
sweeper; the caller, whose change has committed, never sees the error.

Signals that go through here are `DomainSignal`s: they carry a registered name, which is what
the outbox row stores so that the sweeper can find the signal again.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import json
import threading
import time

import structlog
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from apps.common.db import prepared_cursor

logger = structlog.get_logger(__name__)

_registry: dict[str, DomainSignal] = {}


class DomainSignal(Signal):
    """A domain event's signal, registered under `name` (e.g. `wallet.transaction_posted`)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        if name in _registry:
            raise ValueError(f"A domain signal named {name!r} exists already.")
        self.name = name
        _registry[name] = self


def signal_named(name: str) -> DomainSignal | None:
    return _registry.get(name)


# Plain SQL: every deposit and payment event runs it, and the ORM's insert costs more than the statement.
_INSERT_EVENT = (
    "INSERT INTO common_outboxevent (name, payload, created_at, attempts, last_error) "
    "VALUES (%s, %s, %s, 0, '') RETURNING id"
)


def send_after_commit(signal: DomainSignal, **payload: object) -> None:
    """Record the event in the current transaction; send `signal` once it commits.

    The payload must be JSON-serialisable (it is stored). Outside a transaction the row is
    written and the signal sent at once.
    """
    dispatch_on_commit(record(signal, payload), signal, payload)


def record(signal: DomainSignal, payload: dict) -> int:
    """Write the event's outbox row in the current transaction; returns its id."""
    with prepared_cursor() as cursor:
        cursor.execute(_INSERT_EVENT, [signal.name, json.dumps(payload), timezone.now()])
        return cursor.fetchone()[0]


def outbox_cte(payload_sql: str, from_sql: str) -> str:
    """The outbox row as a data-modifying common table expression named `outbox`, for a writer
    whose whole change is one PostgreSQL statement (the wallet's money movement): the row travels
    with the change instead of costing a round trip of its own. `payload_sql` may complete the
    payload from the statement's other CTEs (`from_sql`: `FROM t`), e.g. with the new row's id.
    The parameters, in order: the signal's name, those of `payload_sql`, the creation time
    (`outbox_params`). `RETURNING id` gives the event id for `dispatch_on_commit`."""
    return (
        "outbox AS (INSERT INTO common_outboxevent (name, payload, created_at, attempts, last_error) "
        f"SELECT %s, {payload_sql}, %s, 0, '' {from_sql} RETURNING id)"
    )


def outbox_params(signal: DomainSignal, *payload_params: object) -> list[object]:
    return [signal.name, *payload_params, timezone.now()]


def dispatch_on_commit(event_id: int, signal: DomainSignal, payload: dict) -> None:
    """Send the recorded event `event_id` to `signal`'s receivers once the current transaction
    commits (at once outside one)."""
    transaction.on_commit(lambda: dispatch(event_id, signal, payload), robust=True)


# When the event being dispatched on this thread committed (time.perf_counter()), for receivers
# that measure from it (the real-time push's latency). A context variable: an event sent by a
# receiver commits and is dispatched inside the first one's dispatch, and has its own time.
_committed_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("event_committed_at", default=None)


def committed_at() -> float | None:
    """`time.perf_counter()` at the commit of the event this thread is dispatching; None outside
    a dispatch on commit (the sweeper's re-dispatch, a signal sent directly)."""
    return _committed_at.get()


def dispatch(event_id: int, signal: Signal, payload: dict) -> bool:
    """Send the event to every receiver; mark it dispatched if none raised. Returns whether all
    receivers succeeded. Never raises: a failing receiver is logged and the others still run."""
    token = _committed_at.set(time.perf_counter())  # on_commit: the commit has just happened
    try:
        failed = send_robust(signal, {**payload, "event_id": event_id})
    finally:
        _committed_at.reset(token)
    if failed:
        record_failure(event_id, failed)
        return False
    dispatched.add(event_id)
    return True


def send_robust(signal: Signal, payload: dict) -> list[str]:
    """Send, logging each receiver that raised; returns their descriptions."""
    failed = []
    for receiver, result in signal.send_robust(sender=None, **payload):
        if isinstance(result, Exception):
            name = getattr(receiver, "__qualname__", repr(receiver))
            failed.append(f"{name}: {result!r}")
            logger.error("event.receiver_failed", receiver=name, event_id=payload.get("event_id"), error=repr(result),
                         exc_info=result)  # fmt: skip
    return failed


def record_failure(event_id: int, failed: list[str]) -> None:
    """Keep the error on the row (left undispatched, so the sweeper retries it). Best effort."""
    from apps.common.models import OutboxEvent

    try:
        OutboxEvent.objects.filter(pk=event_id).update(last_error="\n".join(failed)[:2000])
    except Exception as exc:  # the database itself failing: the sweeper will still find the row
        logger.warning("outbox.record_failure_failed", event_id=event_id, error=repr(exc))


_INSERT_RECEIPT = (
    "INSERT INTO common_eventreceipt (event_id, receiver, received_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (event_id, receiver) DO NOTHING RETURNING id"
)


# The receipt as a common table expression, for a receiver whose effects fit in one PostgreSQL
# statement with it (compliance's window counts): `WITH {RECEIPT_CTE}, …` with
# `receipt_params(...)` as the first parameters, every effect guarded by
# `EXISTS (SELECT 1 FROM receipt)` (the receipt is new). One round trip where `once_per_event`
# takes one for the receipt and more for the effects.
RECEIPT_CTE = (
    "receipt AS (INSERT INTO common_eventreceipt (event_id, receiver, received_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (event_id, receiver) DO NOTHING RETURNING 1)"
)


def receipt_params(event_id: int, receiver_name: str) -> list[object]:
    return [event_id, receiver_name, timezone.now()]


def once_per_event(receiver_name: str):
    """Make a receiver with database effects run at most once per event id.

    The receipt is written in the same transaction as the receiver's effects: if the receiver
    raises, neither stays, and a later delivery runs it again; if it committed, a later
    delivery (the sweeper after a crash) is skipped. Receivers given no `event_id` (sent
    outside the outbox) always run.
    """

    def decorate(receiver):
        @functools.wraps(receiver)
        def wrapper(sender, event_id: int | None = None, **payload):
            if event_id is None:
                return receiver(sender, **payload)
            with transaction.atomic():
                # One statement: a receipt already there (committed, or being committed by a
                # concurrent delivery, which this one waits for) inserts nothing and returns no row.
                with prepared_cursor() as cursor:
                    cursor.execute(_INSERT_RECEIPT, [event_id, receiver_name, timezone.now()])
                    if cursor.fetchone() is None:
                        return None
                return receiver(sender, event_id=event_id, **payload)

        return wrapper

    return decorate


class _Dispatched:
    """Marks dispatched events in batches from a background thread: one UPDATE for many events,
    and no extra round trip on the request that moved the money. A row not yet marked when the
    process dies is dispatched again by the sweeper (receivers are idempotent)."""

    INTERVAL_SECONDS = 0.2
    BATCH = 1000

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._lock = threading.Lock()
        # Held for a whole flush: a flush that finds the queue empty while another thread's flush
        # is still marking what it took waits for it, so that when `flush()` returns every event
        # queued before the call is marked (or kept for the next round).
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, event_id: int) -> None:
        with self._lock:
            self._ids.append(event_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-dispatched", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.INTERVAL_SECONDS)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Mark every queued event now; returns how many rows were updated. Never raises: on a
        database error the ids are kept for the next round."""
        from apps.common.models import OutboxEvent

        with self._flushing:
            with self._lock:
                ids, self._ids = self._ids, []
            if not ids:
                return 0
            updated = 0
            try:
                now = timezone.now()
                for start in range(0, len(ids), self.BATCH):
                    chunk = ids[start : start + self.BATCH]
                    updated += OutboxEvent.objects.filter(pk__in=chunk, dispatched_at__isnull=True).update(
                        dispatched_at=now, claimed_until=None
                    )
            except Exception as exc:
                logger.warning("outbox.mark_dispatched_failed", events=len(ids), error=repr(exc))
                with self._lock:
                    self._ids[:0] = ids
                connection.close()
            return updated


dispatched = _Dispatched()
atexit.register(dispatched.flush)
