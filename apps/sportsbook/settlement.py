"""Settlement: the bets of resulted markets paid through the wallet, and resettled when a later
result changes a market's outcome (contracts/sportsbook.md, the `result` message).

The rule, per bet. Each leg has a factor: its price if its selection won, 1 if it was voided, 0 if
it lost. A dead heat (a result that lists k > 1 winners) pays each winner at price / k: the stake
is split between the k tied selections, each part paid at full price. The payout is
floor(stake x the product of the factors), in exact rational arithmetic (`Fraction`, as the
potential payout at intake), so it is never more than the potential payout. A single settles
when its market has a result; an accumulator as soon as one leg has lost (it is lost then,
whatever its other markets do) or when every leg's market has a result. Status: `lost` (a leg
lost: nothing paid), `void` (every leg voided: the stake back), else `won` (a dead heat may pay
less than the stake, and it is still the bet's win).

The money. A bet's first settlement pays its payout as a wallet `win` (origin `sportsbook`, the
bet's id as the round, the id `<bet id>:settle:1`); a loss moves no money. The bet's status,
payout and `settled_at`, its settlement row (`BetSettlement`) and the removal of its liability
from its exposure rows commit in the same transaction as the money (the wallet's `commit_with`).
Winning bets are paid MONEY_BATCH at a time in one database transaction (`wallet.settle_wins`: one
ledger transaction each, all written in one statement, one commit), since each bet's own commit
would hold the market's and the platform's exposure rows in turn; losing bets in bulk, one
transaction per batch. Whatever a batch's size, its reads and writes are one statement each, from
arrays (the bets' new state with their settlement rows, the exposure, the ledger's rows).

A later result that changes the outcome resettles the bet: its new payout P' against the P paid,
a compensating ledger transaction for the difference (`settle_win` when P' > P; `reclaim_win`
when P' < P: from cash, and what cash does not cover becomes the player's debt), settlement n + 1
with the id `<bet id>:settle:<n>`. Exposure is not touched by a resettlement: the bet left it at
its first settlement. The same outcome again changes nothing.

Settling once. Each settlement's wallet id is the bet's and its number, and the settlement only
writes the bet if the bet is still as the settler read it (same status and count), else it rolls
the money back (`SettlementRaced`); losing bets are written under their rows' locks after the
same check; and `(bet, n)` is unique. Two settlers of one bet therefore move money once, and the
second leaves the bet as the first settled it (if the outcome changed meanwhile, the next pass
settles it again).

Who settles (`settler.py`): after a feed batch that resulted markets commits, its markets are
handed to background workers that each run `settle_market`; the settlement sweep
(`settle_due_bets`, a tick) settles whatever is left (a crash, a bet accepted after its market's
settlement ran). Settlers share the work by claiming bets with a lease (`locks.claim_bets_to_settle`).

A bet lost early is sometimes resettled to neither: its losing leg's result changes to a win
while another leg's market has no result yet. It keeps its `lost` settlement until every leg
can be decided again (nothing was paid, so nothing is owed either way); then it is resettled.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.common import events
from apps.common.db import prepared_cursor
from apps.common.errors import PamError
from apps.common.events import send_after_commit
from apps.common.idempotency import ExternalRef, fingerprint
from apps.sportsbook import intake, locks, selectors, signals
from apps.sportsbook.choices import SETTLED_BET_STATUSES, BetStatus, MarketStatus
from apps.sportsbook.models import Bet, BetLeg, BetSettlement, Market, SettledMarket
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet

logger = structlog.get_logger(__name__)

# How long a settler's claim on a bet holds before another settler may take the bet over.
LEASE = dt.timedelta(seconds=60)
# A bound on the rounds of one market's settlement (each claims a batch): far above any market's
# bets; the sweep finishes what a run leaves.
MAX_ROUNDS = 10_000
# How many winning bets are paid in one database transaction (`wallet.settle_wins`): one commit for
# all of them instead of one each, each of which would hold the market's, the event's and the
# platform's exposure rows through its commit in turn; few enough that the players' accounts it
# locks are held for a fraction of a second.
MONEY_BATCH = 50

WON, LOST, VOID, UNRESULTED = "won", "lost", "void", "unresulted"


class SettlementRaced(Exception):
    """Another settlement of the bet committed between the read and the write: this one's money is
    rolled back, and the bet stays as the other left it."""


@dataclass(frozen=True)
class Outcome:
    """A bet's settlement as its markets' results make it: `status` None while it cannot be
    decided (an accumulator waiting for a result); `legs` what each leg's result was."""

    status: str | None
    payout: int
    legs: list[dict]
    outcome_at: dt.datetime | None


