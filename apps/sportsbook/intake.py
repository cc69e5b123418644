"""Bet intake inside the wallet's money transaction (`apps.wallet.extensions`, position `SPORTSBOOK`).

The sportsbook's service (`services.place_bet`) hands the wallet's `place_bet` a `Slip` as the
stake's `detail`; `on_stake`, called after the player's accounts are locked and compliance's and
bonuses' checks (for a player on whom those are quiet, by the wallet's bet function, after it has
written the stake, with no `wallet`: apps/wallet/extensions.py, "Quiet conditions"), returns at
once for any stake of another origin (every casino bet: one string comparison, no query). For a
slip it

1. takes the legs' selections with their markets' and events' columns as plain rows (`LegRow`):
   those the service read before the money (`Slip.read`) when they pass every check, the bet's
   write then reading them again in its own statement and raising `LegsMoved` (the service places
   the slip again) unless they are unchanged; otherwise (SQLite, or a slip they refuse) read
   again under the player's lock, one prepared statement. It checks each leg:
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
3. returns the write of the bet and its legs (with the legs' check of 1), which the wallet calls
   with the stake's transaction before commit; last in it (so that the exposure rows, the
   platform's being every bet's, are held only from there to the commit), the exposure:
4. checks the limits (`limits_of`): the maximum payout, the per-bet liability times the player's
   stake factor, then the exposure caps of every selection, market and event of the slip and of
   the platform, on the exposure rows as they were when locked (primary-key order). On
   PostgreSQL one statement locks the rows, grows them by the bet's liability and moves the
   liability throttle's window of each market row (throttle.py), answering the rows as they were
   (`locks.lock_and_take_exposure`): the caps are checked after it, and a breach's exception
   rolls the update back with the rest. On SQLite the rows are locked (`lock_exposure_windows`),
   checked, then updated. A breach refuses with `STAKE_TOO_HIGH` and `error.max_stake`, the
   largest stake every limit would take now (0: none). A market whose window the bet takes over
   the throttle's limit is noted on the slip (`throttled`) and in the outbox with the bet
   (`signals.markets_throttled`): it is suspended once the money has committed, or by the
   outbox's sweeper after a crash (the bet itself stands: it is within every cap). The service opens the
   rows of the first bet on a target before the money transaction (it reads whether they exist
   with the legs); one still missing here raises `locks.ExposureNotOpen`: the service opens them
   and places the slip again.

A refusal raised here rolls back the whole money transaction: no stake, no exposure, no bet.

On PostgreSQL a free player's pre-match slip that passes as read is not brought here at all:
`statement_of` hands the wallet the same work as one server-side function (the stake, then 3 and
4 in SQL), which leaves to this participant any slip it would not take as it is, so every refusal
is worded and every throttle crossing recorded here.

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
import functools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts import selectors as accounts
from apps.common import events
from apps.common.db import numbers_array, prepared_cursor, texts_array
from apps.common.errors import PamError
from apps.common.money import ISO_4217
from apps.sportsbook import errors, locks, signals, throttle
from apps.sportsbook.choices import BetStatus, EventStatus, ExposureScope, MarketStatus, PriceChanges
from apps.sportsbook.models import Bet, BetLeg, Selection
from apps.wallet.extensions import StakeStatement

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


@dataclass(frozen=True)
class LegRow:
    """A leg's selection with the columns of its market and event that intake checks: a plain row
    (`read_legs`), not model instances, on the placement's path. `of` makes one of a Selection
    whose market and event are loaded (the re-check after an in-play delay)."""

    pk: int
    selection_id: str
    price: Decimal
    market_pk: int
    market_id: str
    market_status: str
    market_version: int
    suspended_version: int
    event_pk: int
    event_id: str
    event_status: str
    in_play_delay_s: int

    @classmethod
    def of(cls, selection: Selection) -> LegRow:
        market = selection.market
        event = market.event
        return cls(
            selection.pk, selection.selection_id, selection.price, market.pk, market.market_id, market.status,
            market.version, market.suspended_version, event.pk, event.event_id, event.status, event.in_play_delay_s,
        )  # fmt: skip

    @property
    def targets(self) -> tuple[int, int, int]:
        return self.pk, self.market_pk, self.event_pk


@dataclass(frozen=True)
class TakenLeg:
    selection_id: str
    market_id: str
    event_id: str
    price: Decimal
    market_version: int


@dataclass(frozen=True)
class TakenBet:
    """A bet as the placement wrote it: what its answer shows, from the values written (no read-back)."""

    pk: int
    public_id: str
    status: str
    stake: int
    currency_id: str
    potential_payout: int
    placed_at: dt.datetime
    release_at: dt.datetime | None
    legs: tuple[TakenLeg, ...]


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
    # The circuit breakers' answer, read by the service before the money transaction (with the
    # legs, in a statement that holds no lock): whether in-play legs are refused (`in_play_refused`).
    in_play_closed: bool = False
    # The legs as the service read them before the money (`read_slip`): taken as they are, and
    # checked against the rows as the bet's write finds them, when they pass (`on_stake`); None:
    # read under the player's lock, as on SQLite.
    read: list[LegRow] | None = None
    bet: TakenBet | None = field(default=None)
    # The markets (pks) whose liability throttle this bet crossed (`take_bet`).
    throttled: list[int] = field(default_factory=list)


class LegsMoved(Exception):
    """A leg's selection, market or event changed between the service's read and the bet's write:
    the service places the slip again, reading the legs under the player's lock."""


