"""The sandbox's feed file (apps/sportsbook/sandbox, docs/sportsbook-sandbox.md) is a feed PAM takes
as it is: the 2022 final, signed and posted through the feed endpoint in the file's order. Every
message is applied, a goal's suspension leaves none of the event's markets open, the results
settle every market and end the event, and the whole file resent is skipped."""

from __future__ import annotations

import json

import pytest

from apps.sportsbook.models import Event, Feed, Market
from apps.sportsbook.sandbox.feedfile import build_plan, generate
from apps.sportsbook.signature import MAX_BODY_BYTES
from apps.sportsbook.tests.factories import a_feed, post_raw

pytestmark = pytest.mark.django_db

FINAL = 64
EVENT = "wc22-64"


def batches() -> list[list[dict]]:
    """The final's lines, each a batch as a replay sends it, but for lines of heartbeats alone,
    which go with the next line (900 of the 2,000 requests otherwise, and nothing but the feed's
    clock to check)."""
    sent, waiting = [], []
    for line in generate(build_plan(numbers=[FINAL])):
        waiting.extend(line["body"]["messages"])
        if any(message["type"] != "heartbeat" for message in line["body"]["messages"]):
            sent.append(waiting)
            waiting = []
    return [*sent, waiting] if waiting else sent


def post(messages: list[dict]):
    body = json.dumps({"messages": messages}).encode()
    assert len(body) <= MAX_BODY_BYTES
    return post_raw(body)


def ends_suspended(messages: list[dict]) -> bool:
    """Whether the batch's last word on the event is a suspension of all of it (a goal, an end of play)."""
    about_event = [m for m in messages if m["type"] in ("suspend", "resume", "market") and m.get("event_id") == EVENT]
    return bool(about_event) and about_event[-1]["type"] == "suspend" and "market_id" not in about_event[-1]


def test_the_world_cup_final_replays_through_the_feed_endpoint():
    a_feed()
    sent = batches()
    suspensions = 0

    for messages in sent:
        response = post(messages)
        assert response.status_code == 200, (messages, response.content)
        assert response.json() == {"applied": len(messages), "skipped": 0}
        if ends_suspended(messages):
            suspensions += 1
            assert not Market.objects.filter(event__event_id=EVENT, status="open").exists(), messages

    # Argentina v France, 3-3: six goals, the end of the 90 minutes and the end of extra time.
    assert suspensions == 8
    total = sum(len(messages) for messages in sent)
    assert Feed.objects.get().last_seq == total
    final = Event.objects.get(event_id=EVENT)
    assert (final.name, final.status) == ("Argentina v France", "ended")
    assert dict(Market.objects.values_list("market_id", "winners")) == {
        "wc22-64-1x2": ["wc22-64-1x2-draw"],  # 2-2 after 90 minutes
        "wc22-64-ou25": ["wc22-64-ou25-over"],
        "wc22-64-qualify": ["wc22-64-qualify-home"],  # Argentina, on penalties
    }
    assert set(Market.objects.values_list("status", flat=True)) == {"settled"}

    # The whole file again, as one batch per 1,000 messages: every message skipped, nothing changed.
    versions = dict(Market.objects.values_list("market_id", "version"))
    every = [message for messages in sent for message in messages]
    answers = [post(every[start : start + 1000]).json() for start in range(0, len(every), 1000)]

    assert sum(answer["skipped"] for answer in answers) == total
    assert sum(answer["applied"] for answer in answers) == 0
    assert dict(Market.objects.values_list("market_id", "version")) == versions
