"""The outbox: every domain event is written with the money, dispatched at once after commit,
marked, and dispatched again by the sweeper when a crash or a failing receiver left it undone.
Receivers are idempotent per event id (`once_per_event`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction

from apps.common import events, outbox
from apps.common.models import EventReceipt, OutboxEvent
from apps.wallet.errors import InsufficientFunds
from apps.wallet.signals import transaction_posted
from apps.wallet.tests.factories import bet, funded_player

NOW = dt.timedelta(0)


@pytest.fixture
def delivered() -> list[dict]:
    """Every delivery of `transaction_posted` to a receiver, with its event id."""
    received: list[dict] = []

    def receiver(sender, signal, **payload):
        received.append(payload)

    transaction_posted.connect(receiver, weak=False)
    yield received
    transaction_posted.disconnect(receiver)


@pytest.fixture
def failing_receiver():
    """A receiver that raises, until told to stop."""
    state = {"fail": True, "calls": 0}

    def receiver(sender, signal, **payload):
        state["calls"] += 1
        if state["fail"]:
            raise RuntimeError("receiver down")

    transaction_posted.connect(receiver, weak=False)
    yield state
    transaction_posted.disconnect(receiver)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bet_writes_its_event_and_dispatches_it_once_after_commit(delivered):
    player = funded_player(1_000)
    before = len(delivered)

    posted = bet(player, 100)

    events.dispatched.flush()
    row = OutboxEvent.objects.get(name="wallet.transaction_posted", payload__transaction_id=posted.transaction_id)
    assert row.dispatched_at is not None
    assert row.payload["version"] == posted.version
    assert row.payload["balance"] == 900
    (event,) = delivered[before:]
    assert event["event_id"] == row.pk
    assert event["transaction_id"] == posted.transaction_id
    # Nothing left for the sweeper: it delivers nothing more.
    assert outbox.sweep(grace=NOW) == 0
    assert len(delivered) == before + 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_refused_bet_writes_no_event_and_sends_nothing(delivered):
    player = funded_player(50)
    rows = OutboxEvent.objects.count()
    sent = len(delivered)

    with pytest.raises(InsufficientFunds):
        bet(player, 100)

    assert OutboxEvent.objects.count() == rows
    assert len(delivered) == sent


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_of_a_rolled_back_transaction_disappears_with_it(delivered):
    sent = len(delivered)
    rows = OutboxEvent.objects.count()

    def a_change_that_fails():
        with transaction.atomic():
            events.send_after_commit(transaction_posted, player_id="1", transaction_id="never")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        a_change_that_fails()

    assert OutboxEvent.objects.count() == rows
    assert len(delivered) == sent


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_whose_receiver_raised_stays_undispatched_and_the_sweeper_retries_it(failing_receiver, delivered):
    player = funded_player(1_000)

    posted = bet(player, 100)  # the bet itself succeeds: the money has moved

    events.dispatched.flush()
    row = OutboxEvent.objects.get(payload__transaction_id=posted.transaction_id)
    assert row.dispatched_at is None
    assert "receiver down" in row.last_error
    assert outbox.sweep(grace=NOW) == 0  # still failing: kept, attempt counted
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.dispatched_at is None

    failing_receiver["fail"] = False
    OutboxEvent.objects.filter(pk=row.pk).update(claimed_until=None)  # the lease has run out
    assert outbox.sweep(grace=NOW) == 1

    row.refresh_from_db()
    assert row.dispatched_at is not None
    assert [d["event_id"] for d in delivered].count(row.pk) == 3  # at commit, failed retry, success


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweeper_leaves_young_events_to_the_process_that_committed_them(delivered):
    with transaction.atomic():
        # Written but not dispatched yet (as if its process were about to): on_commit is bypassed
        # by writing the row directly.
        row = OutboxEvent.objects.create(name="wallet.transaction_posted", payload={}, created_at=_now())

    assert outbox.sweep(grace=dt.timedelta(seconds=10)) == 0
    row.refresh_from_db()
    assert row.dispatched_at is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_of_an_unknown_signal_is_set_aside_not_retried_forever():
    row = OutboxEvent.objects.create(name="nobody.knows_this", payload={}, created_at=_now())

    assert outbox.sweep(grace=NOW) == 0
    assert outbox.sweep(grace=NOW) == 0

    row.refresh_from_db()
    assert row.dispatched_at is None
    assert row.attempts == 1
    assert "nobody.knows_this" in row.last_error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_once_per_event_runs_a_receiver_once_whatever_the_deliveries():
    effects = []

    @events.once_per_event("test.count_bets")
    def counted(sender, event_id, **payload):
        effects.append(event_id)

    counted(None, event_id=41, transaction_id="a")
    counted(None, event_id=41, transaction_id="a")
    counted(None, event_id=42, transaction_id="b")

    assert effects == [41, 42]
    assert EventReceipt.objects.filter(receiver="test.count_bets").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_once_per_event_keeps_no_receipt_when_the_receiver_raised():
    calls = []

    @events.once_per_event("test.flaky")
    def flaky(sender, event_id, **payload):
        calls.append(event_id)
        if len(calls) == 1:
            raise RuntimeError("first delivery fails")

    with pytest.raises(RuntimeError):
        flaky(None, event_id=7)
    flaky(None, event_id=7)
    flaky(None, event_id=7)

    assert calls == [7, 7]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_purge_deletes_only_old_dispatched_events():
    old = _now() - dt.timedelta(days=8)
    kept_undispatched = OutboxEvent.objects.create(name="x", payload={}, created_at=old)
    purged = OutboxEvent.objects.create(name="x", payload={}, created_at=old, dispatched_at=old)
    recent = OutboxEvent.objects.create(name="x", payload={}, created_at=_now(), dispatched_at=_now())

    assert outbox.purge(keep=dt.timedelta(days=7)) == 1

    remaining = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert {kept_undispatched.pk, recent.pk} <= remaining
    assert purged.pk not in remaining


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweeper_command_once_reports_what_it_did(capsys, delivered):
    OutboxEvent.objects.create(
        name="wallet.transaction_posted", payload=_payload("cmd"), created_at=_now() - dt.timedelta(minutes=1)
    )

    call_command("outbox_sweeper", "--once", "--grace", "0")

    assert "dispatched 1 event(s), 0 left" in capsys.readouterr().out
    assert [d["transaction_id"] for d in delivered] == ["cmd"]


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _payload(transaction_id: str) -> dict:
    return {
        "player_id": "1",
        "transaction_id": transaction_id,
        "kind": "bet",
        "amount": -1,
        "version": 1,
        "balance": 0,
        "cash": 0,
        "bonus": 0,
        "currency": "EUR",
        "game_id": "",
        "created_at": "2026-12-01T00:00:00Z",
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_under_another_sweepers_lease_is_not_taken_again():
    row = OutboxEvent.objects.create(name="x", payload={}, created_at=_now() - dt.timedelta(minutes=1))

    first = outbox._claim(NOW, 10)
    second = outbox._claim(NOW, 10)

    assert [claimed.pk for claimed in first] == [row.pk]
    assert second == []


def test_a_flush_returns_only_once_a_flush_in_flight_on_another_thread_has_marked_its_events(monkeypatch):
    """The background thread may have taken the queue and still be marking it: a flush called
    meanwhile (a test's, the one at exit) finds the queue empty, and must wait for that mark."""
    import threading

    marking, release, marked = threading.Event(), threading.Event(), []

    class SlowRows:
        def __init__(self, ids):
            self.ids = ids

        def update(self, **_):
            marking.set()
            assert release.wait(5)
            marked.extend(self.ids)
            return len(self.ids)

    class Manager:
        def filter(self, pk__in, **_):
            return SlowRows(pk__in)

    monkeypatch.setattr(OutboxEvent, "objects", Manager())
    queue = events._Dispatched()
    queue._ids = [1, 2]
    in_flight = threading.Thread(target=queue.flush)
    in_flight.start()
    assert marking.wait(5)
    second = threading.Thread(target=queue.flush)
    second.start()
    second.join(0.2)

    assert second.is_alive()  # waiting for the mark in flight, not returned with nothing done
    release.set()
    second.join(5)
    in_flight.join(5)
    assert not second.is_alive()
    assert marked == [1, 2]