class HoldChanged(Exception):
    """An event of the slip went in play (or the reverse) between the service's look and the
    locked check: the service places the slip again with the other hold."""


@dataclass(frozen=True)
class SlipRead:
    """What the service reads before the money: the legs, the player's stake factor (None: none
    set), the circuit breakers that are on and whether the slip's exposure rows exist."""

    legs: list[LegRow]
    stake_factor: Decimal | None
    breakers_on: frozenset[str]
    # Whether every exposure row the slip counts on exists (`locks.open_exposure` otherwise).
    exposure_open: bool


_LEG_COLUMNS = (
    "s.id, s.selection_id, s.price, m.id, m.market_id, m.status, m.version, m.suspended_version, e.id, e.event_id, "
    "e.status, e.in_play_delay_s"
)
_LEG_TABLES = (
    "FROM sportsbook_selection s JOIN sportsbook_market m ON m.id = s.market_id "
    "JOIN sportsbook_event e ON e.id = m.event_id WHERE "
)


@functools.lru_cache(maxsize=3 * MAX_LEGS)
def _legs_sql(*, player: str | None, legs: int) -> str:
    """The legs' statement for a slip of `legs` legs (one text per number of legs, each prepared
    once): each selection id a plain parameter. `player` "id": the player's stake factor, the
    breakers that are on and the count of the slip's exposure rows in the player's currency, as
    columns of every row, the player's id and currency parameters; "token": the same, and first
    the player's id and currency as their token's query finds them (a row with no leg when no
    selection matches, no row when the token is not a live player's).

    Why a text per number of legs: PostgreSQL plans a prepared statement for its parameters'
    values until a plan for any values (generic) is estimated no dearer. The ids as one array
    parameter, of unknown length, are estimated at ten, which made the generic plan look several
    times dearer than a plan for the slip's own ids, so every slip was planned afresh (about
    0.3 ms of the server's CPU per bet here, more than running it). With one parameter per id the
    generic plan is the plan for that many ids, and it is kept."""
    postgresql = connection.vendor == "postgresql"
    where = "s.selection_id = %s" if legs == 1 else f"s.selection_id IN ({', '.join(['%s'] * legs)})"
    if player is None:
        return f"SELECT {_LEG_COLUMNS} {_LEG_TABLES}{where}"
    player_id, currency = ("%s", "%s") if player == "id" else ("p.id", "p.currency_id")
    names = "string_agg(b.name, ',')" if postgresql else "group_concat(b.name, ',')"
    columns = (
        f"{_LEG_COLUMNS}, (SELECT f.factor FROM sportsbook_stakefactor f WHERE f.player_id = {player_id}), "  # noqa: S608 - constants only
        f"(SELECT {names} FROM sportsbook_breaker b WHERE b.is_on), "
        # Each key spelled out: the unique index's four look-ups, where a list of pairs is
        # planned as a scan of every row of the currency.
        f"(SELECT count(*) FROM sportsbook_exposure x WHERE x.currency_id = {currency} AND ("
        "(x.scope = 'selection' AND x.target_id = s.id) OR (x.scope = 'market' AND x.target_id = m.id) OR "
        "(x.scope = 'event' AND x.target_id = e.id) OR (x.scope = 'platform' AND x.target_id = 0)))"
    )
    if player == "id":
        return f"SELECT {columns} {_LEG_TABLES}{where}"
    joined = _LEG_TABLES.removeprefix("FROM ").removesuffix(" WHERE ")
    return (
        f"SELECT p.id, p.currency_id, {columns} "  # noqa: S608 - constants and the accounts' query only
        f"FROM ({accounts.PLAYER_OF_KEY_HASH_SQL}) p LEFT JOIN ({joined}) ON {where}"
    )


