"""The outbox sweeper's work: dispatch again the events that a crash left undispatched.

An event is normally dispatched by the process that committed it, within milliseconds, and
marked a moment later (apps.common.events). What is still undispatched after `grace` seconds was
interrupted (the process died between commit and marking) or had a receiver that raised; the
sweeper claims such rows with a lease (so two sweepers never run one event at once), sends them
to the receivers in id order, and marks them. Receivers are idempotent per event id, so an event
whose receivers had run before the crash changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import structlog
from django.db.models import Count, Min, Q
from django.utils import timezone

from apps.common import events
from apps.common.models import OutboxEvent

logger = structlog.get_logger(__name__)

LEASE = dt.timedelta(seconds=60)
# After this many failed dispatches the event is set aside (dispatched_at stays empty, the lease
# is pushed far out) and logged as an error for an engineer to look at: a receiver that fails
# every time must not be retried forever at full speed.
MAX_ATTEMPTS = 10
SET_ASIDE = dt.timedelta(days=3650)


def _claim(grace: dt.timedelta, limit: int) -> list[OutboxEvent]:
    """Take a lease on up to `limit` of the oldest due events, without an explicit lock: the
    conditional UPDATE re-checks `claimed_until` on each row, so of two sweepers racing for a row
    only one sets its own lease (a timestamp no other sweep uses) and reads the row back."""
    now = timezone.now()
    due = (
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=now - grace)
        .exclude(claimed_until__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return []
    lease = now + LEASE + dt.timedelta(microseconds=uuid.uuid4().int % 1_000_000)
    (
        OutboxEvent.objects.filter(pk__in=ids, dispatched_at__isnull=True)
        .exclude(claimed_until__gt=now)
        .update(claimed_until=lease)
    )
    return list(OutboxEvent.objects.filter(pk__in=ids, claimed_until=lease).order_by("pk"))


def sweep(*, grace: dt.timedelta = dt.timedelta(seconds=10), limit: int = 500) -> int:
    """Dispatch up to `limit` events undispatched for longer than `grace`; returns how many
    were dispatched with every receiver succeeding."""
    done = 0
    for row in _claim(grace, limit):
        signal = events.signal_named(row.name)
        if signal is None:
            logger.error("outbox.unknown_event", event_id=row.pk, name=row.name)
            _give_up(row, f"no domain signal is named {row.name!r}")
            continue
        failed = events.send_robust(signal, {**row.payload, "event_id": row.pk})
        if failed:
            _failed(row, failed)
            continue
        OutboxEvent.objects.filter(pk=row.pk).update(dispatched_at=timezone.now(), claimed_until=None)
        done += 1
        logger.info("outbox.redispatched", event_id=row.pk, name=row.name)
    return done


def _failed(row: OutboxEvent, failed: list[str]) -> None:
    attempts = row.attempts + 1
    error = "\n".join(failed)[:2000]
    if attempts >= MAX_ATTEMPTS:
        _give_up(row, error, attempts=attempts)
        return
    # Retry after the lease, no sooner: a failing receiver is not hammered.
    OutboxEvent.objects.filter(pk=row.pk).update(attempts=attempts, last_error=error)


def _give_up(row: OutboxEvent, error: str, *, attempts: int | None = None) -> None:
    logger.error("outbox.set_aside", event_id=row.pk, name=row.name, error=error)
    OutboxEvent.objects.filter(pk=row.pk).update(
        attempts=attempts if attempts is not None else row.attempts + 1,
        last_error=error,
        claimed_until=timezone.now() + SET_ASIDE,
    )


def purge(*, keep: dt.timedelta) -> int:
    """Delete dispatched events older than `keep` (the ledger, not the outbox, is the record)."""
    deleted, _ = OutboxEvent.objects.filter(dispatched_at__isnull=False, created_at__lt=timezone.now() - keep).delete()
    return deleted


def undispatched_count() -> int:
    return OutboxEvent.objects.filter(dispatched_at__isnull=True).count()


@dataclass(frozen=True)
class Backlog:
    pending: int  # undispatched, to be dispatched (by the sweeper, if nobody else)
    set_aside: int  # undispatched and given up on (MAX_ATTEMPTS failures)
    oldest_at: dt.datetime | None  # the oldest pending event's creation; None when none is pending


def backlog() -> Backlog:
    """The undispatched events, for the metrics: one statement over the partial index of the
    undispatched rows (a handful, unless dispatching has stopped). A set-aside event's lease is
    years away, a live one's at most LEASE: anything over a day out is set aside, and left out
    of the oldest age, which would otherwise stay high until someone purged it by hand."""
    set_aside = Q(claimed_until__gt=timezone.now() + dt.timedelta(days=1))
    found = OutboxEvent.objects.filter(dispatched_at__isnull=True).aggregate(
        pending=Count("pk", filter=~set_aside),
        set_aside=Count("pk", filter=set_aside),
        oldest_at=Min("created_at", filter=~set_aside),
    )
    return Backlog(pending=found["pending"], set_aside=found["set_aside"], oldest_at=found["oldest_at"])
