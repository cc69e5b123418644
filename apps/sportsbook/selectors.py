"""Reads of the sportsbook: feeds by code, the events players see, a market's margin, the markets'
states the odds socket sends."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from apps.sportsbook import odds
from apps.sportsbook.models import Event, Feed, Market, Selection


def get_feed(code: str) -> Feed | None:
    """The feed `code`, or None (an unknown feed is refused like a wrong signature)."""
    if not isinstance(code, str) or not code:
        return None
    return Feed.objects.filter(code=code).first()


def list_events(*, statuses: Iterable[str]) -> list[Event]:
    """The events in `statuses`, soonest first, each with its markets and their selections in
    the feed's order: three queries whatever the number of events."""
    markets = Prefetch(
        "markets",
        queryset=Market.objects.order_by("pk").prefetch_related(
            Prefetch("selections", queryset=Selection.objects.order_by("position", "pk"))
        ),
    )
    return list(Event.objects.filter(status__in=list(statuses)).order_by("starts_at", "pk").prefetch_related(markets))


def market_margin(market: Market) -> Decimal | None:
    """The overround of the market's prices (odds.book_margin), None for a market without any.
    Reads `market.selections` (prefetch it for a list)."""
    prices = [selection.price for selection in market.selections.all()]
    return odds.book_margin(prices) if prices else None


def market_states(markets: QuerySet[Market]) -> list[dict]:
    """Each of `markets` as the odds socket's `market.updated` frame has it, without `type`:
    `{market_id, event_id, version, status, prices: {selection_id: price}, delayed}`, prices as
    strings with two decimals, `delayed` while its feed is stale. In primary-key order; two
    queries whatever the number of markets."""
    found = (
        markets.select_related("event", "feed")
        .only("market_id", "version", "status", "event__event_id", "feed__stale_since")
        .prefetch_related(Prefetch("selections", queryset=Selection.objects.order_by("position", "pk")))
        .order_by("pk")
    )
    return [
        {
            "market_id": market.market_id,
            "event_id": market.event.event_id,
            "version": market.version,
            "status": market.status,
            "prices": {selection.selection_id: str(selection.price) for selection in market.selections.all()},
            "delayed": market.feed.stale_since is not None,
        }
        for market in found
    ]


def list_market_states(event_ids: Iterable[str]) -> list[dict]:
    """The state of every market of the events `event_ids` (the feeds' ids; unknown ones are
    left out), for an odds socket's subscription: market_states."""
    return market_states(Market.objects.filter(event__event_id__in=list(event_ids)))
