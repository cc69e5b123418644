"""Reads of the sportsbook: feeds by code, the events players see, a market's margin, the players'
bets, and the exposure recomputed from the bets."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Prefetch

from apps.accounts.models import Player
from apps.sportsbook import intake, odds
from apps.sportsbook.choices import BetStatus
from apps.sportsbook.errors import BetNotFound
from apps.sportsbook.models import Bet, BetLeg, Event, Exposure, Feed, Market, Selection

PAGE_SIZE = 50


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


def _with_legs(bets):
    legs = BetLeg.objects.select_related("selection", "market", "event").order_by("position")
    return bets.prefetch_related(Prefetch("legs", queryset=legs))


def get_player_bet(player: Player, bet_id: str) -> Bet:
    """The player's bet `bet_id` (its public id) with its legs; BetNotFound for another's or none."""
    bet = _with_legs(Bet.objects.filter(player=player, public_id=bet_id)).first()
    if bet is None:
        raise BetNotFound
    return bet


def list_player_bets(player: Player, cursor: int | None = None) -> tuple[list[Bet], int | None]:
    """A page of the player's bets, newest first, with their legs, and the cursor of the next page
    (None on the last): the id the next page starts below. Three queries."""
    bets = Bet.objects.filter(player=player)
    if cursor is not None:
        bets = bets.filter(pk__lt=cursor)
    rows = list(_with_legs(bets.order_by("-pk"))[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].pk if more else None)


def recompute_exposure() -> dict[tuple[str, int, str], int]:
    """Every exposure amount as the standing (accepted and pending) bets make it, from the bets
    and their legs alone: {(scope, target id, currency): amount}, zeros left out. What the stored
    rows must equal (intake.py's rule)."""
    totals: dict[tuple[str, int, str], int] = {}
    standing = Bet.objects.filter(status__in=[BetStatus.ACCEPTED, BetStatus.PENDING])
    legs: dict[int, list[BetLeg]] = {}
    for leg in BetLeg.objects.filter(bet__in=standing).select_related("selection__market"):
        legs.setdefault(leg.bet_id, []).append(leg)
    for bet in standing.only("pk", "currency_id", "stake", "potential_payout"):
        liability = bet.potential_payout - bet.stake
        for scope, target in intake.exposure_keys([leg.selection for leg in legs.get(bet.pk, [])]):
            key = (scope, target, bet.currency_id)
            totals[key] = totals.get(key, 0) + liability
    return {key: amount for key, amount in totals.items() if amount}


def stored_exposure() -> dict[tuple[str, int, str], int]:
    """The stored exposure rows, as `recompute_exposure` returns them (zeros left out)."""
    return {
        (scope, target, currency): amount
        for scope, target, currency, amount in Exposure.objects.exclude(amount=0).values_list(
            "scope", "target_id", "currency_id", "amount"
        )
    }