def leg_outcome(leg: BetLeg) -> tuple[dict, Fraction | None]:
    """A leg's result and factor (None: its market has no result yet). Reads `leg.selection` and
    `leg.selection.market` (select them with the leg)."""
    market = leg.selection.market
    selection_id = leg.selection.selection_id
    described = {"market_id": market.market_id, "selection_id": selection_id}
    if market.status != MarketStatus.SETTLED:
        return {**described, "result": UNRESULTED}, None
    if selection_id in market.winners:
        tied = len(market.winners)
        # The dead-heat rule: the price divided by the number of tied winners.
        return {**described, "result": WON, "winners": tied}, Fraction(leg.price) / tied
    if selection_id in market.void:
        return {**described, "result": VOID}, Fraction(1)
    return {**described, "result": LOST}, Fraction(0)


def outcome_of(bet: Bet, legs: list[BetLeg]) -> Outcome:
    """What `bet` pays on its markets' results as they are (module docstring)."""
    described, factors, resulted_at = [], [], []
    for leg in legs:
        result, factor = leg_outcome(leg)
        described.append(result)
        factors.append(factor)
        if factor is not None:
            resulted_at.append(leg.selection.market.settled_at)
    outcome_at = max(resulted_at, default=None)
    if any(factor == 0 for factor in factors):
        return Outcome(BetStatus.LOST, 0, described, outcome_at)
    if any(factor is None for factor in factors):
        return Outcome(None, 0, described, outcome_at)
    if all(result["result"] == VOID for result in described):
        return Outcome(BetStatus.VOID, bet.stake, described, outcome_at)
    payout = math.floor(bet.stake * math.prod(factors, start=Fraction(1)))
    return Outcome(BetStatus.WON, payout, described, outcome_at)


@dataclass(frozen=True)
class Plan:
    """One settlement to write: the bet as read, its new outcome, its number and what moves."""

    bet: Bet
    legs: list[BetLeg]
    outcome: Outcome
    n: int
    difference: int

    @property
    def first(self) -> bool:
        return self.n == 1


# What settling reads of a bet and of a market.
_BET_FIELDS = ("public_id", "player_id", "currency_id", "stake", "potential_payout", "status", "payout",
               "outcome_at", "settlement_count")  # fmt: skip
_MARKET_FIELDS = ("market_id", "event_id", "status", "winners", "void", "settled_at")


# --- the services -----------------------------------------------------------------------------------


def settle_market(market_pk: int, *, limit: int | None = None) -> int:
    """Settle (or resettle) every bet on the market that its result makes due, batch by batch
    (SPORTSBOOK_SETTLEMENT_BATCH bets claimed at a time), at most `limit` bets when given; returns
    how many settlements were written. Safe to run in several workers at once: each claims its own
    bets (locks.claim_bets_to_settle). Once no bet on the market is left to settle, the market is
    recorded as settled at its current result (`SettledMarket`), which the sweep skips."""
    # Read before the look for bets left: a result that lands after it leaves the record stale.
    outcome_at = Market.objects.filter(pk=market_pk, status=MarketStatus.SETTLED).values_list("settled_at", flat=True)
    outcome_at = outcome_at.first()
    if outcome_at is None:
        return 0
    batch = settings.SPORTSBOOK_SETTLEMENT_BATCH
    done = after_id = 0
    for _ in range(MAX_ROUNDS):
        size = batch if limit is None else min(batch, limit - done)
        if size <= 0:
            return done
        # From the last claim's end: what lies behind was claimed here, or by another settler
        # (whose bets, should it die, the sweep settles once their lease has run out).
        claimed = locks.claim_bets_to_settle(market_pk=market_pk, limit=size, now=timezone.now(), lease=LEASE,
                                             after_id=after_id)  # fmt: skip
        if not claimed:
            break
        after_id = claimed[-1]
        done += settle_bets(claimed)
    if not locks.bets_left_to_settle(market_pk):
        SettledMarket.objects.bulk_create(
            [SettledMarket(market_id=market_pk, outcome_at=outcome_at)],
            update_conflicts=True, unique_fields=["market"], update_fields=["outcome_at"],
        )  # fmt: skip
    return done


