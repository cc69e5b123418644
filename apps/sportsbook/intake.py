"""Bet intake inside the wallet's money transaction (`apps.wallet.extensions`, position `SPORTSBOOK`).

The sportsbook's service (`services.place_bet`) hands the wallet's `place_bet` a `Slip` as the
stake's `detail`; `on_stake`, called after the player's accounts are locked and compliance's and
bonuses' checks, returns at once for any stake of another origin (every casino bet: one string
comparison, no query). For a slip it

1. reads the legs' selections with their markets and events (one query) and checks each leg:
   `MARKET_SETTLED`; `MARKET_SUSPENDED` when the market is suspended now, or was suspended after
   the version the player saw (`suspended_version > market_version`: a price seen before a goal
   never stands, even after `resume`); `PRICE_CHANGED` when the price moved in a way
   `accept_price_changes` does not allow (`none`: no change; `higher`: a better price only;
   `any`: any), the price taken being the market's current one; and `MARKET_SUSPENDED` for a
   leg in play (its event `live`) while the circuit breakers close in-play betting
   (`in_play_refused`: `pre_match_only`, `suspend_in_play` or `cached_prices`), a pre-match leg
   being taken as usual;
2. prices the slip: potential payout = stake x the product of the prices taken, rounded down to
   the minor unit, with exact rational arithmetic;
3. checks the limits (`limits_of`): the maximum payout, the per-bet liability times the player's
   stake factor, then the exposure caps of every selection, market and event of the slip and of
   the platform, under the exposure rows' locks (`locks.lock_exposure`, primary-key order). A
   breach refuses with `STAKE_TOO_HIGH` and `error.max_stake`, the largest stake every limit
   would take now (0: none). Otherwise the rows grow by the bet's liability in one statement;
4. returns the write of the bet and its legs, which the wallet calls with the stake's
   transaction before commit.

A refusal raised here rolls back the whole money transaction: no stake, no exposure, no bet.

Exposure (docs/sportsbook.md, "Exposure"): a bet's liability is its potential payout minus its
stake, what the book loses if it wins. It counts in full on each of its selections and markets,
once on each event it touches, and once on the platform; for a single that makes a selection's
exposure the sum of (payout - stake) of its standing bets, and a market's or event's the sum over
their selections (a bound above what any one outcome costs, kept additive so that it can be
recomputed from the bets exactly). An accumulator can be lost to the book only if every leg wins,
so its whole liability hangs on each leg: it counts on every leg's selection and market and on
each distinct event.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.common.errors import PamError
from apps.common.money import ISO_4217
from apps.sportsbook import errors, locks
from apps.sportsbook.choices import BetStatus, EventStatus, ExposureScope, MarketStatus, PriceChanges
from apps.sportsbook.models import Bet, BetLeg, Selection

if TYPE_CHECKING:
    from apps.sportsbook.selectors import BreakerState

# The wallet origin of sportsbook stakes (and their releases).
ORIGIN = "sportsbook"
MAX_LEGS = 20


@dataclass(frozen=True)
class LegRequest:
    selection_id: str
    price: Decimal
    market_version: int


@dataclass
class Slip:
    """What the player asked for, and what the participant found (`bet` once written)."""

    public_id: str
    player_id: int
    currency: str
    stake: int
    legs: list[LegRequest]
    accept_price_changes: str
    idempotency_key: str
    request_fingerprint: str
    stake_factor: Decimal
    # Whether the stake is held for an in-play delay (the service decided it before the wallet
    # call; `HoldChanged` when an event went in play, or its delay changed, meanwhile).
    held: bool
    # The circuit breakers' answer, read by the service before the money transaction (one query
    # that holds no lock): whether in-play legs are refused (`in_play_refused`).
    in_play_closed: bool = False
    bet: Bet | None = field(default=None)


class HoldChanged(Exception):
    """An event of the slip went in play (or the reverse) between the service's look and the
    locked check: the service places the slip again with the other hold."""


@dataclass(frozen=True)
class PricedLeg:
    selection: Selection
    seen: LegRequest
    price: Decimal


def read_legs(legs: list[LegRequest]) -> list[Selection]:
    """The legs' selections with their markets and events, in the slip's order. UnknownBetSelection
    for a selection id no feed sent, or one that more than one market has (the slip names a
    selection by its id alone, so a feed's selection ids must be unique across its markets);
    InvalidSlip for two legs on one market."""
    ids = [leg.selection_id for leg in legs]
    found: dict[str, list[Selection]] = {}
    for selection in Selection.objects.select_related("market__event").filter(selection_id__in=ids):
        found.setdefault(selection.selection_id, []).append(selection)
    selections = []
    for selection_id in ids:
        candidates = found.get(selection_id, [])
        if len(candidates) != 1:
            raise errors.UnknownBetSelection(
                f"No single selection on sale has the id {selection_id!r}.", details={"selection_id": selection_id}
            )
        selections.append(candidates[0])
    if len({selection.market_id for selection in selections}) != len(selections):
        raise errors.InvalidSlip("An accumulator's legs are on different markets.")
    return selections


def in_play_delay(selections: list[Selection]) -> int:
    """The longest in-play delay of the slip's live events, in seconds: how long its stake is held
    before the bet is decided (0: none is live, or their delay is 0, and the bet is decided now)."""
    return max(
        (s.market.event.in_play_delay_s for s in selections if s.market.event.status == EventStatus.LIVE), default=0
    )


def in_play_refused(state: BreakerState) -> bool:
    """Whether the circuit breakers refuse in-play legs now (docs/sportsbook.md, "Circuit
    breakers"): `pre_match_only` and `suspend_in_play` close in-play betting (`in_play_closed`),
    and under `cached_prices` an in-play price is served as cached while the match moves by the
    second, so a bet taken at it would be taken at a price the book may no longer offer. A
    pre-match price moves slowly enough to stand: pre-match legs are taken under every breaker."""
    return state.in_play_closed or state.prices_delayed


def refusal_of(
    selection: Selection, seen: LegRequest, accept: str | None, *, in_play_closed: bool = False
) -> PamError | None:
    """Why the leg cannot be taken as the market is now (None: it can). `accept` None: the
    re-check after an in-play delay, where a price worse than the one taken refuses whatever the
    slip accepted (the bet stands at its price only if the market still offers it).
    `in_play_closed`: the breakers refuse in-play legs (`in_play_refused`), as suspended."""
    market = selection.market
    if market.status == MarketStatus.SETTLED:
        return errors.MarketSettled(details={"selection_id": seen.selection_id})
    if (
        market.status == MarketStatus.SUSPENDED
        or market.suspended_version > seen.market_version
        or (in_play_closed and market.event.status == EventStatus.LIVE)
    ):
        return errors.MarketSuspended(details={"selection_id": seen.selection_id})
    if seen.market_version > market.version:
        return errors.InvalidSlip(f"The market of {seen.selection_id!r} has no version {seen.market_version} yet.")
    current = selection.price
    moved = current != seen.price
    allowed = (
        not moved
        or accept == PriceChanges.ANY
        or (accept == PriceChanges.HIGHER and current > seen.price)
        or (accept is None and current > seen.price)
    )
    if not allowed:
        return errors.PriceChanged(details={"price": f"{current:.2f}", "selection_id": seen.selection_id})
    return None


def price_legs(
    selections: list[Selection], legs: list[LegRequest], accept: str, *, in_play_closed: bool = False
) -> list[PricedLeg]:
    """Check each leg (module docstring, 1) and take the market's current price; raises the first
    leg's refusal."""
    priced = []
    for selection, seen in zip(selections, legs, strict=True):
        refusal = refusal_of(selection, seen, accept, in_play_closed=in_play_closed)
        if refusal is not None:
            raise refusal
        priced.append(PricedLeg(selection=selection, seen=seen, price=selection.price))
    return priced


def potential_payout(stake: int, prices: list[Decimal]) -> int:
    """stake x the product of the prices, rounded down to the minor unit, exactly."""
    return math.floor(stake * math.prod((Fraction(price) for price in prices), start=Fraction(1)))


def _largest_stake_within(headroom: int, product: Fraction) -> int:
    """The largest stake s whose liability floor(s x product) - s is at most `headroom`."""
    if headroom < 0:
        return 0
    return max(math.ceil(Fraction(headroom + 1) / (product - 1)) - 1, 0)


def _largest_stake_paying(most: int, product: Fraction) -> int:
    """The largest stake s whose payout floor(s x product) is at most `most`."""
    return max(math.ceil(Fraction(most + 1) / product) - 1, 0)


def limits_of(currency: str) -> dict[str, int]:
    """The settings' limits (SPORTSBOOK_LIMITS, whole units) in minor units of `currency`."""
    unit = 10 ** ISO_4217[currency][1] if currency in ISO_4217 else 1
    return {name: whole * unit for name, whole in settings.SPORTSBOOK_LIMITS.items()}


def exposure_keys(selections: list[Selection]) -> list[locks.ExposureKey]:
    """The exposure rows a bet on `selections` counts on (module docstring)."""
    keys = [(ExposureScope.SELECTION.value, s.pk) for s in selections]
    keys += [(ExposureScope.MARKET.value, s.market_id) for s in selections]
    keys += [(ExposureScope.EVENT.value, event) for event in sorted({s.market.event_id for s in selections})]
    return [*keys, (ExposureScope.PLATFORM.value, 0)]


def take_exposure(slip: Slip, selections: list[Selection], payout: int, product: Fraction) -> None:
    """The limits' check and the exposure's update (module docstring, 3). Raises StakeTooHigh."""
    limits = limits_of(slip.currency)
    liability = payout - slip.stake
    ceilings = [
        _largest_stake_paying(limits["max_payout"], product),
        _largest_stake_within(math.floor(slip.stake_factor * limits["bet_liability"]), product),
    ]
    # Locked even when the bet's own limits refuse it: `max_stake` is what every limit would take.
    rows = locks.lock_exposure(slip.currency, exposure_keys(selections))
    for (scope, _), (_, amount, cap) in rows.items():
        ceilings.append(_largest_stake_within((limits[scope] if cap is None else cap) - amount, product))
    largest = min(ceilings)
    if slip.stake > largest:
        raise errors.StakeTooHigh(
            f"The largest stake this slip is taken with now is {largest}.", details={"max_stake": largest}
        )
    if liability:
        move_exposure([pk for pk, _, _ in rows.values()], liability)


def move_exposure(row_ids: list[int], delta: int) -> None:
    """Add `delta` to the locked exposure rows `row_ids` (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sportsbook_exposure SET amount = amount + %s WHERE id IN ("  # noqa: S608 - placeholders only
            f"{', '.join(['%s'] * len(row_ids))})",
            [delta, *row_ids],
        )


def on_stake(*, wallet, amount: int, origin: str = "", detail: object = None, **_: object):
    """The sportsbook's work at a stake (module docstring); nothing for a stake of another origin."""
    if origin != ORIGIN or not isinstance(detail, Slip):
        return None
    slip = detail
    selections = read_legs(slip.legs)
    delay = in_play_delay(selections)
    if (delay > 0) != slip.held:
        raise HoldChanged
    priced = price_legs(selections, slip.legs, slip.accept_price_changes, in_play_closed=slip.in_play_closed)
    prices = [leg.price for leg in priced]
    product = math.prod((Fraction(price) for price in prices), start=Fraction(1))
    payout = potential_payout(slip.stake, prices)
    take_exposure(slip, selections, payout, product)
    now = timezone.now()

    def write_bet(*, transaction, **_: object) -> None:
        held = delay > 0
        bet = Bet.objects.create(
            public_id=slip.public_id, player_id=slip.player_id, currency_id=slip.currency, stake=slip.stake,
            potential_payout=payout, status=BetStatus.PENDING if held else BetStatus.ACCEPTED,
            accept_price_changes=slip.accept_price_changes, idempotency_key=slip.idempotency_key,
            request_fingerprint=slip.request_fingerprint, stake_transaction=transaction, placed_at=now,
            release_at=now + dt.timedelta(seconds=delay) if held else None,
        )  # fmt: skip
        BetLeg.objects.bulk_create(
            BetLeg(bet=bet, position=position, selection=leg.selection, market_id=leg.selection.market_id,
                   event_id=leg.selection.market.event_id, price=leg.price, seen_price=leg.seen.price,
                   market_version=leg.seen.market_version)
            for position, leg in enumerate(priced)
        )  # fmt: skip
        slip.bet = bet

    return write_bet