def _decimal(value) -> Decimal:
    # SQLite hands a numeric column back as a float or an int; two places is what it holds.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.01"))


def _chosen_legs(legs: list[LegRequest], rows: list[tuple]) -> list[LegRow]:
    """The slip's legs from the rows of `_legs_sql` (each row's first twelve columns; a row
    without a leg is skipped), in the slip's order; raises as `read_legs`."""
    found: dict[str, list[LegRow]] = {}
    for row in rows:
        if row[0] is not None:
            leg = LegRow(row[0], row[1], _decimal(row[2]), *row[3:12])
            found.setdefault(leg.selection_id, []).append(leg)
    chosen = []
    for request in legs:
        candidates = found.get(request.selection_id, [])
        if len(candidates) != 1:
            raise errors.UnknownBetSelection(
                f"No single selection on sale has the id {request.selection_id!r}.",
                details={"selection_id": request.selection_id},
            )
        chosen.append(candidates[0])
    if len({leg.market_pk for leg in chosen}) != len(chosen):
        raise errors.InvalidSlip("An accumulator's legs are on different markets.")
    return chosen


def _slip_read(legs: list[LegRequest], rows: list[tuple]) -> SlipRead:
    """The SlipRead of `_legs_sql`'s rows for a player (their first columns the legs'; a slip's
    rows all carry the same stake factor and breakers)."""
    chosen = _chosen_legs(legs, rows)
    factor, names = rows[0][12], rows[0][13]
    return SlipRead(
        legs=chosen, stake_factor=None if factor is None else _decimal(factor),
        breakers_on=frozenset(names.split(",")) if names else frozenset(),
        exposure_open=all(row[14] == 4 for row in rows),
    )  # fmt: skip


def _rows(sql: str, params: list) -> list[tuple]:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def read_legs(legs: list[LegRequest]) -> list[LegRow]:
    """The legs' selections with their markets and events, in the slip's order: one prepared
    statement. UnknownBetSelection for a selection id no feed sent, or one that more than one
    market has (the slip names a selection by its id alone, so a feed's selection ids must be
    unique across its markets); InvalidSlip for two legs on one market."""
    ids = [leg.selection_id for leg in legs]
    return _chosen_legs(legs, _rows(_legs_sql(player=None, legs=len(ids)), ids))


def read_slip(legs: list[LegRequest], *, player_id: int, currency: str) -> SlipRead:
    """`read_legs`, with the player's stake factor, the circuit breakers that are on (what
    `selectors.get_breaker_state` reads) and whether the slip's exposure rows in `currency` (the
    player's) all exist, in the same one statement. Raises as `read_legs`."""
    ids = [leg.selection_id for leg in legs]
    return _slip_read(legs, _rows(_legs_sql(player="id", legs=len(ids)), [player_id, currency, *ids]))


def read_slip_of_token(token: str, legs: list[LegRequest]) -> tuple[accounts.TokenPlayer, SlipRead] | None:
    """The player of a live token (accounts.get_token_player) and `read_slip` for them, in one
    statement on PostgreSQL (two elsewhere); None, having read no leg, when the token is not a
    live player's. Raises as `read_legs` for a live player's token."""
    if connection.vendor != "postgresql":
        player = accounts.get_token_player(token)
        if player is None:
            return None
        return player, read_slip(legs, player_id=player.pk, currency=player.currency_id)
    ids = [leg.selection_id for leg in legs]
    rows = _rows(_legs_sql(player="token", legs=len(ids)), [*accounts.token_player_params(token), *ids])
    if not rows:
        return None
    return accounts.TokenPlayer(rows[0][0], rows[0][1]), _slip_read(legs, [row[2:] for row in rows])