def settle_due_bets(limit: int | None = None) -> int:
    """The settlement sweep (crash safety; a tick, apps.common.sweeps): the markets whose bets
    are not all settled at their current result, oldest result first, then any accepted bet whose
    markets' results decide it (a bet accepted after its market's settlement ran). At most `limit`
    (SPORTSBOOK_SETTLEMENT_BATCH) settlements; returns how many were written."""
    limit = limit or settings.SPORTSBOOK_SETTLEMENT_BATCH
    done = 0
    for market_pk in selectors.list_markets_to_settle(limit=limit):
        done += settle_market(market_pk, limit=limit - done)
        if done >= limit:
            return done
    claimed = locks.claim_bets_to_settle(market_pk=None, limit=limit - done, now=timezone.now(), lease=LEASE)
    return done + (settle_bets(claimed) if claimed else 0)


def settle_bets(bet_pks: list[int]) -> int:
    """Settle the bets `bet_pks` (claimed by this settler) on their markets' results as they are
    now: those that move no money (losses) in one transaction, winning ones in wallet batches of
    MONEY_BATCH, resettlements downward one wallet transaction each. A bet that cannot be decided,
    or whose outcome is unchanged, only has its `outcome_at` moved on and its claim given back
    (nothing is written to the money or the history). Returns how many settlements were written."""
    bets, legs = _read_bets(bet_pks)
    plans, unchanged = [], []
    for pk, bet in bets.items():
        if bet.status not in (BetStatus.ACCEPTED, *SETTLED_BET_STATUSES):
            continue  # pending or rejected: never settled here
        outcome = outcome_of(bet, legs[pk])
        if outcome.status is None and bet.status == BetStatus.ACCEPTED:
            unchanged.append((bet, None))
            continue
        if bet.status != BetStatus.ACCEPTED and (
            outcome.status is None or (outcome.status, outcome.payout) == (bet.status, bet.payout)
        ):
            unchanged.append((bet, outcome.outcome_at))
            continue
        plans.append(Plan(bet, legs[pk], outcome, bet.settlement_count + 1, outcome.payout - (bet.payout or 0)))
    _release_unchanged(unchanged)
    without_money = [plan for plan in plans if plan.difference == 0]
    written = _settle_without_money(without_money) if without_money else 0
    paid = [plan for plan in plans if plan.difference > 0]
    for currency in sorted({plan.bet.currency_id for plan in paid}):
        in_currency = [plan for plan in paid if plan.bet.currency_id == currency]
        for start in range(0, len(in_currency), MONEY_BATCH):
            written += _settle_wins(currency, in_currency[start : start + MONEY_BATCH])
    for plan in plans:
        if plan.difference < 0:
            written += _settle_with_money(plan)
    return written


# --- the reads --------------------------------------------------------------------------------------


@dataclass(slots=True)
class BetRead:
    """What settling reads of a bet: the fields of `Bet` it uses, under their names."""

    pk: int
    public_id: str
    player_id: int
    currency_id: str
    stake: int
    potential_payout: int
    status: str
    payout: int | None
    outcome_at: dt.datetime | None
    settlement_count: int


@dataclass(slots=True)
class SelectionRead:
    pk: int
    selection_id: str
    market_id: int
    market: Market


@dataclass(slots=True)
class LegRead:
    """What settling reads of a leg: its price and its selection (with the selection's market)."""

    price: object
    selection: SelectionRead


# A batch's bets with their legs and selections, in one prepared statement: the ORM's instances of
# the three models cost more than the rest of a losing bet's settlement.
_READ_BETS = (
    f"SELECT {', '.join(f'b.{field}' for field in ('id', *_BET_FIELDS))}, l.price, s.id, s.selection_id, "  # noqa: S608 - column names
    "s.market_id FROM sportsbook_bet b JOIN sportsbook_betleg l ON l.bet_id = b.id "
    "JOIN sportsbook_selection s ON s.id = l.selection_id WHERE b.id = ANY(%b) ORDER BY b.id, l.position"
)


