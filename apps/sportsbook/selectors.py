"""Reads of the sportsbook: feeds by code, the events players see, a market's margin."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch

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
