"""The liability throttle (docs/sportsbook.md, "Liability throttle"): a market whose exposure grows by
more than the throttle's limit within its window is suspended right after the bet that took it
over commits. That bet stands (it is within every cap); the suspension is the feed's kind (version
+ 1, `suspended_version`, published), so a slip priced before it is refused even after the market
reopens; the feed's `resume` or a staff member reopens it, fresh prices do not."""

import datetime as dt

import pytest
import time_machine

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.common import events, outbox
from apps.common.outbox import OutboxEvent
from apps.compliance.models import StaffAction
from apps.sportsbook import breakers, services, signals
from apps.sportsbook.errors import MarketNotThrottled
from apps.sportsbook.models import Bet, Exposure, Market
from apps.sportsbook.tests.factories import BETS, a_match, live, market, resume, send, slip, suspend
from apps.sportsbook.throttle import Window, take

pytestmark = pytest.mark.django_db

# 50 euros of liability within 60 s; each test bet (1,000 cents at 3.10) takes 2,100 cents of it,
# so the third one in a window takes the market over: 4,200 <= 5,000 < 6,300.
LIMIT = 5_000
LIABILITY = 2_100
START = dt.datetime(2026, 6, 11, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def throttle(settings):
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": LIMIT // 100, "cap_share": "0"}


@pytest.fixture
def match():
    """An upcoming match (bets accepted at once); the next free seq."""
    return a_match()


def place(api, key: str, version: int = 1):
    return api.post(BETS, slip(("mk-1-home", "3.10", version), stake=1_000), format="json",
                    headers={"Idempotency-Key": key})  # fmt: skip


def place_committed(api, django_capture_on_commit_callbacks, key: str, version: int = 1):
    """Place a bet and run what follows its commit (the throttle's suspension)."""
    with django_capture_on_commit_callbacks(execute=True):
        return place(api, key, version)


def state() -> tuple[str, int, int, bool]:
    return Market.objects.values_list("status", "version", "suspended_version", "throttle_suspended").get(
        market_id="mk-1"
    )


def window() -> tuple[int, int]:
    return Exposure.objects.values_list("window_amount", "previous_window_amount").get(scope="market")


def published() -> list[list[tuple[str, int, str]]]:
    rows = OutboxEvent.objects.filter(name="sportsbook.markets_changed").order_by("pk")
    return [[(m["market_id"], m["version"], m["status"]) for m in row.payload["markets"]] for row in rows]


def trail(action: str) -> list[tuple]:
    return list(StaffAction.objects.filter(action=action).order_by("pk").values_list("actor_id", "system_actor"))


def test_the_bet_that_takes_the_growth_over_the_limit_is_taken_and_suspends_the_market(
    api, match, django_capture_on_commit_callbacks
):
    for key in ("a", "b"):
        assert place_committed(api, django_capture_on_commit_callbacks, key).json()["status"] == "accepted"
    assert state() == ("open", 1, 0, False)
    assert window() == (2 * LIABILITY, 0)
    before = len(published())

    response = place_committed(api, django_capture_on_commit_callbacks, "c")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "accepted"  # within every cap: it stands
    assert Bet.objects.filter(status="accepted").count() == 3
    assert state() == ("suspended", 2, 2, True)
    assert window() == (3 * LIABILITY, 0)
    assert published()[before:] == [[("mk-1", 2, "suspended")]]
    assert trail(services.MARKET_THROTTLED) == [(None, services.THROTTLE_ACTOR)]


def test_nothing_is_suspended_before_the_commit(api, match, django_capture_on_commit_callbacks):
    for key in ("a", "b"):
        place_committed(api, django_capture_on_commit_callbacks, key)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        place(api, "c")

    assert state() == ("open", 1, 0, False)  # the money has not committed yet
    for callback in callbacks:
        callback()
    assert state() == ("suspended", 2, 2, True)


def test_a_crossing_whose_process_died_before_the_suspension_is_suspended_by_the_outbox_sweeper(
    api, match, django_capture_on_commit_callbacks
):
    """The crossing is in the outbox with the bet: a process that dies between the commit and the
    suspension (here: the callbacks never run) leaves it to the sweeper. A second delivery of the
    same event (the sweeper after a crash that came after the suspension) leaves alone a market a
    trader has reopened since."""
    for key in ("a", "b"):
        place_committed(api, django_capture_on_commit_callbacks, key)
    with django_capture_on_commit_callbacks(execute=False):
        assert place(api, "c").json()["status"] == "accepted"
    assert state() == ("open", 1, 0, False)
    (event,) = OutboxEvent.objects.filter(name="sportsbook.markets_throttled", dispatched_at=None)
    assert event.payload["markets"] == [Market.objects.get().pk]

    assert outbox.sweep(grace=dt.timedelta(0)) >= 1

    assert state() == ("suspended", 2, 2, True)
    assert trail(services.MARKET_THROTTLED) == [(None, services.THROTTLE_ACTOR)]
    finance = make_staff(StaffRole.FINANCE)
    services.resume_throttled_market(market_pk=Market.objects.get().pk, reason="checked", acting_user=finance)
    assert state() == ("open", 3, 2, False)
    events.dispatch(event.pk, signals.markets_throttled, event.payload)
    assert state() == ("open", 3, 2, False)  # answered already: the trader's reopening stands


def test_a_slip_priced_before_the_throttle_is_refused_even_after_the_resume(
    api, match, django_capture_on_commit_callbacks
):
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)

    refused = place(api, "d", version=1)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "MARKET_SUSPENDED")

    send(resume(match, market_id="mk-1"))
    assert state() == ("open", 3, 2, False)
    refused = place(api, "e", version=1)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "MARKET_SUSPENDED")
    assert place(api, "f", version=3).json()["status"] == "accepted"  # the price seen after it


