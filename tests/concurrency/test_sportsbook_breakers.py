"""The suspend_in_play breaker under real concurrency (threads with their own PostgreSQL
connections, released together): a feed's batch that would open in-play markets racing the trip
never leaves one open, whichever commits first; two trips at once turn it on once."""

from __future__ import annotations

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance.models import StaffAction
from apps.sportsbook import breakers
from apps.sportsbook.models import Market
from apps.sportsbook.tests.factories import a_feed, event, live, market, post_batch, resume, suspend
from tests.concurrency.test_payments import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROUNDS = 8


def test_a_batch_racing_the_trip_never_leaves_an_in_play_market_open():
    a_feed()
    asker, approver = make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)
    seq = 0

    def next_seq() -> int:
        nonlocal seq
        seq += 1
        return seq

    for round_ in range(ROUNDS):
        ev, suspended, fresh = f"ev-{round_}", f"mk-{round_}-a", f"mk-{round_}-b"
        set_up = post_batch(event(next_seq(), event_id=ev), market(next_seq(), market_id=suspended, event_id=ev),
                            live(next_seq(), event_id=ev), suspend(next_seq(), market_id=suspended))  # fmt: skip
        assert set_up.status_code == 200
        batch = [resume(next_seq(), market_id=suspended), market(next_seq(), market_id=fresh, event_id=ev)]

        results = race(
            lambda: breakers.trip("suspend_in_play", "race"),
            lambda batch=batch: post_batch(*batch).status_code,
        )

        assert results == [True, 200], results
        assert list(Market.objects.filter(status="open", event__status="live").values_list("market_id")) == []
        assert Market.objects.filter(event__event_id=ev, breaker_suspended=True).count() == 2
        request = breakers.request_change(breaker="suspend_in_play", turn_on=False, reason="next", acting_user=asker)
        breakers.approve_change(request_id=request.pk, acting_user=approver)


def test_two_trips_at_once_turn_the_breaker_on_once():
    results = race(*[lambda: breakers.trip("cached_prices", "race")] * 3)

    assert sorted(results) == [False, False, True], results
    assert StaffAction.objects.filter(action=breakers.BREAKER_TRIP).count() == 1
