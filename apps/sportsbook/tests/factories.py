"""Feeds and their signed batches for the sportsbook's tests, sent through the HTTP endpoint the
feeds use."""

from __future__ import annotations

import json

from django.test import Client

from apps.sportsbook import services
from apps.sportsbook.models import Feed
from apps.sportsbook.signature import signed_headers

FEED = "oddsco"
SECRET = "feed-secret-0123456789abcdef"
ENDPOINT = "/api/feed/v1/messages"
KICK_OFF = "2022-11-20T16:00:00Z"


def a_feed(code: str = FEED, secret: str = SECRET) -> Feed:
    return services.save_feed(code=code, secret=secret)


def post_raw(body: bytes, *, feed: str = FEED, secret: str = SECRET, headers: dict | None = None):
    """POST `body` to the feed endpoint, signed with `secret` unless `headers` says otherwise."""
    sent = {**signed_headers(feed, secret, body), **(headers or {})}
    return Client().post(ENDPOINT, body, content_type="application/json", headers=sent)


def post_batch(*messages: dict, feed: str = FEED, secret: str = SECRET):
    return post_raw(json.dumps({"messages": list(messages)}).encode(), feed=feed, secret=secret)


def event(seq: int, event_id: str = "ev-1", **fields) -> dict:
    return {"seq": seq, "type": "event", "event_id": event_id, "name": "Qatar v Ecuador", "sport": "football",
            "starts_at": KICK_OFF, "in_play_delay_s": 5, **fields}  # fmt: skip


def market(seq: int, market_id: str = "mk-1", event_id: str = "ev-1", prices=("3.10", "3.20", "2.40"), **fields):
    """A match-odds market: home, draw, away at `prices`."""
    names = ("home", "draw", "away")
    selections = [{"selection_id": f"{market_id}-{name}", "name": name.title(), "price": price}
                  for name, price in zip(names, prices, strict=False)]  # fmt: skip
    return {"seq": seq, "type": "market", "event_id": event_id, "market_id": market_id, "name": "Match odds",
            "selections": selections, **fields}  # fmt: skip


def suspend(seq: int, **scope) -> dict:
    return {"seq": seq, "type": "suspend", **scope}


def resume(seq: int, **scope) -> dict:
    return {"seq": seq, "type": "resume", **scope}


def live(seq: int, event_id: str = "ev-1") -> dict:
    return {"seq": seq, "type": "live", "event_id": event_id}


def result(seq: int, market_id: str = "mk-1", winners=("mk-1-home",), void=()) -> dict:
    return {"seq": seq, "type": "result", "market_id": market_id, "winners": list(winners), "void": list(void)}


def heartbeat(seq: int) -> dict:
    return {"seq": seq, "type": "heartbeat"}


# --- bets ------------------------------------------------------------------------------------------

BETS = "/api/player/v1/sportsbook/bets"


def a_match(
    *, delay: int = 5, prices=("3.10", "3.20", "2.40"), markets=("mk-1",), event_id: str = "ev-1", first_seq: int = 1
):
    """A feed with one upcoming event and its match-odds markets, through the endpoint; returns the
    next free `seq`."""
    a_feed()
    seq = first_seq
    messages = [event(seq, event_id, in_play_delay_s=delay)]
    for market_id in markets:
        seq += 1
        messages.append(market(seq, market_id, event_id, prices=prices))
    response = post_batch(*messages)
    assert response.status_code == 200, response.content
    return seq + 1


def send(*messages: dict) -> None:
    response = post_batch(*messages)
    assert response.status_code == 200, response.content


def slip(*legs: tuple[str, str, int], stake: int = 1_000, currency: str = "EUR", accept: str = "none") -> dict:
    """A bet slip: legs as (selection_id, price, market_version)."""
    return {
        "stake": stake, "currency": currency, "accept_price_changes": accept,
        "legs": [{"selection_id": s, "price": p, "market_version": v} for s, p, v in legs],
    }  # fmt: skip