def test_fresh_prices_do_not_lift_the_throttle_but_the_feeds_resume_does(
    api, match, django_capture_on_commit_callbacks
):
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)

    send(market(match, prices=("3.00", "3.20", "2.50")))
    assert state() == ("suspended", 3, 2, True)  # new prices taken, still suspended

    send(resume(match + 1, market_id="mk-1"))
    assert state() == ("open", 4, 2, False)


def test_the_feeds_own_suspension_takes_over_from_the_throttle(api, match, django_capture_on_commit_callbacks):
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)

    send(suspend(match, event_id="ev-1"))

    assert state() == ("suspended", 2, 2, False)  # the feed's now: its resume reopens it
    with pytest.raises(MarketNotThrottled):
        services.resume_throttled_market(market_pk=Market.objects.get().pk, reason="checked", acting_user=None)


def test_the_window_slides_and_then_starts_again(api, match, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        place_committed(api, django_capture_on_commit_callbacks, "a")
        place_committed(api, django_capture_on_commit_callbacks, "b")
    # 119 s on, the first window's 4,200 weighs 1/60 in the last 60 s (70): a third bet stays under.
    with time_machine.travel(START + dt.timedelta(seconds=119), tick=False):
        place_committed(api, django_capture_on_commit_callbacks, "c")
    assert state() == ("open", 1, 0, False)
    assert window() == (LIABILITY, 2 * LIABILITY)
    # 181 s on, that window has ended: one starts afresh from this bet.
    with time_machine.travel(START + dt.timedelta(seconds=181), tick=False):
        place_committed(api, django_capture_on_commit_callbacks, "d")
        place_committed(api, django_capture_on_commit_callbacks, "e")
    assert state() == ("open", 1, 0, False)
    assert window() == (2 * LIABILITY, 0)


def test_a_burst_astride_two_windows_is_caught(api, match, django_capture_on_commit_callbacks):
    with time_machine.travel(START + dt.timedelta(seconds=59), tick=False):
        place_committed(api, django_capture_on_commit_callbacks, "a")  # the window opens here
        place_committed(api, django_capture_on_commit_callbacks, "b")
    # 61 s later the first window has ended, but 59/60 of its 4,200 is still within the last
    # minute: 4,130 + 2,100 > 5,000. Two fixed windows would have seen 2,100.
    with time_machine.travel(START + dt.timedelta(seconds=59 + 61), tick=False):
        place_committed(api, django_capture_on_commit_callbacks, "c")

    assert state() == ("suspended", 2, 2, True)
    assert window() == (LIABILITY, 2 * LIABILITY)


def test_a_pending_bet_counts_when_it_is_taken(api, match, django_capture_on_commit_callbacks):
    send(live(match))
    for key in ("a", "b", "c"):
        assert place_committed(api, django_capture_on_commit_callbacks, key).json()["status"] == "pending"

    assert state() == ("suspended", 2, 2, True)
    # Its delay runs out after the suspension: the version it saw is older, it is refused.
    bet = Bet.objects.get(idempotency_key="c")
    assert services.release_pending_bet(bet_id=bet.pk, now=bet.release_at).reject_reason == "MARKET_SUSPENDED"


def test_the_throttle_is_off_with_no_limit(api, match, settings, django_capture_on_commit_callbacks):
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": 0, "cap_share": "0"}
    for key in ("a", "b", "c", "d"):
        place_committed(api, django_capture_on_commit_callbacks, key)

    assert state() == ("open", 1, 0, False)
    assert window() == (0, 0)


def test_a_share_of_the_markets_cap_is_its_limit(api, match, settings, django_capture_on_commit_callbacks):
    # A quarter of a 200-euro market cap: 5,000 cents, as above.
    settings.SPORTSBOOK_THROTTLE = {"window_s": 60.0, "limit": 0, "cap_share": "0.25"}
    services.set_exposure_cap(scope="market", target_id=Market.objects.get().pk, currency="EUR", cap=20_000,
                              reason="thin market", acting_user=None)  # fmt: skip
    for key in ("a", "b"):
        place_committed(api, django_capture_on_commit_callbacks, key)
    assert state() == ("open", 1, 0, False)

    place_committed(api, django_capture_on_commit_callbacks, "c")

    assert state() == ("suspended", 2, 2, True)


# --- staff reopening it ---------------------------------------------------------------------------


def test_a_staff_member_resumes_it_with_a_reason_in_the_trail(api, match, django_capture_on_commit_callbacks):
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)
    finance = make_staff(StaffRole.FINANCE)
    before = len(published())

    reopened = services.resume_throttled_market(market_pk=Market.objects.get().pk, reason="a genuine favourite",
                                                acting_user=finance)  # fmt: skip

    assert (reopened.status, reopened.version) == ("open", 3)
    assert state() == ("open", 3, 2, False)
    assert published()[before:] == [[("mk-1", 3, "open")]]
    assert list(StaffAction.objects.filter(action=services.MARKET_THROTTLE_RESUMED).values_list(
        "actor_id", "reason")) == [(finance.pk, "a genuine favourite")]  # fmt: skip
    with pytest.raises(MarketNotThrottled):  # twice: nothing left to resume
        services.resume_throttled_market(market_pk=reopened.pk, reason="again", acting_user=finance)