def in_play_delay(legs: list[LegRow]) -> int:
    """The longest in-play delay of the slip's live events, in seconds: how long its stake is held
    before the bet is decided (0: none is live, or their delay is 0, and the bet is decided now)."""
    return max((leg.in_play_delay_s for leg in legs if leg.event_status == EventStatus.LIVE), default=0)


def in_play_refused(state: BreakerState) -> bool:
    """Whether the circuit breakers refuse in-play legs now (docs/sportsbook.md, "Circuit
    breakers"): `pre_match_only` and `suspend_in_play` close in-play betting (`in_play_closed`),
    and under `cached_prices` an in-play price is served as cached while the match moves by the
    second, so a bet taken at it would be taken at a price the book may no longer offer. A
    pre-match price moves slowly enough to stand: pre-match legs are taken under every breaker."""
    return state.in_play_closed or state.prices_delayed


def refusal_of(leg: LegRow, seen: LegRequest, accept: str | None, *, in_play_closed: bool = False) -> PamError | None:
    """Why the leg cannot be taken as the market is now (None: it can). `accept` None: the
    re-check after an in-play delay, where a price worse than the one taken refuses whatever the
    slip accepted (the bet stands at its price only if the market still offers it).
    `in_play_closed`: the breakers refuse in-play legs (`in_play_refused`), as suspended."""
    if leg.market_status == MarketStatus.SETTLED:
        return errors.MarketSettled(details={"selection_id": seen.selection_id})
    if (
        leg.market_status == MarketStatus.SUSPENDED
        or leg.suspended_version > seen.market_version
        or (in_play_closed and leg.event_status == EventStatus.LIVE)
    ):
        return errors.MarketSuspended(details={"selection_id": seen.selection_id})
    if seen.market_version > leg.market_version:
        return errors.InvalidSlip(f"The market of {seen.selection_id!r} has no version {seen.market_version} yet.")
    current = leg.price
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


def check_legs(rows: list[LegRow], legs: list[LegRequest], accept: str, *, in_play_closed: bool = False) -> None:
    """Check each leg (module docstring, 1); each is taken at its market's current price (its
    row's). Raises the first leg's refusal."""
    for row, seen in zip(rows, legs, strict=True):
        refusal = refusal_of(row, seen, accept, in_play_closed=in_play_closed)
        if refusal is not None:
            raise refusal


# The product of a slip's prices, exactly: (numerator, denominator), integers. Integers rather than
# `Fraction`s because these few lines run on every bet, where Fraction's arithmetic cost more than
# the rest of the pricing.
Ratio = tuple[int, int]


def price_product(prices: list[Decimal]) -> Ratio:
    """The product of `prices` as an exact ratio of integers."""
    numerator = denominator = 1
    for price in prices:
        n, d = price.as_integer_ratio()
        numerator, denominator = numerator * n, denominator * d
    return numerator, denominator


def potential_payout(stake: int, prices: list[Decimal]) -> int:
    """stake x the product of the prices, rounded down to the minor unit, exactly."""
    return payout_at(stake, price_product(prices))


def payout_at(stake: int, product: Ratio) -> int:
    """stake x `product`, rounded down to the minor unit."""
    numerator, denominator = product
    return stake * numerator // denominator


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _largest_stake_within(headroom: int, product: Ratio) -> int:
    """The largest stake s whose liability floor(s x product) - s is at most `headroom` (the
    product above 1: every price is)."""
    if headroom < 0:
        return 0
    numerator, denominator = product
    return max(_ceil_div((headroom + 1) * denominator, numerator - denominator) - 1, 0)


def _largest_stake_paying(most: int, product: Ratio) -> int:
    """The largest stake s whose payout floor(s x product) is at most `most`."""
    numerator, denominator = product
    return max(_ceil_div((most + 1) * denominator, numerator) - 1, 0)


def unit_of(currency: str) -> int:
    """Minor units per whole unit of `currency` (100 for EUR, 1 for JPY)."""
    return 10 ** ISO_4217[currency][1] if currency in ISO_4217 else 1


