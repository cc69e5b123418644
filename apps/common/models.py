"""The transactional outbox: domain events written in the same database transaction as the change
they describe, so that a crash between commit and the receivers loses nothing.

`apps.common.events` writes and dispatches the rows; `manage.py outbox_sweeper` re-dispatches the
ones a crash left undone. The event's id is the row's primary key: receivers are idempotent per
event id (`EventReceipt`, through `events.once_per_event`).
"""

from __future__ import annotations

from django.db import models


class OutboxEvent(models.Model):
    """One domain event. `dispatched_at` is set once every receiver has run without raising."""

    name = models.CharField(max_length=100, help_text="The domain signal's registered name.")
    payload = models.JSONField()
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The sweeper's bookkeeping: a lease so that two sweepers never dispatch one event at once,
    # and the attempts and last error of events whose receivers keep failing.
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            # The sweeper's scan: only the (few) undispatched rows are in this index.
            models.Index(fields=["id"], condition=models.Q(dispatched_at__isnull=True), name="outbox_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class EventReceipt(models.Model):
    """That `receiver` has handled event `event_id`: written in the receiver's own transaction
    with its effects, so a second delivery of the event is skipped."""

    event_id = models.BigIntegerField()
    receiver = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id", "receiver"], name="event_receipt_once")]

    def __str__(self) -> str:
        return f"{self.receiver} got event {self.event_id}"
