"""Reads of the sportsbook: feeds by code, the events players see, a market's margin, the markets'
states the odds socket sends, the circuit breakers' state, the players' bets, and the exposure
recomputed from the bets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from apps.accounts.models import Player
from apps.accounts.selectors import TokenPlayer
from apps.sportsbook import intake, odds
from apps.sportsbook.choices import BetStatus, BreakerName, EventStatus, MarketStatus
from apps.sportsbook.errors import BetNotFound
from apps.sportsbook.models import (
    Bet,
    BetLeg,
    BetSettlement,
    Breaker,
    Event,
    Exposure,
    Feed,
    Market,
    Selection,
    SettledMarket,
)

PAGE_SIZE = 50


def get_feed(code: str) -> Feed | None:
    """The feed `code`, or None (an unknown feed is refused like a wrong signature)."""
    if not isinstance(code, str) or not code:
        return None
    return Feed.objects.filter(code=code).first()


def feed_codes() -> list[str]:
    return sorted(Feed.objects.values_list("code", flat=True))


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
    strings with two decimals, `delayed` while its feed is stale, while the `cached_prices`
    breaker is on, and in play while `pre_match_only` is. In primary-key order; two queries
    whatever the number of markets."""
    # The breakers ride along as two EXISTS in the same query: a publication costs no more.
    found = (
        markets.select_related("event", "feed")
        .only("market_id", "version", "status", "event__event_id", "event__status", "feed__stale_since")
        .annotate(
            cached_prices=Exists(Breaker.objects.filter(name=BreakerName.CACHED_PRICES, is_on=True)),
            pre_match_only=Exists(Breaker.objects.filter(name=BreakerName.PRE_MATCH_ONLY, is_on=True)),
        )
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
            "delayed": market.feed.stale_since is not None
            or market.cached_prices
            or (market.pre_match_only and market.event.status == EventStatus.LIVE),
        }
        for market in found
    ]


def list_market_states(event_ids: Iterable[str]) -> list[dict]:
    """The state of every market of the events `event_ids` (the feeds' ids; unknown ones are
    left out), for an odds socket's subscription: market_states."""
    return market_states(Market.objects.filter(event__event_id__in=list(event_ids)))


# --- circuit breakers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakerState:
    """Which circuit breakers are on (docs/sportsbook.md, "Circuit breakers")."""

    on: frozenset[str]

    def is_on(self, name: str) -> bool:
        return name in self.on

    @property
    def in_play_closed(self) -> bool:
        """In-play markets take no bets: `pre_match_only`, or `suspend_in_play` (whose markets are
        suspended anyway; this covers the moment between a trip and a market's suspension)."""
        return bool(self.on & {BreakerName.PRE_MATCH_ONLY, BreakerName.SUSPEND_IN_PLAY})

    @property
    def prices_delayed(self) -> bool:
        """Every price is served as cached (`cached_prices`): bet intake refuses in-play legs then
        (`intake.in_play_refused`) and takes pre-match ones."""
        return BreakerName.CACHED_PRICES in self.on


def get_breaker_state() -> BreakerState:
    """The breakers that are on: one query on a three-row table (a breaker without a row is off)."""
    return BreakerState(on=frozenset(Breaker.objects.filter(is_on=True).values_list("name", flat=True)))


def _with_legs(bets):
    legs = BetLeg.objects.select_related("selection", "market", "event").order_by("position")
    return bets.prefetch_related(Prefetch("legs", queryset=legs))


def get_player_bet(player: Player | TokenPlayer, bet_id: str) -> Bet:
    """The player's bet `bet_id` (its public id) with its legs; BetNotFound for another's or none."""
    bet = _with_legs(Bet.objects.filter(player_id=player.pk, public_id=bet_id)).first()
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
    rows must equal (intake.py's rule): a rejected bet, and a settled one (won, lost or void),
    no longer counts."""
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


# --- settlement ----------------------------------------------------------------------------------


def list_markets_to_settle(*, limit: int) -> list[int]:
    """The resulted markets whose bets are not recorded as all settled at their current result
    (no `SettledMarket` at its `settled_at`), oldest result first: the settlement sweep's work."""
    done = SettledMarket.objects.filter(market=OuterRef("pk"), outcome_at=OuterRef("settled_at"))
    markets = Market.objects.filter(status=MarketStatus.SETTLED).exclude(Exists(done)).order_by("settled_at", "pk")
    return list(markets.values_list("pk", flat=True)[:limit])


def settlement_lags(market_pk: int | None = None) -> list[float]:
    """The settlement lag of each settlement (of the bets on the market `market_pk`, or all), in
    seconds: when it was written minus the result it was based on. For the benchmark."""
    rows = BetSettlement.objects.all()
    if market_pk is not None:
        rows = rows.filter(bet__legs__market_id=market_pk)
    return [(settled - resulted).total_seconds() for settled, resulted in
            rows.values_list("settled_at", "market_settled_at")]  # fmt: skip