def limits_of(currency: str) -> dict[str, int]:
    """The settings' limits (SPORTSBOOK_LIMITS, whole units) in minor units of `currency`."""
    unit = unit_of(currency)
    return {name: whole * unit for name, whole in settings.SPORTSBOOK_LIMITS.items()}


def exposure_keys_of(targets) -> list[locks.ExposureKey]:
    """The exposure rows a bet counts on (module docstring), from its legs' (selection pk, market
    pk, event pk)."""
    targets = list(targets)
    keys = [(ExposureScope.SELECTION.value, selection) for selection, _, _ in targets]
    keys += [(ExposureScope.MARKET.value, market) for _, market, _ in targets]
    keys += [(ExposureScope.EVENT.value, event) for event in sorted({event for _, _, event in targets})]
    return [*keys, (ExposureScope.PLATFORM.value, 0)]


def exposure_keys(selections: list[Selection]) -> list[locks.ExposureKey]:
    """The exposure rows a bet on `selections` (with their markets loaded) counts on."""
    return exposure_keys_of((s.pk, s.market_id, s.market.event_id) for s in selections)


def _bet_ceilings(slip: Slip, limits: dict[str, int], product: Ratio) -> list[int]:
    """The largest stakes the bet's own limits take (module docstring, 4): the maximum payout,
    then the per-bet liability times the player's stake factor; the exposure caps come after."""
    return [
        _largest_stake_paying(limits["max_payout"], product),
        _largest_stake_within(math.floor(slip.stake_factor * limits["bet_liability"]), product),
    ]


def _taken(slip: Slip, legs: list[LegRow], *, pk: int, status: str, payout: int, placed_at: dt.datetime,
           release_at: dt.datetime | None) -> TakenBet:  # fmt: skip
    """The bet as it was written: its answer's values (no read-back)."""
    return TakenBet(
        pk=pk, public_id=slip.public_id, status=status, stake=slip.stake, currency_id=slip.currency,
        potential_payout=payout, placed_at=placed_at, release_at=release_at,
        legs=tuple(TakenLeg(leg.selection_id, leg.market_id, leg.event_id, leg.price, seen.market_version)
                   for leg, seen in zip(legs, slip.legs, strict=True)),
    )  # fmt: skip


def take_bet(slip: Slip, legs: list[LegRow], *, transaction_pk: int, payout: int, product: Ratio, status: str,
             placed_at: dt.datetime, release_at: dt.datetime | None, verified: bool) -> int:  # fmt: skip
    """Write the bet and its legs, then check the limits and update the exposure (module
    docstring, 3 and 4); returns the bet's pk. Raises StakeTooHigh; with `verified`
    (PostgreSQL), LegsMoved unless the legs' rows are still `legs` as they were read.

    On PostgreSQL it is one prepared statement (`locks.lock_and_take_exposure` with the bet's
    writes first): the bet and its legs are written (each leg only if its rows are as read), then
    the exposure rows are locked and grown, their throttle windows moved, and answered as they
    were: the caps are checked on those, and a refusal's exception rolls the whole statement back
    with the money transaction. On SQLite the bet is written, then the rows are locked, checked
    and updated."""
    limits = limits_of(slip.currency)
    liability = payout - slip.stake
    ceilings = _bet_ceilings(slip, limits, product)
    keys = exposure_keys_of(leg.targets for leg in legs)
    columns = {
        "public_id": slip.public_id, "player_id": slip.player_id, "currency_id": slip.currency, "stake": slip.stake,
        "potential_payout": payout, "status": status, "accept_price_changes": slip.accept_price_changes,
        "idempotency_key": slip.idempotency_key, "request_fingerprint": slip.request_fingerprint,
        "stake_transaction_id": transaction_pk, "placed_at": placed_at, "release_at": release_at,
    }  # fmt: skip
    moved = connection.vendor == "postgresql"
    if moved:
        # Taken before the lock is granted (the statement both waits and writes): a bet that
        # waited meets a window a later `now` may have started, which counts as its start.
        now = timezone.now()
        (pk, written_legs), rows = locks.lock_and_take_exposure(
            slip.currency, keys, liability, now=now, length_us=throttle.window_us(),
            windows=bool(liability) and throttle.is_on(), writes=_write_bet_sql(len(legs)),
            params=_bet_params(columns, slip, legs, verified=verified),
        )  # fmt: skip
        if written_legs != len(legs):
            raise LegsMoved
    else:
        pk = _create_bet(columns, slip, legs)
        # Locked even when the bet's own limits refuse it: `max_stake` is what every limit would take.
        rows = locks.lock_exposure_windows(slip.currency, keys, open_missing=False)
        now = timezone.now()  # after the locks: bets on one market meet their window in this order
    for (scope, _), (_, amount, cap, _) in rows.items():
        ceilings.append(_largest_stake_within((limits[scope] if cap is None else cap) - amount, product))
    largest = min(ceilings)
    if slip.stake > largest:
        raise errors.StakeTooHigh(
            f"The largest stake this slip is taken with now is {largest}.", details={"max_stake": largest}
        )
    if liability:
        windows = _throttle_windows(slip, rows, liability, limits, now)
        if not moved:
            move_exposure([pk for pk, _, _, _ in rows.values()], liability, windows=windows)
    if slip.throttled:
        # With the bet, in its transaction: the markets are suspended once it commits, or by the
        # outbox's sweeper if this process dies first.
        events.send_after_commit(signals.markets_throttled, markets=list(slip.throttled), crossed_at=now.isoformat())
    return pk


