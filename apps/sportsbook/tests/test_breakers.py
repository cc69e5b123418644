"""The circuit breakers (docs/sportsbook.md, "Circuit breakers"): operator switches with four eyes
and automatic triggers, and what each does to the markets and to the odds socket's frames."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.common import sweeps
from apps.common.models import OutboxEvent
from apps.compliance.models import StaffAction
from apps.sportsbook import breakers, services
from apps.sportsbook.errors import (
    BreakerFourEyesRequired,
    BreakerRequestNotPending,
    BreakerRequestPending,
    BreakerUnchanged,
    InvalidBreakerRequest,
)
from apps.sportsbook.models import Breaker, BreakerRequest, Feed, Market
from apps.sportsbook.tests.factories import a_feed, event, heartbeat, live, market, post_batch, resume, suspend

pytestmark = pytest.mark.django_db

PRE_MATCH_ONLY, CACHED_PRICES, SUSPEND_IN_PLAY = "pre_match_only", "cached_prices", "suspend_in_play"


@pytest.fixture
def book():
    """ev-1 in play with mk-1 (open) and mk-2 (suspended by the feed); ev-2 not started, mk-3."""
    a_feed()
    response = post_batch(
        event(1), market(2), market(3, market_id="mk-2"), live(4), suspend(5, market_id="mk-2"),
        event(6, event_id="ev-2"), market(7, market_id="mk-3", event_id="ev-2"),
    )  # fmt: skip
    assert response.status_code == 200
    return Feed.objects.get()


@pytest.fixture
def finance():
    return make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)


def state(market_id: str) -> tuple[str, int, int, bool]:
    return Market.objects.values_list("status", "version", "suspended_version", "breaker_suspended").get(
        market_id=market_id
    )


def published() -> list[list[tuple[str, int, str, bool]]]:
    """Each `markets_changed` event recorded, as (market, version, status, delayed) per market."""
    rows = OutboxEvent.objects.filter(name="sportsbook.markets_changed").order_by("pk")
    return [[(m["market_id"], m["version"], m["status"], m["delayed"]) for m in row.payload["markets"]] for row in rows]


def trail(action: str) -> list[tuple]:
    return list(
        StaffAction.objects.filter(action=action)
        .order_by("pk")
        .values_list("actor_id", "system_actor", "target_id", "before", "after", "reason")
    )


def switch(name: str, *, on: bool, by, approver):
    """A breaker switched the operators' way: asked by `by`, approved by `approver`."""
    request = breakers.request_change(breaker=name, turn_on=on, reason="test", acting_user=by)
    return breakers.approve_change(request_id=request.pk, acting_user=approver)


# --- four eyes ------------------------------------------------------------------------------------


def test_a_request_waits_for_another_staff_member_and_the_requester_cannot_approve_it(finance):
    asker, approver = finance

    request = breakers.request_change(breaker=SUSPEND_IN_PLAY, turn_on=True, reason="feed outage", acting_user=asker)

    assert request.status == "pending"
    assert breakers.is_on(SUSPEND_IN_PLAY) is False
    with pytest.raises(BreakerFourEyesRequired):
        breakers.approve_change(request_id=request.pk, acting_user=asker)
    with pytest.raises(BreakerFourEyesRequired):
        breakers.reject_change(request_id=request.pk, acting_user=asker, reason="changed my mind")
    assert BreakerRequest.objects.get().status == "pending"
    assert breakers.is_on(SUSPEND_IN_PLAY) is False

    approved = breakers.approve_change(request_id=request.pk, acting_user=approver)

    assert (approved.status, approved.decided_by) == ("approved", approver)
    row = Breaker.objects.get(name=SUSPEND_IN_PLAY)
    assert (row.is_on, row.changed_by, row.reason, row.request_id) == (True, approver, "feed outage", request.pk)
    assert breakers.state().on == {SUSPEND_IN_PLAY}
    assert trail(breakers.BREAKER_REQUEST) == [
        (asker.pk, "", str(request.pk), {}, {"breaker": SUSPEND_IN_PLAY, "turn_on": True, "status": "pending"},
         "feed outage"),
    ]  # fmt: skip
    assert trail(breakers.BREAKER_APPROVE) == [
        (approver.pk, "", str(request.pk), {"status": "pending", "breaker_on": False},
         {"status": "approved", "breaker_on": True}, "feed outage"),
    ]  # fmt: skip
    # Approving again as the approver is the same answer; as anyone else, refused.
    assert breakers.approve_change(request_id=request.pk, acting_user=approver).pk == request.pk
    with pytest.raises(BreakerRequestNotPending):
        breakers.approve_change(request_id=request.pk, acting_user=make_staff(StaffRole.FINANCE))
    assert len(trail(breakers.BREAKER_APPROVE)) == 1


