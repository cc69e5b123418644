"""`GET /api/player/v1/sportsbook/events` (contracts/sportsbook.md, "Players"): the events on sale
with their markets and prices, exactly in the contract's shape, for anyone (no login)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.sportsbook.tests.factories import a_feed, event, live, market, post_batch, result, suspend

pytestmark = pytest.mark.django_db

EVENTS = "/api/player/v1/sportsbook/events"


@pytest.fixture
def book():
    """An event in play with a suspended market and a settled one, an upcoming event with an open
    market, and an event that has ended."""
    a_feed()
    response = post_batch(
        event(1, event_id="ev-live", name="Qatar v Ecuador", starts_at="2022-11-20T16:00:00Z"),
        event(2, event_id="ev-next", name="England v Iran", starts_at="2022-11-21T13:00:00Z"),
        event(3, event_id="ev-done", name="Senegal v Netherlands", starts_at="2022-11-19T16:00:00Z"),
        market(4, market_id="mk-live", event_id="ev-live"),
        market(5, market_id="mk-live-ou", event_id="ev-live", prices=("1.90", "1.95")),
        market(6, market_id="mk-next", event_id="ev-next", prices=("1.40", "4.50", "8.00")),
        market(7, market_id="mk-done", event_id="ev-done"),
        live(8, event_id="ev-live"),
        suspend(9, market_id="mk-live"),
        result(10, market_id="mk-live-ou", winners=["mk-live-ou-home"]),
        result(11, market_id="mk-done", winners=["mk-done-away"]),
    )
    assert response.json() == {"applied": 11, "skipped": 0}


def selections(market_id: str, *prices: str) -> list[dict]:
    return [{"selection_id": f"{market_id}-{name}", "name": name.title(), "price": price}
            for name, price in zip(("home", "draw", "away"), prices, strict=False)]  # fmt: skip


LIVE_EVENT = {
    "event_id": "ev-live", "name": "Qatar v Ecuador", "sport": "football", "starts_at": "2022-11-20T16:00:00Z",
    "status": "live",
    "markets": [
        {"market_id": "mk-live", "name": "Match odds", "status": "suspended", "version": 2,
         "selections": selections("mk-live", "3.10", "3.20", "2.40")},
        {"market_id": "mk-live-ou", "name": "Match odds", "status": "settled", "version": 2,
         "selections": selections("mk-live-ou", "1.90", "1.95")},
    ],
}  # fmt: skip
UPCOMING_EVENT = {
    "event_id": "ev-next", "name": "England v Iran", "sport": "football", "starts_at": "2022-11-21T13:00:00Z",
    "status": "upcoming",
    "markets": [{"market_id": "mk-next", "name": "Match odds", "status": "open", "version": 1,
                 "selections": selections("mk-next", "1.40", "4.50", "8.00")}],
}  # fmt: skip


def test_both_live_and_upcoming_events_soonest_first_without_a_login(book):
    response = APIClient().get(EVENTS)

    assert response.status_code == 200
    assert response.json() == {"events": [LIVE_EVENT, UPCOMING_EVENT]}


@pytest.mark.parametrize(("status", "expected"), [("live", [LIVE_EVENT]), ("upcoming", [UPCOMING_EVENT])])
def test_the_status_filter(book, status, expected):
    response = APIClient().get(EVENTS, {"status": status})

    assert response.status_code == 200
    assert response.json() == {"events": expected}


@pytest.mark.parametrize("status", ["ended", "LIVE", ""])
def test_an_unknown_status_is_refused(book, status):
    response = APIClient().get(EVENTS, {"status": status})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


def test_prices_are_strings_with_two_decimals_never_numbers(book):
    events = APIClient().get(EVENTS).json()["events"]

    every_price = [selection["price"] for each in events for m in each["markets"] for selection in m["selections"]]
    assert every_price
    assert all(isinstance(price, str) and len(price.split(".")[1]) == 2 for price in every_price)


def test_the_list_costs_three_queries_whatever_its_size(book, django_assert_num_queries):
    post_batch(*[event(100 + n, event_id=f"ev-{n}") for n in range(5)],
               *[market(200 + n, market_id=f"mk-{n}", event_id=f"ev-{n}") for n in range(5)])  # fmt: skip

    with django_assert_num_queries(3):
        response = APIClient().get(EVENTS)

    assert len(response.json()["events"]) == 7
