"""Writes of the sportsbook: feeds, and the feed's batches applied to events, markets and prices."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.sportsbook import feed as messages
from apps.sportsbook import locks
from apps.sportsbook.choices import EventStatus, MarketStatus
from apps.sportsbook.errors import InvalidMessage, UnknownEvent, UnknownMarket, UnknownSelection
from apps.sportsbook.models import Event, Feed, Market, Selection

_FEED_CODE = re.compile(r"[-a-zA-Z0-9_]{1,64}")


@dataclass(frozen=True)
class BatchResult:
    """The answer to a batch: how many of its messages were applied, and how many skipped as
    resends (their `seq` at or below the feed's highest applied one)."""

    applied: int
    skipped: int


def save_feed(*, code: str, secret: str) -> Feed:
    """Create the feed `code`, or give an existing one a new secret. ValueError for a code that is
    not a slug of 1 to 64 characters, or an empty secret."""
    if not _FEED_CODE.fullmatch(code):
        raise ValueError("A feed's code is 1 to 64 letters, digits, hyphens or underscores.")
    if not secret:
        raise ValueError("A feed's secret must not be empty.")
    updated = Feed.objects.filter(code=code).update(secret=secret)
    if updated:
        return Feed.objects.get(code=code)
    return Feed.objects.create(code=code, secret=secret)


@transaction.atomic(durable=True)
def apply_feed_batch(*, feed_id: int, batch: Sequence[messages.Message]) -> BatchResult:
    """Apply a feed's parsed batch, in order, in one transaction under the feed's lock.

    A message whose `seq` is at or below the highest applied one is skipped (a resend, or one
    repeated within the batch). Each applied change of a market's prices or status raises its
    `version` by one; a suspended market takes new prices and stays suspended until `resume`.
    A message that names an event, market or selection the feed has not sent raises UnknownEvent,
    UnknownMarket or UnknownSelection (`error.index`: its place in the batch), and nothing of the
    batch is applied.
    """
    feed = locks.lock_feed(feed_id)
    now = timezone.now()
    applied = skipped = 0
    for index, message in enumerate(batch):
        if message.seq <= feed.last_seq:
            skipped += 1
            continue
        try:
            _APPLY[type(message)](feed, message, now)
        except (InvalidMessage, UnknownEvent, UnknownMarket, UnknownSelection) as refusal:
            refusal.details = {"index": index, **refusal.details}
            raise
        feed.last_seq = message.seq
        applied += 1
    feed.last_message_at = now
    feed.save(update_fields=["last_seq", "last_message_at"])
    return BatchResult(applied=applied, skipped=skipped)


def _event(feed: Feed, event_id: str) -> Event:
    event = Event.objects.filter(feed=feed, event_id=event_id).first()
    if event is None:
        raise UnknownEvent(f"The feed has sent no event {event_id!r}.")
    return event


def _market(feed: Feed, market_id: str) -> Market:
    market = Market.objects.filter(feed=feed, market_id=market_id).first()
    if market is None:
        raise UnknownMarket(f"The feed has sent no market {market_id!r}.")
    return market


def _apply_event(feed: Feed, message: messages.EventMessage, now: dt.datetime) -> None:
    """Create the event, or update what the feed says of it; its status is the feed's `live`
    and the results' to change, never this message's."""
    values = {"name": message.name, "sport": message.sport, "starts_at": message.starts_at,
              "in_play_delay_s": message.in_play_delay_s}  # fmt: skip
    event = Event.objects.filter(feed=feed, event_id=message.event_id).first()
    if event is None:
        Event.objects.create(feed=feed, event_id=message.event_id, **values)
        return
    for name, value in values.items():
        setattr(event, name, value)
    event.save(update_fields=[*values, "updated_at"])


def _apply_market(feed: Feed, message: messages.MarketMessage, now: dt.datetime) -> None:
    """Open the market with its prices (version 1), or replace the prices of the selections the
    message lists and add the new ones; a selection it leaves out keeps its price. A settled
    market's prices no longer change. A market opened on an ended event puts it back in play."""
    market = Market.objects.select_related("event").filter(feed=feed, market_id=message.market_id).first()
    if market is None:
        event = _event(feed, message.event_id)
        market = Market.objects.create(
            feed=feed, event=event, market_id=message.market_id, name=message.name, last_word_at=now
        )
        Selection.objects.bulk_create(
            Selection(market=market, selection_id=priced.selection_id, name=priced.name, price=priced.price,
                      position=position)
            for position, priced in enumerate(message.selections)
        )  # fmt: skip
        if event.status == EventStatus.ENDED:
            # Its markets were all settled, so it has been played; a new one is on sale again.
            event.status = EventStatus.LIVE
            event.save(update_fields=["status", "updated_at"])
        return
    if market.event.event_id != message.event_id:
        raise InvalidMessage(
            f"The market {message.market_id!r} belongs to another event.",
            details={"fields": {"event_id": "is not the event of this market"}},
        )
    market.name, market.last_word_at = message.name, now
    if market.status != MarketStatus.SETTLED and _reprice(market, message.selections):
        market.version += 1
    market.save(update_fields=["name", "last_word_at", "version"])


def _reprice(market: Market, prices: Sequence[messages.SelectionPrice]) -> bool:
    """Write the market's new prices and names; whether any price changed or was added."""
    existing = {selection.selection_id: selection for selection in market.selections.all()}
    position = max((selection.position for selection in existing.values()), default=-1)
    added, renamed_or_repriced, repriced = [], [], False
    for priced in prices:
        selection = existing.get(priced.selection_id)
        if selection is None:
            position += 1
            added.append(Selection(market=market, selection_id=priced.selection_id, name=priced.name,
                                   price=priced.price, position=position))  # fmt: skip
        elif (selection.price, selection.name) != (priced.price, priced.name):
            repriced = repriced or selection.price != priced.price
            selection.price, selection.name = priced.price, priced.name
            renamed_or_repriced.append(selection)
    Selection.objects.bulk_create(added)
    Selection.objects.bulk_update(renamed_or_repriced, ["price", "name"])
    return repriced or bool(added)


def _apply_suspend(feed: Feed, message: messages.SuspendMessage, now: dt.datetime) -> None:
    """Suspend (or resume) the market, or every market of the event. A suspension records the
    version it gives the market; a market already in that state, or settled, only hears from
    the feed."""
    if message.market_id is not None:
        markets = [_market(feed, message.market_id)]
    else:
        markets = list(_event(feed, message.event_id).markets.order_by("pk"))
    before, after = (MarketStatus.SUSPENDED, MarketStatus.OPEN) if message.resume else (
        MarketStatus.OPEN, MarketStatus.SUSPENDED)  # fmt: skip
    for market in markets:
        market.last_word_at = now
        if market.status == before:
            market.status = after
            market.version += 1
            if after == MarketStatus.SUSPENDED:
                market.suspended_version = market.version
    Market.objects.bulk_update(markets, ["status", "version", "suspended_version", "last_word_at"])


def _apply_live(feed: Feed, message: messages.LiveMessage, now: dt.datetime) -> None:
    """The event is in play. Its markets count as heard from now: the staleness limit runs from
    kick-off, not from the last pre-match price."""
    event = _event(feed, message.event_id)
    if event.status == EventStatus.UPCOMING:
        event.status = EventStatus.LIVE
        event.save(update_fields=["status", "updated_at"])
    event.markets.update(last_word_at=now)


def _apply_result(feed: Feed, message: messages.ResultMessage, now: dt.datetime) -> None:
    """Record the market's winners and voided selections and mark it settled (a status change:
    version + 1). A later result with another outcome replaces it; one with the same outcome
    changes nothing. When the event's last market is settled, the event has ended. Paying the
    bets is bet intake's settlement, which is not built yet."""
    market = _market(feed, message.market_id)
    known = set(market.selections.values_list("selection_id", flat=True))
    unknown = sorted((set(message.winners) | set(message.void)) - known)
    if unknown:
        raise UnknownSelection(f"The market {message.market_id!r} has no selection {unknown[0]!r}.")
    winners, void = sorted(message.winners), sorted(message.void)
    market.last_word_at = now
    if market.status == MarketStatus.SETTLED and (market.winners, market.void) == (winners, void):
        market.save(update_fields=["last_word_at"])
        return
    if market.status != MarketStatus.SETTLED:
        market.status = MarketStatus.SETTLED
        market.version += 1
    market.winners, market.void, market.settled_at = winners, void, now
    market.save(update_fields=["status", "version", "winners", "void", "settled_at", "last_word_at"])
    event = market.event
    if event.status != EventStatus.ENDED and not event.markets.exclude(status=MarketStatus.SETTLED).exists():
        event.status = EventStatus.ENDED
        event.save(update_fields=["status", "updated_at"])


def _apply_heartbeat(feed: Feed, message: messages.HeartbeatMessage, now: dt.datetime) -> None:
    """Nothing beyond the feed's `last_message_at`, which every batch moves."""


_APPLY: dict[type, Callable[[Feed, object, dt.datetime], None]] = {
    messages.EventMessage: _apply_event,
    messages.MarketMessage: _apply_market,
    messages.SuspendMessage: _apply_suspend,
    messages.LiveMessage: _apply_live,
    messages.ResultMessage: _apply_result,
    messages.HeartbeatMessage: _apply_heartbeat,
}