def test_a_rejection_needs_a_reason_and_changes_nothing(finance):
    asker, approver = finance
    request = breakers.request_change(breaker=CACHED_PRICES, turn_on=True, reason="slow feeds", acting_user=asker)

    with pytest.raises(InvalidBreakerRequest):
        breakers.reject_change(request_id=request.pk, acting_user=approver, reason="  ")
    rejected = breakers.reject_change(request_id=request.pk, acting_user=approver, reason="feeds are fine")

    assert (rejected.status, rejected.decided_by, rejected.decision_reason) == ("rejected", approver, "feeds are fine")
    assert breakers.is_on(CACHED_PRICES) is False
    assert trail(breakers.BREAKER_REJECT) == [
        (approver.pk, "", str(request.pk), {"status": "pending"}, {"status": "rejected"}, "feeds are fine"),
    ]
    with pytest.raises(BreakerRequestNotPending):
        breakers.approve_change(request_id=request.pk, acting_user=approver)


def test_requests_that_change_nothing_or_contradict_a_pending_one_are_refused(finance):
    asker, _ = finance

    with pytest.raises(BreakerUnchanged):
        breakers.request_change(breaker=PRE_MATCH_ONLY, turn_on=False, reason="it is off", acting_user=asker)
    with pytest.raises(InvalidBreakerRequest):
        breakers.request_change(breaker=PRE_MATCH_ONLY, turn_on=True, reason="", acting_user=asker)
    with pytest.raises(InvalidBreakerRequest):
        breakers.request_change(breaker="everything", turn_on=True, reason="why not", acting_user=asker)
    breakers.request_change(breaker=PRE_MATCH_ONLY, turn_on=True, reason="first", acting_user=asker)
    with pytest.raises(BreakerRequestPending):
        breakers.request_change(breaker=PRE_MATCH_ONLY, turn_on=True, reason="second", acting_user=asker)

    assert BreakerRequest.objects.count() == 1
    assert len(trail(breakers.BREAKER_REQUEST)) == 1


def test_the_database_refuses_a_self_approval_and_a_second_pending_request(finance):
    asker, _ = finance
    request = breakers.request_change(breaker=PRE_MATCH_ONLY, turn_on=True, reason="x", acting_user=asker)

    with pytest.raises(IntegrityError, match="sportsbook_breaker_request_four_eyes"), transaction.atomic():
        BreakerRequest.objects.filter(pk=request.pk).update(
            status="approved", decided_by=asker, decided_at=request.requested_at
        )
    with pytest.raises(IntegrityError, match="sportsbook_breaker_one_pending_request"), transaction.atomic():
        BreakerRequest.objects.create(breaker_id=PRE_MATCH_ONLY, turn_on=True, reason="y", requested_by=asker,
                                      requested_at=request.requested_at)  # fmt: skip