def _throttle_windows(
    slip: Slip, rows: dict[locks.ExposureKey, tuple], liability: int, limits: dict[str, int], now: dt.datetime
) -> dict[int, throttle.Window]:
    """The liability throttle's new window of each market row of the slip ({row id: window}) from
    the rows as they were under their locks; the markets whose window the bet takes over its limit
    are added to `slip.throttled` (the service suspends them once the bet has committed)."""
    unit = unit_of(slip.currency)
    windows = {}
    for (scope, target), (pk, _, cap, window) in rows.items():
        if scope != ExposureScope.MARKET:
            continue
        limit = throttle.limit_of(cap, limits["market"], unit)
        if limit is None:
            continue
        windows[pk], crossed = throttle.take(window, liability, now, limit)
        if crossed:
            slip.throttled.append(target)
    return windows


def move_exposure(row_ids: list[int], delta: int, *, windows: dict[int, throttle.Window] | None = None) -> None:
    """Add `delta` to the locked exposure rows `row_ids` and write the throttle's `windows` of
    some of them ({row id: window}), in one statement."""
    params: list[object] = [delta]
    sets = "amount = amount + %s"
    if windows:
        for column, value in (("window_started_at", lambda w: w.started_at), ("window_amount", lambda w: w.amount),
                              ("previous_window_amount", lambda w: w.previous)):  # fmt: skip
            sets += f", {column} = CASE id {' '.join(['WHEN %s THEN %s'] * len(windows))} ELSE {column} END"
            params += [item for pk, window in windows.items() for item in (pk, value(window))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE sportsbook_exposure SET {sets} WHERE id IN ({', '.join(['%s'] * len(row_ids))})",  # noqa: S608 - placeholders only
            [*params, *row_ids],
        )


