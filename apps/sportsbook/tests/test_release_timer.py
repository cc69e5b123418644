"""The in-play delay's release timer (apps/sportsbook/timer.py): a pending bet is decided at its
`release_at` by the process that took it, with no GET and no sweep; a bet whose timer was lost
(its process died) is still decided by the sweep. The timer itself: soonest first whoever was
scheduled first, bounded, and a release that fails does not stop the others."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from apps.sportsbook import intake, services, timer
from apps.sportsbook.models import Bet
from apps.sportsbook.tests.factories import a_match, live, send
from apps.wallet.tests.factories import funded_player

POLL_S = 0.05
POLL_LIMIT = 200  # 10 s at most: a bound, not a speed target (bench/bet_delay.py measures that)


@pytest.fixture
def release_timer(settings):
    settings.SPORTSBOOK_RELEASE_TIMER = True
    yield
    timer.stop()


def in_play(delay: int = 1) -> None:
    seq = a_match(delay=delay)
    send(live(seq))


def a_bet(key: str = "k") -> Bet:
    player = funded_player(10_000)
    placed = services.place_bet(player=player, idempotency_key=key, stake=1_000, currency="EUR",
                                legs=[intake.LegRequest("mk-1-home", Decimal("3.10"), 1)],
                                accept_price_changes="none")  # fmt: skip
    return placed.bet


def decided(bet_id: int) -> Bet:
    """The bet once it is no longer pending, polling the database (bounded)."""
    for _ in range(POLL_LIMIT):
        bet = Bet.objects.get(pk=bet_id)
        if bet.status != "pending":
            return bet
        time.sleep(POLL_S)
    raise AssertionError(f"bet {bet_id} still pending after {POLL_LIMIT} polls")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bet_with_a_one_second_delay_is_decided_by_its_process_without_a_get_or_a_sweep(release_timer):
    in_play(delay=1)

    bet = a_bet()

    assert bet.status == "pending"
    released = decided(bet.pk)
    assert (released.status, released.reject_reason) == ("accepted", "")
    assert released.decided_at >= released.release_at  # never before the whole delay has run


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_still_releases_a_bet_whose_timer_was_lost(release_timer):
    in_play(delay=1)
    bet = a_bet()
    timer.stop()  # the process that took it died: nothing waits for it any more

    assert Bet.objects.get(pk=bet.pk).status == "pending"
    assert services.release_due_bets(now=bet.release_at) == 1

    assert Bet.objects.get(pk=bet.pk).status == "accepted"


@pytest.mark.django_db
def test_no_timer_is_set_before_the_bet_commits(release_timer, django_capture_on_commit_callbacks):
    in_play(delay=1)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        a_bet()

    assert timer._timer.waiting() == 0
    for callback in callbacks:  # the commit
        callback()
    assert timer._timer.waiting() == 1


def test_the_timer_off_schedules_nothing(settings):
    settings.SPORTSBOOK_RELEASE_TIMER = False

    assert timer.schedule_release(1, timer.timezone.now()) is False
    assert timer._timer.waiting() == 0


# --- the timer alone ------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_soonest_is_released_first_whatever_the_order_it_came_in():
    clock, released, done = FakeClock(), [], threading.Event()

    def release(bet_id: int) -> None:
        released.append(bet_id)
        if len(released) == 4:
            done.set()

    release_timer = timer.ReleaseTimer(release, clock=clock, releasers=1)
    try:
        for bet_id, due in ((3, 1003.0), (1, 1001.0), (2, 1002.0)):
            release_timer.schedule(bet_id, due)
        assert released == []  # none is due yet
        clock.now = 2000.0
        release_timer.schedule(4, 1004.0)  # wakes the thread: all four are due now

        assert done.wait(10)
        assert released == [1, 2, 3, 4]
    finally:
        release_timer.stop()


def test_a_release_that_fails_does_not_stop_the_others():
    released, done = [], threading.Event()

    def release(bet_id: int) -> None:
        if bet_id == 1:
            raise RuntimeError("the database went away")
        released.append(bet_id)
        done.set()

    release_timer = timer.ReleaseTimer(release, clock=FakeClock())
    try:
        release_timer.schedule(1, -1.0)
        release_timer.schedule(2, -1.0)

        assert done.wait(10)
        assert released == [2]
    finally:
        release_timer.stop()


def test_the_heap_is_bounded(monkeypatch):
    monkeypatch.setattr(timer, "MAX_WAITING", 2)
    release_timer = timer.ReleaseTimer(lambda bet_id: None, clock=FakeClock())
    try:
        assert release_timer.schedule(1, 1e9) is True
        assert release_timer.schedule(2, 1e9) is True
        assert release_timer.schedule(3, 1e9) is False  # left to the sweep
        assert release_timer.waiting() == 2
    finally:
        release_timer.stop()


def test_a_release_waiting_for_a_lock_does_not_hold_back_the_next():
    unblock, second_done, released = threading.Event(), threading.Event(), []

    def release(bet_id: int) -> None:
        if bet_id == 1:
            unblock.wait(10)  # its player's next bet holds the player's accounts
        released.append(bet_id)
        if bet_id == 2:
            second_done.set()

    release_timer = timer.ReleaseTimer(release, clock=FakeClock(), releasers=2)
    try:
        release_timer.schedule(1, -2.0)
        release_timer.schedule(2, -1.0)

        assert second_done.wait(10)
        assert released == [2]
        unblock.set()
    finally:
        unblock.set()
        release_timer.stop()
    assert released == [2, 1]
