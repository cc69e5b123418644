"""The signed feed endpoint (contracts/sportsbook.md, "Feed"), driven over HTTP as a feed drives it:
the transport checks, sequence numbers, and what each message does to events, markets, prices and
versions. A refused batch applies nothing, resends included."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.sportsbook.models import Event, Feed, Market, Selection
from apps.sportsbook.signature import MAX_BODY_BYTES, signed_headers
from apps.sportsbook.tests.factories import (
    ENDPOINT,
    FEED,
    SECRET,
    a_feed,
    event,
    heartbeat,
    live,
    market,
    post_batch,
    post_raw,
    result,
    resume,
    suspend,
)
from tests.support import chunked_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed():
    return a_feed()


def prices(market_id: str = "mk-1") -> dict[str, Decimal]:
    return dict(Selection.objects.filter(market__market_id=market_id).values_list("selection_id", "price"))


def state(market_id: str = "mk-1") -> tuple[str, int, int]:
    """(status, version, suspended_version) of the market."""
    return Market.objects.values_list("status", "version", "suspended_version").get(market_id=market_id)


def nothing_applied() -> None:
    feed = Feed.objects.get(code=FEED)
    assert (feed.last_seq, feed.last_message_at) == (0, None)
    assert not Event.objects.exists()
    assert not Market.objects.exists()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    return body["error"]


# --- transport -----------------------------------------------------------------------------------


def test_a_signed_batch_is_applied_and_answered_with_its_counts(feed):
    response = post_batch(event(1), market(2), heartbeat(3))

    assert response.status_code == 200
    assert response.json() == {"applied": 3, "skipped": 0}
    feed.refresh_from_db()
    assert feed.last_seq == 3
    assert feed.last_message_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Signature": "0" * 64},
        {"X-Signature": ""},
        {"X-Feed": "no-such-feed"},
        {"X-Feed": ""},
        {"X-Signature": "é"},
    ],
    ids=["wrong", "missing", "unknown-feed", "no-feed", "not-ascii"],
)
def test_a_wrong_or_missing_signature_or_an_unknown_feed_is_refused(feed, headers):
    body = json.dumps({"messages": [event(1)]}).encode()

    response = post_raw(body, headers=headers)

    assert_error(response, 401, "INVALID_SIGNATURE")
    nothing_applied()


def test_a_signature_with_another_feeds_secret_is_refused(feed):
    a_feed("rival", "rival-secret-0123456789")

    response = post_batch(event(1), secret="rival-secret-0123456789")

    assert_error(response, 401, "INVALID_SIGNATURE")
    nothing_applied()


def test_a_body_over_256_kib_is_refused_unread(feed):
    padding = "x" * MAX_BODY_BYTES
    body = json.dumps({"messages": [event(1, name=padding[:200])], "pad": padding}).encode()

    response = post_raw(body)

    assert_error(response, 413, "INVALID_REQUEST")
    nothing_applied()


def test_a_body_of_exactly_256_kib_is_read(feed):
    body = json.dumps({"messages": [heartbeat(1)]}).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"

    response = post_raw(body)

    assert response.status_code == 200
    assert response.json() == {"applied": 1, "skipped": 0}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_chunked_batch_is_read_whole_as_served():
    a_feed()
    body = json.dumps({"messages": [event(1), heartbeat(2)]}).encode()

    status, answer = chunked_post(
        ENDPOINT, body, {"Content-Type": "application/json", **signed_headers(FEED, SECRET, body)}
    )

    assert (status, json.loads(answer)) == (200, {"applied": 2, "skipped": 0})
    assert Feed.objects.get(code=FEED).last_seq == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_chunked_batch_over_256_kib_is_refused_as_served():
    a_feed()
    body = json.dumps({"messages": [heartbeat(1)], "pad": "x" * MAX_BODY_BYTES}).encode()

    status, answer = chunked_post(
        ENDPOINT, body, {"Content-Type": "application/json", **signed_headers(FEED, SECRET, body)}
    )

    assert status == 413
    assert json.loads(answer)["error"]["code"] == "INVALID_REQUEST"
    assert Feed.objects.get(code=FEED).last_seq == 0


# --- malformed batches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"messages": {}}', b'{"messages": [], "extra": 1}', b'{"messages": [NaN]}'],
    ids=["not-json", "array", "not-a-list", "extra-key", "nan"],
)
def test_a_body_that_is_not_a_batch_is_refused(feed, body):
    assert_error(post_raw(body), 400, "INVALID_REQUEST")
    nothing_applied()


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (market(2, prices=(3.1, "3.20", "2.40")), "selections"),  # a price as a number
        (market(2, prices=("3.105", "3.20", "2.40")), "selections"),  # three places
        (market(2, prices=("1.00", "3.20", "2.40")), "selections"),  # not above 1
        (market(2, selections=[]), "selections"),
        ({**market(2), "seq": "2"}, "seq"),
        ({**market(2), "seq": 2.0}, "seq"),
        ({**market(2), "seq": True}, "seq"),
        ({**market(2), "seq": 0}, "seq"),
        ({**market(2), "colour": "red"}, "colour"),
        ({"seq": 2, "type": "goal"}, "type"),
        ({"seq": 2, "type": ["market"]}, "type"),
        (event(2, starts_at="2022-11-20T16:00:00"), "starts_at"),  # no UTC offset
        (event(2, in_play_delay_s=-1), "in_play_delay_s"),
        (event(2, name=""), "name"),
        (event(2, event_id="tab\there"), "event_id"),
        (suspend(2), "market_id"),  # neither scope
        (suspend(2, market_id="mk-1", event_id="ev-1"), "market_id"),  # both
        (result(2, winners=["mk-1-home"], void=["mk-1-home"]), "void"),
        (result(2, winners=["mk-1-home", "mk-1-home"]), "winners"),
    ],
)
def test_a_malformed_message_refuses_the_whole_batch(feed, bad, field):
    response = post_batch(event(1), bad, heartbeat(3))

    error = assert_error(response, 400, "INVALID_REQUEST")
    assert error["index"] == 1
    assert field in error["fields"]
    nothing_applied()


def test_a_duplicated_selection_is_malformed(feed):
    duplicated = market(2)
    duplicated["selections"].append(dict(duplicated["selections"][0]))

    assert_error(post_batch(event(1), duplicated), 400, "INVALID_REQUEST")
    nothing_applied()


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (market(2, event_id="ev-unknown"), "UNKNOWN_EVENT"),
        (suspend(2, market_id="mk-unknown"), "UNKNOWN_MARKET"),
        (suspend(2, event_id="ev-unknown"), "UNKNOWN_EVENT"),
        (live(2, event_id="ev-unknown"), "UNKNOWN_EVENT"),
        (result(2, market_id="mk-unknown"), "UNKNOWN_MARKET"),
    ],
)
def test_a_message_naming_what_the_feed_never_sent_refuses_the_batch(feed, bad, code):
    error = assert_error(post_batch(event(1), bad), 400, code)

    assert error["index"] == 1
    nothing_applied()


def test_a_result_naming_a_selection_outside_its_market_refuses_the_batch(feed):
    post_batch(event(1), market(2))

    error = assert_error(post_batch(heartbeat(3), result(4, winners=["mk-1-home", "mk-2-home"])), 400,
                         "UNKNOWN_SELECTION")  # fmt: skip

    assert error["index"] == 1
    assert Feed.objects.get().last_seq == 2
    assert state() == ("open", 1, 0)


def test_a_refused_batch_rolls_back_what_its_earlier_messages_did(feed):
    post_batch(event(1), market(2))

    response = post_batch(market(3, prices=("2.00", "3.50", "3.90")), suspend(4, market_id="mk-unknown"))

    assert_error(response, 400, "UNKNOWN_MARKET")
    assert prices() == {"mk-1-home": Decimal("3.10"), "mk-1-draw": Decimal("3.20"), "mk-1-away": Decimal("2.40")}
    assert state() == ("open", 1, 0)
    assert Feed.objects.get().last_seq == 2


def test_a_market_cannot_move_to_another_event(feed):
    post_batch(event(1), event(2, event_id="ev-2"), market(3))

    error = assert_error(post_batch(market(4, event_id="ev-2")), 400, "INVALID_REQUEST")

    assert error["fields"] == {"event_id": "is not the event of this market"}
    assert Market.objects.get().event.event_id == "ev-1"


# --- sequence numbers ----------------------------------------------------------------------------


def test_a_resent_batch_is_skipped_whole(feed):
    batch = (event(1), market(2), suspend(3, market_id="mk-1"))
    assert post_batch(*batch).json() == {"applied": 3, "skipped": 0}

    response = post_batch(*batch)

    assert response.json() == {"applied": 0, "skipped": 3}
    assert state() == ("suspended", 2, 2)


def test_messages_at_or_below_the_highest_applied_seq_are_skipped_within_a_batch(feed):
    post_batch(event(5))

    response = post_batch(market(4), market(6), market(6, prices=("9.00", "9.00", "9.00")), heartbeat(9), heartbeat(7))

    assert response.json() == {"applied": 2, "skipped": 3}
    assert Feed.objects.get().last_seq == 9
    assert prices()["mk-1-home"] == Decimal("3.10")


def test_feeds_number_their_messages_independently(feed):
    a_feed("rival", "rival-secret-0123456789")
    post_batch(event(10))

    response = post_batch(event(1, event_id="ev-r"), feed="rival", secret="rival-secret-0123456789")

    assert response.json() == {"applied": 1, "skipped": 0}
    assert dict(Feed.objects.values_list("code", "last_seq")) == {FEED: 10, "rival": 1}
    assert Event.objects.filter(event_id="ev-1").count() == 1


def test_a_heartbeat_and_even_a_resend_say_the_feed_is_alive(feed):
    post_batch(heartbeat(1))
    first = Feed.objects.get().last_message_at

    post_batch(heartbeat(1))

    assert Feed.objects.get().last_message_at > first


# --- events --------------------------------------------------------------------------------------


def test_an_event_is_created_then_updated(feed):
    post_batch(event(1))
    post_batch(event(2, name="Qatar v Ecuador (Al Bayt)", starts_at="2022-11-20T19:00:00+03:00", in_play_delay_s=8))

    found = Event.objects.get()
    assert (found.event_id, found.name, found.sport, found.in_play_delay_s, found.status) == (
        "ev-1", "Qatar v Ecuador (Al Bayt)", "football", 8, "upcoming")  # fmt: skip
    assert found.starts_at == dt.datetime(2022, 11, 20, 16, 0, tzinfo=dt.UTC)


def test_live_puts_the_event_in_play_and_counts_its_markets_as_heard(feed):
    post_batch(event(1), market(2))
    Market.objects.update(last_word_at=timezone.now() - dt.timedelta(hours=1))
    before = timezone.now()

    post_batch(live(3))

    assert Event.objects.get().status == "live"
    assert Market.objects.get().last_word_at >= before
    assert state() == ("open", 1, 0)  # the market itself did not change


# --- markets and versions ------------------------------------------------------------------------


def test_a_market_opens_at_version_1_with_its_prices_in_the_feeds_order(feed):
    post_batch(event(1), market(2))

    assert state() == ("open", 1, 0)
    assert list(Selection.objects.values_list("selection_id", "name", "price", "position")) == [
        ("mk-1-home", "Home", Decimal("3.10"), 0),
        ("mk-1-draw", "Draw", Decimal("3.20"), 1),
        ("mk-1-away", "Away", Decimal("2.40"), 2),
    ]


def test_each_message_that_changes_prices_raises_the_version_by_one(feed):
    post_batch(event(1), market(2))

    post_batch(market(3, prices=("2.90", "3.20", "2.60")), market(4, prices=("2.80", "3.30", "2.70")))

    assert state() == ("open", 3, 0)
    assert prices() == {"mk-1-home": Decimal("2.80"), "mk-1-draw": Decimal("3.30"), "mk-1-away": Decimal("2.70")}


def test_the_same_prices_again_change_no_version(feed):
    post_batch(event(1), market(2))

    response = post_batch(market(3), market(4, name="Full-time result"))

    assert response.json() == {"applied": 2, "skipped": 0}
    assert state() == ("open", 1, 0)
    assert Market.objects.get().name == "Full-time result"


def test_a_new_selection_is_a_change_and_an_omitted_one_keeps_its_price(feed):
    post_batch(event(1), market(2, prices=("3.10", "3.20")))  # home and draw

    away_only = market(3)
    away_only["selections"] = away_only["selections"][2:]

    post_batch(away_only)

    assert state() == ("open", 2, 0)
    assert prices() == {"mk-1-home": Decimal("3.10"), "mk-1-draw": Decimal("3.20"), "mk-1-away": Decimal("2.40")}
    assert list(Selection.objects.values_list("position", flat=True)) == [0, 1, 2]


def test_suspend_records_the_version_of_the_suspension(feed):
    post_batch(event(1), market(2), market(3, prices=("2.90", "3.20", "2.60")))

    post_batch(suspend(4, market_id="mk-1"))

    assert state() == ("suspended", 3, 3)


def test_a_suspended_market_takes_new_prices_and_stays_suspended_until_resume(feed):
    post_batch(event(1), market(2), suspend(3, market_id="mk-1"))

    post_batch(market(4, prices=("1.50", "4.00", "7.00")))

    assert state() == ("suspended", 3, 2)
    assert prices()["mk-1-home"] == Decimal("1.50")

    post_batch(resume(5, market_id="mk-1"))

    assert state() == ("open", 4, 2)


def test_suspending_a_suspended_market_or_resuming_an_open_one_changes_nothing(feed):
    post_batch(event(1), market(2), suspend(3, market_id="mk-1"))

    assert post_batch(suspend(4, market_id="mk-1")).json() == {"applied": 1, "skipped": 0}
    assert state() == ("suspended", 2, 2)

    post_batch(resume(5, market_id="mk-1"), resume(6, market_id="mk-1"))
    assert state() == ("open", 3, 2)


def test_an_event_scope_suspends_and_resumes_every_market_of_the_event(feed):
    post_batch(event(1), event(2, event_id="ev-2"), market(3), market(4, market_id="mk-2"),
               market(5, market_id="mk-3", event_id="ev-2"), suspend(6, market_id="mk-2"))  # fmt: skip

    post_batch(suspend(7, event_id="ev-1"))

    assert (state("mk-1"), state("mk-2"), state("mk-3")) == (
        ("suspended", 2, 2), ("suspended", 2, 2), ("open", 1, 0))  # fmt: skip

    post_batch(resume(8, event_id="ev-1"))

    assert (state("mk-1"), state("mk-2"), state("mk-3")) == (("open", 3, 2), ("open", 3, 2), ("open", 1, 0))


# --- results -------------------------------------------------------------------------------------


def test_a_result_records_winners_and_void_and_settles_the_market(feed):
    post_batch(event(1), market(2), live(3), suspend(4, event_id="ev-1"))

    post_batch(result(5, winners=["mk-1-home"], void=["mk-1-draw"]))

    found = Market.objects.get()
    assert (found.status, found.version, found.winners, found.void) == ("settled", 3, ["mk-1-home"], ["mk-1-draw"])
    assert found.settled_at is not None
    assert Event.objects.get().status == "ended"  # its only market is settled


def test_the_same_result_again_changes_nothing_and_another_resettles(feed):
    post_batch(event(1), market(2), result(3, winners=["mk-1-away", "mk-1-home"]))
    first = Market.objects.get()

    post_batch(result(4, winners=["mk-1-home", "mk-1-away"]))

    again = Market.objects.get()
    assert (again.version, again.winners, again.void, again.settled_at) == (
        2, ["mk-1-away", "mk-1-home"], [], first.settled_at)  # fmt: skip

    post_batch(result(5, winners=["mk-1-draw"]))

    resettled = Market.objects.get()
    assert (resettled.status, resettled.version, resettled.winners) == ("settled", 2, ["mk-1-draw"])
    assert resettled.settled_at > first.settled_at


def test_a_settled_market_keeps_its_prices_and_status(feed):
    post_batch(event(1), market(2), result(3))

    post_batch(market(4, prices=("5.00", "5.00", "5.00")), suspend(5, market_id="mk-1"), resume(6, market_id="mk-1"))

    assert state() == ("settled", 2, 0)
    assert prices()["mk-1-home"] == Decimal("3.10")


def test_the_event_ends_only_when_its_last_market_is_settled(feed):
    post_batch(event(1), market(2), market(3, market_id="mk-2"), live(4))

    post_batch(result(5))
    assert Event.objects.get().status == "live"

    post_batch(result(6, market_id="mk-2", winners=[], void=["mk-2-home", "mk-2-draw", "mk-2-away"]))
    assert Event.objects.get().status == "ended"


def test_a_market_opened_after_the_event_ended_puts_it_back_in_play(feed):
    post_batch(event(1), market(2), result(3))
    assert Event.objects.get().status == "ended"

    post_batch(market(4, market_id="mk-2"))

    assert Event.objects.get().status == "live"
    assert state("mk-2") == ("open", 1, 0)