# The bet and its legs, the writes ahead of the exposure's in `take_bet`'s statement: each leg
# written only if its selection, market and event are as they were read (`verified`; a leg read
# under the player's lock is written as it is). `written` answers the bet's id and how many legs
# were written: fewer than the slip's is LegsMoved. One text per number of legs, each leg's values
# parameters of their own (`_LEG_VALUES`): arrays cost the client more to send, and a list of
# unknown length is planned for ten rows, a hash over every market where a leg needs one look-up.
_WRITE_BET = (
    "b AS (INSERT INTO sportsbook_bet (public_id, player_id, currency_id, stake, potential_payout, status, "
    "reject_reason, accept_price_changes, idempotency_key, request_fingerprint, stake_transaction_id, placed_at, "
    "release_at) VALUES (%(public_id)s, %(player_id)s, %(currency_id)s, %(stake)s, %(potential_payout)s, %(status)s, "
    "'', %(accept_price_changes)s, %(idempotency_key)s, %(request_fingerprint)s, %(stake_transaction_id)s, "
    "%(placed_at)s, %(release_at)s) RETURNING id), "
    "l AS (INSERT INTO sportsbook_betleg (bet_id, position, selection_id, market_id, event_id, price, seen_price, "
    "market_version) SELECT b.id, x.position, x.selection_id, x.market_id, x.event_id, x.price, x.seen_price, "
    "x.market_version FROM b CROSS JOIN (VALUES {legs}) AS x (position, "
    "selection_id, market_id, event_id, price, seen_price, market_version, market_status, version, "
    "suspended_version, event_status, in_play_delay_s) "
    "JOIN sportsbook_selection s ON s.id = x.selection_id AND s.market_id = x.market_id "
    "JOIN sportsbook_market m ON m.id = x.market_id AND m.event_id = x.event_id "
    "JOIN sportsbook_event e ON e.id = x.event_id "
    "WHERE NOT %(verified)s OR (s.price = x.price AND m.status = x.market_status AND m.version = x.version "
    "AND m.suspended_version = x.suspended_version AND e.status = x.event_status "
    "AND e.in_play_delay_s = x.in_play_delay_s) RETURNING 1), "
    "written AS (SELECT (SELECT id FROM b) AS bet_id, (SELECT count(*) FROM l) AS legs)"
)
# One leg's row of `_WRITE_BET`'s VALUES: its position (a constant of the text), its rows, prices
# and the market version seen, then its rows' state as read.
_LEG_VALUES = (
    "({position}::smallint, %(selection{position})s::bigint, %(market{position})s::bigint, "
    "%(event{position})s::bigint, %(price{position})s::numeric, %(seen_price{position})s::numeric, "
    "%(seen_version{position})s::bigint, %(market_status{position})s::varchar, %(market_version{position})s::bigint, "
    "%(suspended_version{position})s::bigint, %(event_status{position})s::varchar, %(delay{position})s::integer)"
)


@functools.cache
def _write_bet_sql(legs: int) -> str:
    return _WRITE_BET.format(legs=", ".join(_LEG_VALUES.format(position=position) for position in range(legs)))


def _bet_params(columns: dict[str, object], slip: Slip, legs: list[LegRow], *, verified: bool) -> dict[str, object]:
    """`_write_bet_sql`'s parameters: the bet's `columns` (its field names), then each leg's."""
    params = {**columns, "verified": verified}
    for position, (leg, seen) in enumerate(zip(legs, slip.legs, strict=True)):
        params |= {
            f"selection{position}": leg.pk, f"market{position}": leg.market_pk, f"event{position}": leg.event_pk,
            f"price{position}": leg.price, f"seen_price{position}": seen.price,
            f"seen_version{position}": seen.market_version, f"market_status{position}": leg.market_status,
            f"market_version{position}": leg.market_version, f"suspended_version{position}": leg.suspended_version,
            f"event_status{position}": leg.event_status, f"delay{position}": leg.in_play_delay_s,
        }  # fmt: skip
    return params


def _create_bet(columns: dict[str, object], slip: Slip, legs: list[LegRow]) -> int:
    """The bet and its legs through the ORM (SQLite); returns the bet's pk."""
    bet = Bet.objects.create(**columns)
    BetLeg.objects.bulk_create(
        BetLeg(bet=bet, position=position, selection_id=leg.pk, market_id=leg.market_pk, event_id=leg.event_pk,
               price=leg.price, seen_price=seen.price, market_version=seen.market_version)
        for position, (leg, seen) in enumerate(zip(legs, slip.legs, strict=True))
    )  # fmt: skip
    return bet.pk


def _refused(legs: list[LegRow], slip: Slip) -> bool:
    return any(
        refusal_of(leg, seen, slip.accept_price_changes, in_play_closed=slip.in_play_closed) is not None
        for leg, seen in zip(legs, slip.legs, strict=True)
    )


# sportsbook_place_bet's own arguments (migration 0011), after the wallet's ten: each cast to its
# parameter's type, so that the call names one function whatever types the values are sent as
# (the arrays go as their text forms: apps/common/db.py, `numbers_array`).
_STATEMENT_ARGUMENTS = (
    "%s::text, %s::timestamptz, %s::bigint, %s::text, %s::text, %s::text, "
    "%s::bigint[], %s::numeric[], %s::text[], %s::text[], %s::bigint[], "
    "%s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::boolean, %s::bigint, %s::bigint, %s::numeric"
)