def test_in_play_under_suspend_in_play_the_breaker_holds_it_instead(api, match, django_capture_on_commit_callbacks):
    send(live(match))
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)
    breakers.trip("suspend_in_play", "test")

    services.resume_throttled_market(market_pk=Market.objects.get().pk, reason="checked", acting_user=None)

    assert Market.objects.values_list("status", "version", "throttle_suspended", "breaker_suspended").get() == (
        "suspended", 2, False, True)  # fmt: skip


def test_finance_resumes_it_from_the_markets_page_and_support_cannot(
    client, api, match, django_capture_on_commit_callbacks
):
    for key in ("a", "b", "c"):
        place_committed(api, django_capture_on_commit_callbacks, key)
    pk = Market.objects.get().pk
    action = {"action": "resume_throttled", "_selected_action": [pk], "index": "0"}

    client.force_login(make_staff(StaffRole.SUPPORT))
    response = client.post("/backoffice/sportsbook/market/", {**action, "reason": "looks fine"})
    assert state() == ("suspended", 2, 2, True)  # support has no such action

    client.force_login(make_staff(StaffRole.FINANCE))
    client.post("/backoffice/sportsbook/market/", {**action, "reason": ""})
    assert state() == ("suspended", 2, 2, True)  # a reason is required
    response = client.post("/backoffice/sportsbook/market/", {**action, "reason": "looks fine"})

    assert response.status_code == 302
    assert state() == ("open", 3, 2, False)
    assert StaffAction.objects.filter(action=services.MARKET_THROTTLE_RESUMED, reason="looks fine").count() == 1