def _read_bets(bet_pks: list[int]) -> tuple[dict[int, Bet | BetRead], dict[int, list[BetLeg | LegRead]]]:
    """The bets `bet_pks` and their legs in order, each leg's selection with its market: ({bet
    pk: bet}, {bet pk: legs}). Each market is read once, however many of the bets are on it (one
    market's thousands, typically)."""
    markets = Market.objects.filter(pk__in=BetLeg.objects.filter(bet_id__in=bet_pks).values("market_id"))
    markets = {market.pk: market for market in markets.only(*_MARKET_FIELDS)}
    legs: dict[int, list] = defaultdict(list)
    if connection.vendor != "postgresql":
        bets = {bet.pk: bet for bet in Bet.objects.filter(pk__in=bet_pks).only(*_BET_FIELDS)}
        rows = BetLeg.objects.filter(bet_id__in=bet_pks).select_related("selection").order_by("bet", "position")
        for leg in rows.only("bet_id", "price", "market_id", "selection__selection_id", "selection__market_id"):
            leg.selection.market = markets[leg.selection.market_id]
            legs[leg.bet_id].append(leg)
        return bets, legs
    read: dict[int, BetRead] = {}
    with prepared_cursor() as cursor:
        cursor.execute(_READ_BETS, [list(bet_pks)])
        for *bet, price, selection_pk, selection_id, market_pk in cursor.fetchall():
            if bet[0] not in read:
                read[bet[0]] = BetRead(*bet)
            selection = SelectionRead(selection_pk, selection_id, market_pk, markets[market_pk])
            legs[bet[0]].append(LegRead(price, selection))
    return read, legs


# --- the writes -------------------------------------------------------------------------------------

# A settlement that moves money on its own (a resettlement that takes money back, or a bet of a
# batch of wins rolled back), in one statement on PostgreSQL (a round trip here costs more than the
# statement): the bet's new state if it is still as read, its settlement row and the
# `bets_settled` outbox row, both only if the bet's row was updated. Returns the event's id, or
# NULL when another settlement came first.
_SETTLE_BET = (
    "WITH b AS (UPDATE sportsbook_bet SET status = %s, payout = %s, settlement_count = %s, "  # noqa: S608 - constant
    "outcome_at = %s, settled_at = %s, settle_lease_until = NULL "
    "WHERE id = %s AND status = %s AND settlement_count = %s RETURNING id), "
    "s AS (INSERT INTO sportsbook_betsettlement (bet_id, n, status, payout, difference, outcome, transaction_id, "
    "market_settled_at, settled_at) SELECT id, %s, %s, %s, %s, %s::jsonb, %s, %s, %s FROM b), "
    + events.outbox_cte("%s::jsonb", "FROM b")
    + " SELECT (SELECT id FROM outbox)"
)


# The settlements of a batch, in one statement on PostgreSQL whatever the batch's size: each
# array one column, one element per bet. A bet is written only if it is still as the settler read
# it (its status and count), and its settlement row only if the bet was; the count says how many.
# Its text never varies, so it is prepared once per connection (apps.common.db). The arrays travel
# in binary (`%b`): in text, psycopg escapes each string element with a regular expression, which
# cost more than the statement itself.
_WRITE_SETTLEMENTS = (
    "WITH v AS (SELECT * FROM unnest(%b::bigint[], %b::varchar[], %b::bigint[], %b::integer[], %b::timestamptz[], "
    "%b::varchar[], %b::bigint[], %b::text[], %b::bigint[]) AS v (id, status, payout, n, outcome_at, was, difference, "
    "outcome, tx)), "
    "b AS (UPDATE sportsbook_bet SET status = v.status, payout = v.payout, settlement_count = v.n, "
    "outcome_at = v.outcome_at, settled_at = %s, settle_lease_until = NULL FROM v WHERE sportsbook_bet.id = v.id "
    "AND sportsbook_bet.status = v.was AND sportsbook_bet.settlement_count = v.n - 1 RETURNING sportsbook_bet.id), "
    "s AS (INSERT INTO sportsbook_betsettlement (bet_id, n, status, payout, difference, outcome, transaction_id, "
    "market_settled_at, settled_at) SELECT v.id, v.n, v.status, v.payout, v.difference, v.outcome::jsonb, v.tx, "
    "v.outcome_at, %s FROM v JOIN b ON b.id = v.id ORDER BY v.id) SELECT COUNT(*) FROM b"
)