def statement_of(slip: Slip) -> StakeStatement | None:
    """The slip's work as one server-side function (`sportsbook_place_bet`, migration 0011), for
    the wallet to run in place of its own bet function (extensions.StakeStatement): the stake,
    the bet, its legs and the exposure in one round trip. Only for a slip `on_stake` would take
    as the service read it (PostgreSQL; legs that pass as read; not held; within the limits that
    do not depend on the exposure rows): None otherwise. The function leaves to `on_stake` any slip
    whose legs moved, whose exposure rows are missing or over a cap, or that crosses a market's
    liability throttle, where refusals are worded and crossings recorded."""
    legs = slip.read
    if legs is None or slip.held or connection.vendor != "postgresql" or in_play_delay(legs) > 0:
        return None
    if _refused(legs, slip):
        return None
    limits = limits_of(slip.currency)
    product = price_product([leg.price for leg in legs])
    payout = payout_at(slip.stake, product)
    if slip.stake > min(_bet_ceilings(slip, limits, product)):
        return None
    keys = exposure_keys_of(leg.targets for leg in legs)
    most, share = throttle.limit_terms(unit_of(slip.currency))
    placed_at = timezone.now()
    pairs = list(zip(legs, slip.legs, strict=True))
    params = (
        slip.public_id, placed_at, payout, slip.accept_price_changes, slip.idempotency_key, slip.request_fingerprint,
        # Each leg as the function takes it: seven numbers, two prices, two states.
        numbers_array(number for leg, seen in pairs
                      for number in (leg.pk, leg.market_pk, leg.event_pk, seen.market_version, leg.market_version,
                                     leg.suspended_version, leg.in_play_delay_s)),
        numbers_array(price for leg, seen in pairs for price in (leg.price, seen.price)),
        texts_array(state for leg, _ in pairs for state in (leg.market_status, leg.event_status)),
        texts_array(scope for scope, _ in keys), numbers_array(target for _, target in keys),
        limits["selection"], limits["market"], limits["event"], limits["platform"],
        payout > slip.stake and throttle.is_on(), throttle.window_us(), most, share,
    )  # fmt: skip

    def done(columns: tuple) -> None:
        slip.bet = _taken(slip, legs, pk=columns[0], status=BetStatus.ACCEPTED, payout=payout, placed_at=placed_at,
                          release_at=None)  # fmt: skip

    return StakeStatement(on_stake, "sportsbook_place_bet", _STATEMENT_ARGUMENTS, params, done)


def on_stake(*, wallet, amount: int, origin: str = "", detail: object = None, **_: object):
    """The sportsbook's work at a stake (module docstring); nothing for a stake of another origin."""
    if origin != ORIGIN or not isinstance(detail, Slip):
        return None
    slip = detail
    slip.throttled = []  # a placement tried again (HoldChanged, LegsMoved) starts afresh
    # The legs as the service read them, when they pass as they are (the common case): the bet's
    # write checks that they still are (LegsMoved otherwise), a statement less than reading them
    # again here. Any other slip is judged on its rows as they are under the player's lock.
    legs = slip.read if connection.vendor == "postgresql" else None
    if legs is not None and (_refused(legs, slip) or (in_play_delay(legs) > 0) != slip.held):
        legs = None
    verified = legs is not None
    if legs is None:
        legs = read_legs(slip.legs)
    delay = in_play_delay(legs)
    if (delay > 0) != slip.held:
        raise HoldChanged
    check_legs(legs, slip.legs, slip.accept_price_changes, in_play_closed=slip.in_play_closed)
    product = price_product([leg.price for leg in legs])
    payout = payout_at(slip.stake, product)
    now = timezone.now()

    def write_bet(*, transaction, **_: object) -> None:
        held = delay > 0
        status = BetStatus.PENDING if held else BetStatus.ACCEPTED
        release_at = now + dt.timedelta(seconds=delay) if held else None
        # Last in the transaction: the exposure rows (the platform's is every bet's) are held
        # from there to the commit.
        pk = take_bet(slip, legs, transaction_pk=transaction.pk, payout=payout, product=product, status=status,
                      placed_at=now, release_at=release_at, verified=verified)  # fmt: skip
        slip.bet = _taken(slip, legs, pk=pk, status=status, payout=payout, placed_at=now, release_at=release_at)

    return write_bet