# --- the circuit breakers' throttle trigger -------------------------------------------------------


def test_more_in_play_markets_throttled_than_allowed_trip_pre_match_only(
    api, settings, django_capture_on_commit_callbacks
):
    settings.SPORTSBOOK_BREAKER_THROTTLED_MARKETS = 1
    seq = a_match(markets=("mk-1", "mk-2"))
    send(live(seq))
    for market_id in ("mk-1", "mk-2"):
        for n in range(3):
            body = slip((f"{market_id}-home", "3.10", 1), stake=1_000)
            with django_capture_on_commit_callbacks(execute=True):
                api.post(BETS, body, format="json", headers={"Idempotency-Key": f"{market_id}-{n}"})
        if market_id == "mk-1":
            assert breakers.is_on("pre_match_only") is False  # one market held: not more than 1

    assert breakers.is_on("pre_match_only") is True
    assert list(StaffAction.objects.filter(action=breakers.BREAKER_TRIP).values_list("reason", flat=True)) == [
        "the liability throttle suspended 2 in-play markets within 60 s (more than 1)"
    ]


def test_markets_throttled_before_the_breakers_last_change_do_not_trip_it_again(
    api, settings, django_capture_on_commit_callbacks
):
    settings.SPORTSBOOK_BREAKER_THROTTLED_MARKETS = 1
    seq = a_match(markets=("mk-1", "mk-2", "mk-3"))
    send(live(seq))
    with time_machine.travel(START, tick=False):
        for market_id in ("mk-1", "mk-2"):
            for n in range(3):
                body = slip((f"{market_id}-home", "3.10", 1), stake=1_000)
                with django_capture_on_commit_callbacks(execute=True):
                    api.post(BETS, body, format="json", headers={"Idempotency-Key": f"{market_id}-{n}"})
    assert breakers.is_on("pre_match_only") is True
    # Turned off by two staff members a second later, with the two markets still held.
    request = breakers.request_change(breaker="pre_match_only", turn_on=False, reason="checked",
                                      acting_user=make_staff(StaffRole.FINANCE))  # fmt: skip
    with time_machine.travel(START + dt.timedelta(seconds=1), tick=False):
        breakers.approve_change(request_id=request.pk, acting_user=make_staff(StaffRole.FINANCE))

    assert breakers.check_throttle_trigger(now=START + dt.timedelta(seconds=2)) is False
    assert breakers.is_on("pre_match_only") is False


def test_the_stored_window_is_the_one_the_throttle_computes_to_the_microsecond(api, match):
    # The bet's statement moves the window in SQL (locks.lock_and_take_exposure): in the same
    # window, into the next one (its start one length on), and afresh, at the edges of each.
    expected = Window(None)
    offsets = [0, 0.000001, 59.999999, 60, 60.5, 119.999999, 240.123456, 300.123455, 420.123456]
    for n, offset in enumerate(offsets):
        at = START + dt.timedelta(seconds=offset)
        with time_machine.travel(at, tick=False):
            assert place(api, f"k{n}").status_code == 201
        expected, _ = take(expected, LIABILITY, at, LIMIT)
        stored = Exposure.objects.values_list("window_started_at", "window_amount", "previous_window_amount").get(
            scope="market"
        )
        assert stored == (expected.started_at, expected.amount, expected.previous), offset