def _write_settlements(settled: list[tuple[Plan, object]], now: dt.datetime) -> bool:
    """Write the settlements of a batch (each with its transaction, or None for one that moved no
    money), each bet only if it is still as the settler read it; whether every one was written
    (if not, a caller whose batch moved money rolls it back). One statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        return all(_write_settlement(plan, now, tx, event=False) for plan, tx in settled)
    plans = [plan for plan, _ in settled]
    columns = [
        [plan.bet.pk for plan in plans], [plan.outcome.status for plan in plans],
        [plan.outcome.payout for plan in plans], [plan.n for plan in plans],
        [plan.outcome.outcome_at for plan in plans], [plan.bet.status for plan in plans],
        [plan.difference for plan in plans], [json.dumps(plan.outcome.legs) for plan in plans],
        [None if tx is None else tx.pk for _, tx in settled],
    ]  # fmt: skip
    with prepared_cursor() as cursor:
        cursor.execute(_WRITE_SETTLEMENTS, [*columns, now, now])
        return cursor.fetchone()[0] == len(settled)


def _write_settlement(plan: Plan, now: dt.datetime, tx, *, event: bool = True) -> bool:
    """Write a settlement that moved money (`tx`) if the bet is still as the settler read it, and
    its `bets_settled` event; whether it was written."""
    bet, outcome = plan.bet, plan.outcome
    payload = {"bets": [_notice(plan)]}
    if connection.vendor != "postgresql":
        updated = Bet.objects.filter(pk=bet.pk, status=bet.status, settlement_count=plan.n - 1).update(
            status=outcome.status, payout=outcome.payout, settlement_count=plan.n, outcome_at=outcome.outcome_at,
            settled_at=now, settle_lease_until=None,
        )  # fmt: skip
        if updated:
            _settlement_row(plan, now, tx).save(force_insert=True)
            if event:
                send_after_commit(signals.bets_settled, **payload)
        return bool(updated)
    params = [
        outcome.status, outcome.payout, plan.n, outcome.outcome_at, now, bet.pk, bet.status, plan.n - 1,
        plan.n, outcome.status, outcome.payout, plan.difference, json.dumps(outcome.legs), tx.pk,
        outcome.outcome_at, now,
        *events.outbox_params(signals.bets_settled, json.dumps(payload)),
    ]  # fmt: skip
    with prepared_cursor() as cursor:
        cursor.execute(_SETTLE_BET, params)
        event_id = cursor.fetchone()[0]
    if event_id is None:
        return False
    events.dispatch_on_commit(event_id, signals.bets_settled, payload)
    return True


def _release_unchanged(unchanged: list[tuple[Bet, dt.datetime | None]]) -> None:
    """Give back the claims on bets with nothing to write; a settled one's `outcome_at` moves on to
    the results just read, so the claim's rule no longer finds it due (only if still as read).
    One statement per group of bets alike (a market's unchanged bets: one)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for bet, outcome_at in unchanged:
        groups[(bet.status, bet.settlement_count, outcome_at or bet.outcome_at)].append(bet.pk)
    for (status, count, outcome_at), pks in groups.items():
        Bet.objects.filter(pk__in=pks, status=status, settlement_count=count).update(
            settle_lease_until=None, outcome_at=outcome_at
        )


def _settlement_row(plan: Plan, now: dt.datetime, tx=None) -> BetSettlement:
    return BetSettlement(
        bet=plan.bet, n=plan.n, status=plan.outcome.status, payout=plan.outcome.payout, difference=plan.difference,
        outcome=plan.outcome.legs, transaction=tx, market_settled_at=plan.outcome.outcome_at, settled_at=now,
    )  # fmt: skip


def _notice(plan: Plan) -> dict:
    bet = plan.bet
    return {"player_id": str(bet.player_id), "bet_id": bet.public_id, "status": plan.outcome.status,
            "payout": plan.outcome.payout, "currency": bet.currency_id, "settlement": plan.n}  # fmt: skip


def _take_off_exposure(plans: list[Plan]) -> None:
    """Take each first-settled bet's liability off its exposure rows: per currency, the rows
    locked in primary-key order and moved in one statement for all of the bets."""
    by_currency: dict[str, dict[locks.ExposureKey, int]] = defaultdict(lambda: defaultdict(int))
    for plan in plans:
        liability = plan.bet.potential_payout - plan.bet.stake
        if plan.first and liability:
            for key in intake.exposure_keys([leg.selection for leg in plan.legs]):
                by_currency[plan.bet.currency_id][key] -= liability
    for currency, deltas in sorted(by_currency.items()):
        locks.lock_and_move_exposure(currency, deltas)


@transaction.atomic(durable=True)
def _settle_without_money(plans: list[Plan]) -> int:
    """The settlements that move no money (a loss; a resettlement that leaves the payout as it
    was): under the bets' locks, those still as read get their status, payout and settlement row,
    and a first settlement takes the bet off its exposure, all in this one transaction; one
    `bets_settled` event for the batch."""
    now = timezone.now()
    locked = locks.lock_bets([plan.bet.pk for plan in plans])
    plans = [plan for plan in plans if locked.get(plan.bet.pk) == (plan.bet.status, plan.n - 1)]
    if not plans:
        return 0
    # Under the bets' locks, each is still as read: every one is written.
    _write_settlements([(plan, None) for plan in plans], now)
    send_after_commit(signals.bets_settled, bets=[_notice(plan) for plan in plans])
    # Last, just before the commit: the market's and the platform's rows are every bet's.
    _take_off_exposure(plans)
    return len(plans)


def _settle_wins(currency: str, plans: list[Plan]) -> int:
    """Pay the winning bets `plans` (first settlements and resettlements upward) in one wallet
    transaction (`wallet.settle_wins`), one ledger transaction each, with their settlements, their
    events and their exposure in the same commit. If any of them was settled by another settler
    meanwhile (or its wallet id was used with another amount), nothing of the batch is kept and
    each bet is settled on its own instead (`_settle_with_money`), where the other's settlement
    wins. Returns how many settlements were written."""
    now = timezone.now()

    def record(written: list) -> None:
        settled = [(plan, tx) for plan, tx in zip(plans, written, strict=True) if tx is not None]
        if not settled:
            return
        if not _write_settlements(settled, now):
            raise SettlementRaced
        send_after_commit(signals.bets_settled, bets=[_notice(plan) for plan, _ in settled])
        # Last, just before the commit: the market's and the platform's rows are every bet's.
        _take_off_exposure([plan for plan, _ in settled])

    wins = [
        wallet.Win(player_id=plan.bet.player_id, amount=plan.difference, ref=_settlement_ref(plan),
                   round_id=plan.bet.public_id)
        for plan in plans
    ]  # fmt: skip
    try:
        answers = wallet.settle_wins(currency=currency, wins=wins, commit_with=record)
    except (SettlementRaced, PamError, IntegrityError):
        logger.info("sportsbook.settlement_batch_one_by_one", bets=len(plans))
        return sum(_settle_with_money(plan) for plan in plans)
    return sum(1 for answer in answers if not answer.replayed)


def _settlement_ref(plan: Plan) -> ExternalRef:
    """A settlement's wallet id: the bet's and the settlement's number (`<bet id>:settle:<n>`)."""
    bet = plan.bet
    return ExternalRef(
        intake.ORIGIN, f"{bet.public_id}:settle:{plan.n}",
        fingerprint("sportsbook.settlement", {"bet": bet.public_id, "n": plan.n, "difference": plan.difference}),
    )  # fmt: skip


def _settle_with_money(plan: Plan) -> int:
    """One settlement that moves money, in the wallet's transaction: the difference paid
    (`settle_win`) or taken back (`reclaim_win`), and with it (`commit_with`) the bet's new state,
    its settlement row, its exposure (a first settlement) and its `bets_settled` event. Returns 1,
    or 0 when another settlement of the bet came first (its outcome stands)."""
    bet, now = plan.bet, timezone.now()

    def record(tx) -> None:
        if not _write_settlement(plan, now, tx):
            raise SettlementRaced
        # Last, just before the commit: the market's and the platform's rows are every bet's.
        _take_off_exposure([plan])

    ref = _settlement_ref(plan)
    move = wallet.settle_win if plan.difference > 0 else wallet.reclaim_win
    try:
        posted = move(player_id=bet.player_id, currency=bet.currency_id, amount=abs(plan.difference), ref=ref,
                      round_id=bet.public_id, game_id="", commit_with=record)  # fmt: skip
    except (SettlementRaced, wallet_errors.DuplicateTransaction):
        # Another settler wrote this settlement first (DuplicateTransaction: with another
        # outcome, the market's result having changed between the two reads).
        logger.info("sportsbook.settlement_raced", bet=bet.public_id, n=plan.n)
        return 0
    return 0 if posted.replayed else 1
