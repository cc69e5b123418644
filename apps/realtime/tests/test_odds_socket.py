"""The odds socket, `/ws/odds/` (contracts/sportsbook.md, "Prices out"), against pam.asgi.application
on the real Redis channel layer: no login, a snapshot per market of the events subscribed to, then
each committed change after commit, in version order, never twice; the watchdog's suspension and
the feed's return as `delayed` frames; bad messages answered with an `invalid_request` notice."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from apps.common import events, outbox
from apps.common.models import OutboxEvent
from apps.realtime import odds
from apps.sportsbook import services
from apps.sportsbook.models import Feed
from apps.sportsbook.tests.factories import a_feed, event, heartbeat, live, market, post_batch, suspend
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PRICES = {"mk-1-home": "3.10", "mk-1-draw": "3.20", "mk-1-away": "2.40"}
MK_2 = {"mk-2-home": "1.50", "mk-2-draw": "4.00", "mk-2-away": "6.00"}
MK_3 = {"mk-3-home": "3.10", "mk-3-draw": "3.20", "mk-3-away": "2.40"}


def frame(market_id="mk-1", event_id="ev-1", version=1, status="open", prices=None, delayed=False) -> dict:
    return {"type": "market.updated", "market_id": market_id, "event_id": event_id, "version": version,
            "status": status, "prices": PRICES if prices is None else prices, "delayed": delayed}  # fmt: skip


@database_sync_to_async
def send(*messages: dict) -> dict:
    response = post_batch(*messages)
    assert response.status_code == 200, response.content
    return response.json()


@database_sync_to_async
def two_events() -> None:
    """ev-1 with mk-1 (home, draw, away) and mk-2; ev-2 with mk-3."""
    a_feed()
    response = post_batch(
        event(1), market(2), market(3, market_id="mk-2", prices=("1.50", "4.00", "6.00")),
        event(4, event_id="ev-2", name="England v Iran"), market(5, market_id="mk-3", event_id="ev-2"),
    )  # fmt: skip
    assert response.status_code == 200


async def subscribed(*event_ids: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/odds/")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "subscribe", "event_ids": list(event_ids)})
    return communicator


async def frames(communicator: WebsocketCommunicator, count: int) -> list[dict]:
    received = [await communicator.receive_json_from(timeout=5) for _ in range(count)]
    assert await communicator.receive_nothing(timeout=0.3)
    return received


async def test_a_subscription_gets_the_current_state_of_each_market_of_its_events_and_no_other():
    await two_events()
    communicator = await subscribed("ev-1", "ev-unknown")

    assert await frames(communicator, 2) == [
        frame(),
        frame("mk-2", prices=MK_2),
    ]
    await communicator.disconnect()


async def test_each_committed_change_arrives_after_the_snapshot_in_version_order():
    await two_events()
    communicator = await subscribed("ev-1")
    await frames(communicator, 2)  # the snapshot

    await send(market(10, prices=("2.90", "3.20", "2.60")))
    await send(suspend(11, event_id="ev-1"), market(12, market_id="mk-3", event_id="ev-2", prices=("9.00",)))
    # A batch of two changes of mk-1: one frame, its state after both (version 5).
    await send(market(13, prices=("2.80", "3.20", "2.70")), market(14, prices=("2.70", "3.30", "2.80")))

    repriced = {"mk-1-home": "2.90", "mk-1-draw": "3.20", "mk-1-away": "2.60"}
    assert await frames(communicator, 4) == [
        frame(version=2, prices=repriced),
        frame(version=3, status="suspended", prices=repriced),
        frame("mk-2", version=2, status="suspended",
              prices=MK_2),
        frame(version=5, status="suspended", prices={"mk-1-home": "2.70", "mk-1-draw": "3.30", "mk-1-away": "2.80"}),
    ]  # fmt: skip
    await communicator.disconnect()


async def test_a_change_delivered_again_is_not_resent_and_a_heartbeat_sends_nothing():
    await two_events()
    communicator = await subscribed("ev-1")
    await frames(communicator, 2)
    await send(market(10, prices=("2.90", "3.20", "2.60")))
    assert (await communicator.receive_json_from(timeout=5))["version"] == 2

    # The outbox sweeper re-dispatching the event (as after a crash), and a heartbeat. First both
    # batches' dispatch marks must have landed (a background thread writes them in batches): a
    # mark still in flight would undo the reset below.
    undispatched = OutboxEvent.objects.filter(dispatched_at__isnull=True).exists
    for _ in range(200):  # at most 10 s
        await database_sync_to_async(events.dispatched.flush)()
        if not await database_sync_to_async(undispatched)():
            break
        await asyncio.sleep(0.05)
    await database_sync_to_async(OutboxEvent.objects.update)(
        dispatched_at=None, created_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert await database_sync_to_async(outbox.sweep)(grace=dt.timedelta(seconds=10)) == 2  # both batches
    await send(heartbeat(11))

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_a_socket_follows_only_the_events_it_subscribed_to_and_more_later():
    await two_events()
    communicator = await subscribed("ev-2")
    assert [f["market_id"] for f in await frames(communicator, 1)] == ["mk-3"]

    await send(market(10, prices=("2.90", "3.20", "2.60")))  # ev-1: not followed
    assert await communicator.receive_nothing(timeout=0.5)

    await communicator.send_json_to({"type": "subscribe", "event_ids": ["ev-1", "ev-2"]})
    # ev-1's snapshot (mk-1 already at version 2); ev-2's is not sent again.
    received = await frames(communicator, 2)
    assert [(f["market_id"], f["version"]) for f in received] == [("mk-1", 2), ("mk-2", 1)]
    await communicator.disconnect()


async def test_the_watchdog_suspends_in_play_markets_and_marks_every_price_delayed_until_the_feed_is_back(settings):
    settings.SPORTSBOOK_STALE_AFTER_SECONDS = 10
    await two_events()
    await send(live(10))  # ev-1 in play; ev-2 not yet
    communicator = await subscribed("ev-1", "ev-2")
    await frames(communicator, 3)
    heard_at = await database_sync_to_async(lambda: Feed.objects.get().last_message_at)()

    stale = await database_sync_to_async(services.suspend_stale_feeds)(now=heard_at + dt.timedelta(seconds=10))

    assert stale == 1
    assert await frames(communicator, 3) == [
        frame(version=2, status="suspended", delayed=True),
        frame("mk-2", version=2, status="suspended", delayed=True,
              prices=MK_2),
        frame("mk-3", event_id="ev-2", version=1, delayed=True, prices=MK_3),
    ]  # fmt: skip

    # The feed is back with a heartbeat: nothing is re-opened, but no price is cached any more.
    await send(heartbeat(11))
    back = await frames(communicator, 3)
    assert [(f["market_id"], f["version"], f["status"], f["delayed"]) for f in back] == [
        ("mk-1", 2, "suspended", False), ("mk-2", 2, "suspended", False), ("mk-3", 1, "open", False),
    ]  # fmt: skip
    # Its next prices for mk-1 lift PAM's suspension (the feed never knew of it): version 3.
    await send(market(12, prices=("2.90", "3.20", "2.60")))
    assert await frames(communicator, 1) == [
        frame(version=3, prices={"mk-1-home": "2.90", "mk-1-draw": "3.20", "mk-1-away": "2.60"})
    ]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("not json", "not JSON"),
        ('{"type": "resume"}', "subscribe"),
        ('{"type": "subscribe", "event_ids": []}', "1 to 3 event ids"),
        ('{"type": "subscribe", "event_ids": "ev-1"}', "1 to 3 event ids"),
        ('{"type": "subscribe", "event_ids": [7]}', "printable"),
        ('{"type": "subscribe", "event_ids": ["ev-1", "a", "b", "c"]}', "1 to 3 event ids"),
        ('{"type": "subscribe", "event_ids": ["ev-1"], "since": 3}', "nothing else"),
        ("[" * 20_000, "at most 16384 characters"),
    ],
)
async def test_a_bad_message_is_answered_with_an_invalid_request_notice_and_changes_nothing(settings, message, says):
    settings.ODDS_SOCKET_MAX_EVENTS = 3
    await two_events()
    communicator = WebsocketCommunicator(application, "/ws/odds/")
    assert (await communicator.connect(timeout=5))[0]

    await communicator.send_to(text_data=message)

    notice = await communicator.receive_json_from(timeout=5)
    assert (notice["type"], notice["kind"]) == ("notice", "invalid_request")
    assert says in notice["message"]
    await send(market(10, prices=("2.90", "3.20", "2.60")))
    assert await communicator.receive_nothing(timeout=0.5)  # still following nothing
    await communicator.disconnect()


async def test_a_socket_follows_at_most_the_limit_of_events_in_all(settings):
    settings.ODDS_SOCKET_MAX_EVENTS = 2
    await two_events()
    communicator = await subscribed("ev-1", "ev-2")
    await frames(communicator, 3)

    await communicator.send_json_to({"type": "subscribe", "event_ids": ["ev-3"]})

    notice = await communicator.receive_json_from(timeout=5)
    assert (notice["kind"], notice["data"]) == ("invalid_request", {"max_events": 2})
    await communicator.disconnect()


def test_a_large_batch_travels_in_messages_of_a_bounded_size():
    markets = [{"market_id": f"mk-{n}", "event_id": "ev-1"} for n in range(odds.MARKETS_PER_MESSAGE + 1)]

    messages = odds.push_messages(markets)

    assert [len(message["markets"]) for _, message in messages] == [odds.MARKETS_PER_MESSAGE, 1]
    assert [m for _, message in messages for m in message["markets"]] == markets