def test_the_database_refuses_a_breaker_turned_off_by_the_system(finance):
    breakers.trip(CACHED_PRICES, "two feeds stale")

    with (
        pytest.raises(IntegrityError, match="sportsbook_breaker_off_by_approval"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE sportsbook_breaker SET is_on = false WHERE name = %s", [CACHED_PRICES])


@pytest.mark.parametrize(
    ("market_id", "values"),
    [
        ("mk-1", "breaker_suspended = true"),  # open
        ("mk-2", "breaker_suspended = true, watchdog_suspended = true"),  # suspended twice over
    ],
)
def test_the_database_refuses_a_breaker_suspension_that_is_not_the_only_one(book, market_id, values):
    sql = f"UPDATE sportsbook_market SET {values} WHERE market_id = %s"

    with (
        pytest.raises(IntegrityError, match="sportsbook_market_breaker_suspension_is_a_suspension"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [market_id])


# --- the automatic path ---------------------------------------------------------------------------


def test_a_trip_turns_the_breaker_on_at_once_as_the_system_and_only_an_approval_turns_it_off(finance):
    asker, approver = finance

    assert breakers.trip(PRE_MATCH_ONLY, "liability throttle: 3 markets in 10 s") is True
    assert breakers.trip(PRE_MATCH_ONLY, "again") is False  # on already: nothing recorded

    row = Breaker.objects.get(name=PRE_MATCH_ONLY)
    assert (row.is_on, row.changed_by, row.request) == (True, None, None)
    assert row.reason == "liability throttle: 3 markets in 10 s"
    assert trail(breakers.BREAKER_TRIP) == [
        (None, "breakers", PRE_MATCH_ONLY, {"is_on": False}, {"is_on": True}, "liability throttle: 3 markets in 10 s"),
    ]
    with pytest.raises(InvalidBreakerRequest):
        breakers.trip(SUSPEND_IN_PLAY, " ")

    switch(PRE_MATCH_ONLY, on=False, by=asker, approver=approver)

    row.refresh_from_db()
    assert (row.is_on, row.changed_by) == (False, approver)


def test_the_state_is_one_query(django_assert_num_queries):
    breakers.trip(CACHED_PRICES, "test")

    with django_assert_num_queries(1):
        found = breakers.state()

    assert (found.prices_delayed, found.in_play_closed, found.is_on(CACHED_PRICES)) == (True, False, True)


# --- suspend_in_play ------------------------------------------------------------------------------


def test_suspend_in_play_suspends_every_in_play_market_at_once_and_publishes_them(book):
    before = len(published())

    breakers.trip(SUSPEND_IN_PLAY, "test")

    assert state("mk-1") == ("suspended", 2, 2, True)  # in play and open: suspended by the breaker
    assert state("mk-2") == ("suspended", 2, 2, False)  # the feed's own suspension, untouched
    assert state("mk-3") == ("open", 1, 0, False)  # not in play
    assert published()[before:] == [[("mk-1", 2, "suspended", False)]]
    assert breakers.state().in_play_closed is True


def test_no_feed_reopens_an_in_play_market_while_suspend_in_play_is_on(book):
    breakers.trip(SUSPEND_IN_PLAY, "test")
    before = len(published())

    response = post_batch(
        resume(10, market_id="mk-1"), resume(11, market_id="mk-2"),  # a resume does not open them
        market(12, prices=("2.00", "3.50", "3.90")),  # nor do fresh prices (taken, still suspended)
        market(13, market_id="mk-4"),  # a new in-play market opens suspended
        live(14, event_id="ev-2"),  # a kick-off suspends the event's open markets
    )  # fmt: skip

    assert response.json() == {"applied": 5, "skipped": 0}
    assert state("mk-1") == ("suspended", 3, 2, True)
    assert state("mk-2") == ("suspended", 2, 2, True)  # the feed thinks it open: the breaker holds it
    assert state("mk-3") == ("suspended", 2, 2, True)
    assert state("mk-4") == ("suspended", 1, 1, True)
    assert published()[before:] == [
        [("mk-1", 3, "suspended", False), ("mk-3", 2, "suspended", False), ("mk-4", 1, "suspended", False)]
    ]
    assert not Market.objects.filter(status="open", event__status="live").exists()


def test_turned_off_its_markets_reopen_with_their_feeds_next_prices(book, finance):
    asker, approver = finance
    breakers.trip(SUSPEND_IN_PLAY, "test")
    post_batch(resume(10, market_id="mk-2"))
    before = len(published())

    switch(SUSPEND_IN_PLAY, on=False, by=asker, approver=approver)

    assert published()[before:] == []  # nothing moves when it is turned off
    assert state("mk-1") == ("suspended", 2, 2, True)
    post_batch(market(20), market(21, market_id="mk-2"))  # the same prices: fresh word all the same
    assert state("mk-1") == ("open", 3, 2, False)
    assert state("mk-2") == ("open", 3, 2, False)
    assert published()[before:] == [[("mk-1", 3, "open", False), ("mk-2", 3, "open", False)]]


def test_a_feeds_suspension_under_the_breaker_becomes_the_feeds_own(book, finance):
    asker, approver = finance
    breakers.trip(SUSPEND_IN_PLAY, "test")
    post_batch(suspend(10, event_id="ev-1"))  # a goal while the breaker holds the markets
    switch(SUSPEND_IN_PLAY, on=False, by=asker, approver=approver)

    post_batch(market(20, prices=("1.50", "4.00", "6.00")))

    assert state("mk-1") == ("suspended", 3, 2, False)  # repriced, waiting for the feed's resume
    post_batch(resume(21, event_id="ev-1"))
    assert state("mk-1") == ("open", 4, 2, False)


# --- cached_prices and pre_match_only -------------------------------------------------------------


def test_cached_prices_serves_every_unsettled_market_delayed_until_it_is_turned_off(book, finance):
    asker, approver = finance
    before = len(published())

    breakers.trip(CACHED_PRICES, "test")
    post_batch(market(10, prices=("2.00", "3.50", "3.90")))
    switch(CACHED_PRICES, on=False, by=asker, approver=approver)

    assert published()[before:] == [
        [("mk-1", 1, "open", True), ("mk-2", 2, "suspended", True), ("mk-3", 1, "open", True)],
        [("mk-1", 2, "open", True)],
        [("mk-1", 2, "open", False), ("mk-2", 2, "suspended", False), ("mk-3", 1, "open", False)],
    ]
    assert [state(m) for m in ("mk-1", "mk-2", "mk-3")] == [
        ("open", 2, 0, False), ("suspended", 2, 2, False), ("open", 1, 0, False)
    ]  # fmt: skip


def test_pre_match_only_closes_in_play_to_bets_and_shows_its_prices_delayed(book, finance):
    asker, approver = finance
    before = len(published())

    switch(PRE_MATCH_ONLY, on=True, by=asker, approver=approver)
    assert breakers.state().in_play_closed is True
    post_batch(live(10, event_id="ev-2"))  # kicked off under the breaker: its prices turn delayed
    switch(PRE_MATCH_ONLY, on=False, by=approver, approver=asker)

    assert published()[before:] == [
        [("mk-1", 1, "open", True), ("mk-2", 2, "suspended", True)],  # in play only; no version moves
        [("mk-3", 1, "open", True)],
        [("mk-1", 1, "open", False), ("mk-2", 2, "suspended", False), ("mk-3", 1, "open", False)],
    ]
    assert breakers.state().in_play_closed is False


# --- the automatic triggers -----------------------------------------------------------------------


@pytest.fixture
def thresholds(settings):
    settings.SPORTSBOOK_STALE_AFTER_SECONDS = 10
    settings.SPORTSBOOK_BREAKER_STALE_FEEDS = 2
    settings.SPORTSBOOK_BREAKER_WINDOW_SECONDS = 60
    settings.SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS = 1
    settings.SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS = 2


def in_play_feed(code: str, markets: int) -> Feed:
    a_feed(code=code)
    messages = [event(1), *[market(2 + n, market_id=f"{code}-{n}") for n in range(markets)], live(99)]
    assert post_batch(*messages, feed=code).status_code == 200
    return Feed.objects.get(code=code)


def test_nothing_trips_while_every_feed_talks(thresholds, django_assert_num_queries):
    in_play_feed("one", 3)

    with django_assert_num_queries(1):
        assert breakers.check_triggers() == []


def test_the_watchdogs_suspensions_trip_pre_match_only_then_suspend_in_play(thresholds):
    first = in_play_feed("one", 2)
    silent_at = first.last_message_at + dt.timedelta(seconds=10)
    services.suspend_stale_feeds(now=silent_at)  # two in-play markets suspended by the watchdog

    assert breakers.check_triggers(now=silent_at) == [PRE_MATCH_ONLY]  # more than 1; not more than 2
    assert trail(breakers.BREAKER_TRIP)[0][1:3] == ("breakers", PRE_MATCH_ONLY)
    assert "suspended 2 in-play markets" in Breaker.objects.get(name=PRE_MATCH_ONLY).reason

    second = in_play_feed("two", 1)
    services.suspend_stale_feeds(now=second.last_message_at + dt.timedelta(seconds=10))
    now = second.last_message_at + dt.timedelta(seconds=10)

    # Two feeds stale at once, and three suspensions within the window.
    assert breakers.check_triggers(now=now) == [CACHED_PRICES, SUSPEND_IN_PLAY]
    assert breakers.state().on == {PRE_MATCH_ONLY, CACHED_PRICES, SUSPEND_IN_PLAY}
    assert breakers.check_triggers(now=now) == []


def test_an_approved_off_is_not_undone_by_the_suspensions_it_weighed(thresholds, finance):
    asker, approver = finance
    feed = in_play_feed("one", 2)
    # Silent for 20 s on the real clock: the approval below comes after the watchdog's finding.
    Feed.objects.filter(pk=feed.pk).update(last_message_at=feed.last_message_at - dt.timedelta(seconds=20))
    services.suspend_stale_feeds()
    assert breakers.check_triggers() == [PRE_MATCH_ONLY]

    switch(PRE_MATCH_ONLY, on=False, by=asker, approver=approver)

    assert breakers.check_triggers() == []
    assert breakers.is_on(PRE_MATCH_ONLY) is False


def test_feeds_that_stay_stale_trip_cached_prices_once(thresholds, finance):
    asker, approver = finance
    for code in ("one", "two", "three"):
        feed = in_play_feed(code, 1)
        # Silent for 20 s on the real clock: the approval below comes after the watchdog's finding.
        Feed.objects.filter(pk=feed.pk).update(last_message_at=feed.last_message_at - dt.timedelta(seconds=20))
    post_batch(heartbeat(500), feed="three")
    services.suspend_stale_feeds()
    assert breakers.check_triggers()[0] == CACHED_PRICES
    assert Breaker.objects.get(name=CACHED_PRICES).reason == "2 feeds stale at once (one, two)"

    switch(CACHED_PRICES, on=False, by=asker, approver=approver)

    assert breakers.check_triggers() == []
    Feed.objects.filter(code="three").update(last_message_at=timezone.now() - dt.timedelta(seconds=20))
    services.suspend_stale_feeds()  # one feed more goes stale: it alone is not two
    assert CACHED_PRICES not in breakers.check_triggers()


def test_past_the_window_or_with_a_threshold_of_0_nothing_trips(thresholds, settings):
    feed = in_play_feed("one", 3)
    silent_at = feed.last_message_at + dt.timedelta(seconds=10)
    services.suspend_stale_feeds(now=silent_at)

    assert breakers.check_triggers(now=silent_at + dt.timedelta(seconds=61)) == []
    settings.SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS = settings.SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS = 0
    assert breakers.check_triggers(now=silent_at) == []
    assert breakers.state().on == frozenset()


# --- the back office ------------------------------------------------------------------------------


def test_the_back_office_requests_and_a_second_person_approves(client, finance):
    asker, approver = finance
    client.force_login(asker)

    added = client.post("/backoffice/sportsbook/breakerrequest/add/",
                        {"breaker": SUSPEND_IN_PLAY, "turn_on": "on", "reason": "feed provider outage"})  # fmt: skip

    assert added.status_code == 302
    request = BreakerRequest.objects.get()
    assert (request.breaker_id, request.turn_on, request.requested_by, request.status) == (
        SUSPEND_IN_PLAY, True, asker, "pending")  # fmt: skip
    assert len(trail(breakers.BREAKER_REQUEST)) == 1  # the service's record, not a second admin one
    listed = client.get("/backoffice/sportsbook/breaker/")
    assert b"on, asked by " + asker.username.encode() in listed.content

    action = {"action": "approve", "_selected_action": [request.pk], "index": "0", "reason": ""}
    own = client.post("/backoffice/sportsbook/breakerrequest/", action, follow=True)
    assert "FOUR_EYES_REQUIRED" in " ".join(str(m) for m in own.context["messages"])
    assert breakers.is_on(SUSPEND_IN_PLAY) is False

    client.force_login(approver)
    client.post("/backoffice/sportsbook/breakerrequest/", action)

    assert breakers.is_on(SUSPEND_IN_PLAY) is True
    assert [row[0] for row in trail(breakers.BREAKER_APPROVE)] == [approver.pk]


def test_support_sees_the_breakers_and_cannot_ask_for_a_change(client):
    client.force_login(make_staff(StaffRole.SUPPORT))

    assert client.get("/backoffice/sportsbook/breaker/").status_code == 200
    refused = client.post("/backoffice/sportsbook/breakerrequest/add/",
                          {"breaker": PRE_MATCH_ONLY, "turn_on": "on", "reason": "x"})  # fmt: skip
    assert refused.status_code == 403
    assert BreakerRequest.objects.exists() is False


def test_the_ticks_find_stale_feeds_and_trip_right_after(thresholds):
    """The watchdog's tick and the triggers' run in one pass of the ticker, in that order."""
    for code in ("one", "two"):
        feed = in_play_feed(code, 1)
        Feed.objects.filter(pk=feed.pk).update(last_message_at=feed.last_message_at - dt.timedelta(seconds=20))

    sweeps.Ticker(clock=lambda: 0.0).run_due()

    assert breakers.state().on == {CACHED_PRICES, PRE_MATCH_ONLY}
    assert Market.objects.filter(watchdog_suspended=True).count() == 2
