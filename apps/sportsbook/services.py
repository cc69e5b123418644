"""Writes of the sportsbook: feeds, the feed's batches applied to events, markets and prices, and
the staleness watchdog, and the players' bets (placed through the wallet, pending bets released
after their delay). Every change of a market's prices or status is published after commit
(`signals.markets_changed`, through the outbox) for the odds sockets."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player, User
from apps.accounts.selectors import TokenPlayer
from apps.common import staff_trail
from apps.common.errors import InvalidRequest
from apps.common.events import send_after_commit
from apps.common.idempotency import ExternalRef, fingerprint
from apps.sportsbook import feed as messages
from apps.sportsbook import intake, locks, selectors, settler, signals, timer
from apps.sportsbook.choices import BetStatus, BreakerName, EventStatus, ExposureScope, MarketStatus, RejectReason
from apps.sportsbook.errors import (
    InvalidMessage,
    InvalidThrottleResume,
    MarketNotThrottled,
    MarketSuspended,
    UnknownEvent,
    UnknownMarket,
    UnknownSelection,
)
from apps.sportsbook.models import Bet, Event, Exposure, Feed, Market, Selection, StakeFactor, new_bet_id
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet

logger = structlog.get_logger(__name__)

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

    Sends `markets_changed` after commit with the state of every market the batch changed (and,
    when the feed was stale, of all its markets: their prices are no longer `delayed`), and hands
    the markets whose outcome a `result` set or changed to the settlement after commit
    (settler.py): their bets are paid after the answer, never inside the feed's request.
    """
    feed = locks.lock_feed(feed_id)
    feed.resulted_markets = set()
    now = timezone.now()
    applied = skipped = 0
    changed: dict[int, None] = {}  # the markets whose version moved, in the order they did
    for index, message in enumerate(batch):
        if message.seq <= feed.last_seq:
            skipped += 1
            continue
        try:
            changed.update(dict.fromkeys(_APPLY[type(message)](feed, message, now) or ()))
        except (InvalidMessage, UnknownEvent, UnknownMarket, UnknownSelection) as refusal:
            refusal.details = {"index": index, **refusal.details}
            raise
        feed.last_seq = message.seq
        applied += 1
    # Any authentic batch is word from the feed, resends included: it is no longer stale.
    was_stale, feed.stale_since = feed.stale_since is not None, None
    feed.last_message_at = now
    feed.save(update_fields=["last_seq", "last_message_at", "stale_since"])
    if was_stale:
        publish_markets(feed, _unsettled(feed))
    else:
        publish_markets(feed, changed)
    settler.settle_after_commit(feed.resulted_markets)
    return BatchResult(applied=applied, skipped=skipped)


def _unsettled(feed: Feed) -> list[int]:
    return list(Market.objects.filter(feed=feed).exclude(status=MarketStatus.SETTLED).values_list("pk", flat=True))


def publish_markets(feed: Feed, market_pks: Iterable[int]) -> None:
    """Record `markets_changed` with the markets' states as they are now, in this transaction,
    for after its commit (nothing when there are none). Call it under the feed's lock: a batch
    of the feed publishing at once could otherwise overtake these states with older ones."""
    pks = list(market_pks)
    if pks:
        markets = selectors.market_states(Market.objects.filter(pk__in=pks))
        send_after_commit(signals.markets_changed, feed=feed.code, markets=markets)


def _event(feed: Feed, event_id: str) -> Event:
    event = Event.objects.filter(feed=feed, event_id=event_id).first()
    if event is None:
        raise UnknownEvent(f"The feed has sent no event {event_id!r}.")
    return event


def _market(feed: Feed, market_id: str) -> Market:
    market = Market.objects.select_related("event").filter(feed=feed, market_id=market_id).first()
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


def _apply_market(feed: Feed, message: messages.MarketMessage, now: dt.datetime) -> Collection[int]:
    """Open the market with its prices (version 1), or replace the prices of the selections the
    message lists and add the new ones; a selection it leaves out keeps its price. A settled
    market's prices no longer change. A market opened on an ended event puts it back in play.
    Fresh prices lift the watchdog's suspension (the feed never knew of it), not the feed's own.
    Returns the market's pk if its version moved."""
    market = Market.objects.select_related("event").filter(feed=feed, market_id=message.market_id).first()
    if market is None:
        event = _event(feed, message.event_id)
        market = Market(feed=feed, event=event, market_id=message.market_id, name=message.name, last_word_at=now)
        if event.status != EventStatus.UPCOMING and _held_in_play(feed):
            hold_market(market)  # opened in play while suspend_in_play is on: it opens suspended
        market.save(force_insert=True)
        Selection.objects.bulk_create(
            Selection(market=market, selection_id=priced.selection_id, name=priced.name, price=priced.price,
                      position=position)
            for position, priced in enumerate(message.selections)
        )  # fmt: skip
        if event.status == EventStatus.ENDED:
            # Its markets were all settled, so it has been played; a new one is on sale again.
            event.status = EventStatus.LIVE
            event.save(update_fields=["status", "updated_at"])
        return [market.pk]
    if market.event.event_id != message.event_id:
        raise InvalidMessage(
            f"The market {message.market_id!r} belongs to another event.",
            details={"fields": {"event_id": "is not the event of this market"}},
        )
    market.name, market.last_word_at = message.name, now
    version = market.version
    if market.status != MarketStatus.SETTLED and _reprice(market, message.selections):
        market.version += 1
    if market.watchdog_suspended or market.breaker_suspended:
        if market.event.status == EventStatus.LIVE and _held_in_play(feed):
            market.watchdog_suspended, market.breaker_suspended = False, True  # the breaker's hold now
        else:
            market.status, market.version = MarketStatus.OPEN, version + 1
            market.watchdog_suspended = market.breaker_suspended = False
    market.save(update_fields=["name", "last_word_at", "version", "status", "watchdog_suspended", "breaker_suspended"])
    return [market.pk] if market.version != version else []


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


def _apply_suspend(feed: Feed, message: messages.SuspendMessage, now: dt.datetime) -> Collection[int]:
    """Suspend (or resume) the market, or every market of the event. A suspension records the
    version it gives the market; a market already in that state, or settled, only hears from
    the feed (a suspension of the watchdog's or the liability throttle's becomes the feed's: it
    now waits for `resume`). A `resume` ends the throttle's suspension too. Returns the pks of the
    markets whose version moved."""
    if message.market_id is not None:
        markets = [_market(feed, message.market_id)]
    else:
        event = _event(feed, message.event_id)
        markets = list(event.markets.order_by("pk"))
        for market in markets:
            market.event = event  # known already: no query per market for its status
    before, after = (MarketStatus.SUSPENDED, MarketStatus.OPEN) if message.resume else (
        MarketStatus.OPEN, MarketStatus.SUSPENDED)  # fmt: skip
    moved = []
    for market in markets:
        market.last_word_at = now
        market.watchdog_suspended = market.breaker_suspended = market.throttle_suspended = False
        if (
            message.resume
            and market.status == before
            and market.event.status == EventStatus.LIVE
            and (_held_in_play(feed))
        ):
            # The feed thinks it open from now on and will send no other resume: the breaker holds
            # it, and the feed's next prices after the breaker is off reopen it.
            market.breaker_suspended = True
            continue
        if market.status == before:
            market.status = after
            market.version += 1
            moved.append(market.pk)
            if after == MarketStatus.SUSPENDED:
                market.suspended_version = market.version
    Market.objects.bulk_update(
        markets,
        ["status", "version", "suspended_version", "last_word_at", "watchdog_suspended", "breaker_suspended",
         "throttle_suspended"],
    )  # fmt: skip
    return moved


def _apply_live(feed: Feed, message: messages.LiveMessage, now: dt.datetime) -> Collection[int]:
    """The event is in play. Its markets count as heard from now: the staleness limit runs from
    kick-off, not from the last pre-match price. Under the circuit breakers, kick-off changes what
    its markets show: with suspend_in_play on, its open markets are suspended (version + 1); with
    pre_match_only on, its prices become `delayed`. Returns the pks of the markets to publish."""
    event = _event(feed, message.event_id)
    kicked_off = event.status == EventStatus.UPCOMING
    if kicked_off:
        event.status = EventStatus.LIVE
        event.save(update_fields=["status", "updated_at"])
    event.markets.update(last_word_at=now)
    if not kicked_off or not _breakers(feed).in_play_closed:
        return []
    held = list(event.markets.filter(status=MarketStatus.OPEN).order_by("pk")) if _held_in_play(feed) else []
    for market in held:
        hold_market(market)
    Market.objects.bulk_update(held, ["status", "version", "suspended_version", "breaker_suspended"])
    return list(event.markets.exclude(status=MarketStatus.SETTLED).values_list("pk", flat=True))


def _apply_result(feed: Feed, message: messages.ResultMessage, now: dt.datetime) -> Collection[int]:
    """Record the market's winners and voided selections and mark it settled (a status change:
    version + 1). A later result with another outcome replaces it; one with the same outcome
    changes nothing. When the event's last market is settled, the event has ended. A new outcome
    (the first, or another) puts the market in `feed.resulted_markets`, whose bets are settled
    after the batch commits (settlement.py). Returns the market's pk if its version moved."""
    market = _market(feed, message.market_id)
    known = set(market.selections.values_list("selection_id", flat=True))
    unknown = sorted((set(message.winners) | set(message.void)) - known)
    if unknown:
        raise UnknownSelection(f"The market {message.market_id!r} has no selection {unknown[0]!r}.")
    winners, void = sorted(message.winners), sorted(message.void)
    market.last_word_at = now
    if market.status == MarketStatus.SETTLED and (market.winners, market.void) == (winners, void):
        market.save(update_fields=["last_word_at"])
        return []
    moved = market.status != MarketStatus.SETTLED
    if moved:
        market.status = MarketStatus.SETTLED
        market.version += 1
    market.winners, market.void, market.settled_at = winners, void, now
    feed.resulted_markets.add(market.pk)
    market.watchdog_suspended = market.breaker_suspended = False
    market.save(update_fields=["status", "version", "winners", "void", "settled_at", "last_word_at",
                               "watchdog_suspended", "breaker_suspended"])  # fmt: skip
    event = market.event
    if event.status != EventStatus.ENDED and not event.markets.exclude(status=MarketStatus.SETTLED).exists():
        event.status = EventStatus.ENDED
        event.save(update_fields=["status", "updated_at"])
    return [market.pk] if moved else []


def _apply_heartbeat(feed: Feed, message: messages.HeartbeatMessage, now: dt.datetime) -> None:
    """Nothing beyond the feed's `last_message_at`, which every batch moves."""


# --- the circuit breakers, as a feed's batch meets them (breakers.py) --------------------------------


def _breakers(feed: Feed) -> selectors.BreakerState:
    """The breakers' state, read once per batch and only by a message that needs it (a price
    update of an open market does not): a repricing keeps its round trips."""
    if not hasattr(feed, "_breakers"):
        feed._breakers = selectors.get_breaker_state()
    return feed._breakers


def _held_in_play(feed: Feed) -> bool:
    """Whether suspend_in_play is on: no in-play market of the feed may open."""
    return _breakers(feed).is_on(BreakerName.SUSPEND_IN_PLAY)


def hold_market(market: Market) -> None:
    """Suspend the open `market` for the suspend_in_play breaker (version + 1, `suspended_version`,
    `breaker_suspended`), unsaved; a market not yet saved opens suspended at version 1."""
    market.status, market.breaker_suspended, market.watchdog_suspended = MarketStatus.SUSPENDED, True, False
    if market.pk is not None:
        market.version += 1
    market.suspended_version = market.version


# Each returns the pks of the markets whose version it moved (None: none).
_APPLY: dict[type, Callable[[Feed, object, dt.datetime], Collection[int] | None]] = {
    messages.EventMessage: _apply_event,
    messages.MarketMessage: _apply_market,
    messages.SuspendMessage: _apply_suspend,
    messages.LiveMessage: _apply_live,
    messages.ResultMessage: _apply_result,
    messages.HeartbeatMessage: _apply_heartbeat,
}


# --- the staleness watchdog ----------------------------------------------------------------------


def suspend_stale_feeds(*, now: dt.datetime | None = None) -> int:
    """Find the feeds silent for SPORTSBOOK_STALE_AFTER_SECONDS (no batch: no price, heartbeat or
    message) and not yet found so; returns how many were. Each one, in a transaction of its own
    under its lock: it is marked stale (`stale_since`), its in-play markets that are open are
    suspended by PAM (version + 1, `suspended_version`, `watchdog_suspended`), and
    `markets_changed` is sent after commit with every unsettled market of it, `delayed`.

    Safe to run in several processes at once: the feed's lock orders them and the second finds
    the feed stale already, or a batch that arrived meanwhile (nothing to do)."""
    now = timezone.now() if now is None else now
    cutoff = now - dt.timedelta(seconds=settings.SPORTSBOOK_STALE_AFTER_SECONDS)
    silent = Feed.objects.filter(stale_since__isnull=True, last_message_at__lte=cutoff).values_list("pk", flat=True)
    return sum(_mark_stale(pk, cutoff=cutoff, now=now) for pk in list(silent))


@transaction.atomic(durable=True)
def _mark_stale(feed_pk: int, *, cutoff: dt.datetime, now: dt.datetime) -> int:
    feed = locks.lock_feed(feed_pk)
    if feed.stale_since is not None or feed.last_message_at is None or feed.last_message_at > cutoff:
        return 0
    feed.stale_since = now
    feed.save(update_fields=["stale_since"])
    in_play = list(
        Market.objects.filter(feed=feed, status=MarketStatus.OPEN, event__status=EventStatus.LIVE).order_by("pk")
    )
    for market in in_play:
        market.status, market.watchdog_suspended = MarketStatus.SUSPENDED, True
        market.version += 1
        market.suspended_version = market.version
    Market.objects.bulk_update(in_play, ["status", "version", "suspended_version", "watchdog_suspended"])
    publish_markets(feed, _unsettled(feed))
    logger.warning("sportsbook.feed_stale", feed=feed.code, silent_since=feed.last_message_at.isoformat(),
                   suspended=len(in_play))  # fmt: skip
    return 1


def beat_demo_feed() -> int:
    """Apply a heartbeat to the feed named by SPORTSBOOK_DEMO_FEED, as if the feed had sent it; 1
    when one was applied, 0 when no demo feed is named (no query) or it does not exist.

    For a feed with no process behind it (`make run`'s demo, a tick of the embedded server): it
    keeps the feed from going stale, so its live event is not suspended by the watchdog, and it
    moves no price. Its `seq` is the feed's next, read outside the feed's lock: a batch racing it
    takes that number first and the heartbeat is skipped as a resend (the next comes within
    seconds), but a heartbeat that wins makes a real feed's own message of that number a resend,
    so a feed that really sends must never be named."""
    code = settings.SPORTSBOOK_DEMO_FEED
    if not code:
        return 0
    feed = selectors.get_feed(code)
    if feed is None:
        return 0
    apply_feed_batch(feed_id=feed.pk, batch=[messages.HeartbeatMessage(seq=feed.last_seq + 1)])
    return 1


# --- bets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A placement's answer: the bet, and whether this was a replay of its Idempotency-Key. A new
    bet is the values written (`intake.TakenBet`); a replay's is read back (`Bet`)."""

    bet: intake.TakenBet | Bet
    replayed: bool


def _stake_ref(player_id: int, idempotency_key: str, request_fingerprint: str) -> ExternalRef:
    """The stake's wallet id: the player's key, hashed to fit the ledger's column, so that two
    requests with one key race to the same ledger row and only one stake is ever taken."""
    key = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return ExternalRef(intake.ORIGIN, f"bet:{player_id}:{key}", request_fingerprint)


def _replay_of(player_id: int, idempotency_key: str, request_fingerprint: str) -> Bet | None:
    bet = Bet.objects.filter(player_id=player_id, idempotency_key=idempotency_key).first()
    if bet is not None and bet.request_fingerprint != request_fingerprint:
        raise wallet_errors.DuplicateTransaction("This Idempotency-Key was used with another body.")
    return bet


def place_bet(
    *, player: Player | TokenPlayer, idempotency_key: str, stake: int, currency: str, legs: list[intake.LegRequest],
    accept_price_changes: str, read: intake.SlipRead | None = None,
) -> Placed:  # fmt: skip
    """Take a single (one leg) or an accumulator for `player` (its `pk` and `currency_id` are what
    is read of it; `read`: its slip as `intake.read_slip` read it, when the caller has): the stake
    through the wallet's `place_bet`
    (origin `sportsbook`, the bet's id as its round), the exposure and the bet's rows in the same
    transaction (intake.py). An in-play slip (a leg's event live with a delay) is `pending`: its
    stake is held in the pending-bets account until `release_pending_bet`; otherwise `accepted`.

    The same key and body again: the first bet (replayed, nothing moves); another body:
    DuplicateTransaction. Raises UnknownBetSelection, MarketSettled, MarketSuspended (an in-play
    leg too while the circuit breakers refuse in-play betting: intake.in_play_refused),
    PriceChanged, StakeTooHigh, and the wallet's CurrencyMismatch, InsufficientFunds and
    compliance's PlayerBlocked / LimitReached; a refusal moves nothing and writes nothing.
    """
    body = {
        "stake": stake, "currency": currency, "accept_price_changes": accept_price_changes,
        "legs": [[leg.selection_id, f"{leg.price:.2f}", leg.market_version] for leg in legs],
    }  # fmt: skip
    request_fingerprint = fingerprint("sportsbook.bet", body)
    # The legs, the player's stake factor and the breakers' state (what breakers.state() returns;
    # breakers.py imports this module) in one statement, before the money transaction: a query
    # less inside it, and no weaker for it, since neither place locks the breakers. Whether a
    # leg is in play is decided in the participant, on the event as it is under the player's lock.
    if read is None:
        read = intake.read_slip(legs, player_id=player.pk, currency=player.currency_id)
    in_play_closed = intake.in_play_refused(selectors.BreakerState(on=read.breakers_on))
    slip = intake.Slip(
        public_id=new_bet_id(), player_id=player.pk, currency=currency, stake=stake, legs=legs,
        accept_price_changes=accept_price_changes, idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        stake_factor=Decimal(1) if read.stake_factor is None else read.stake_factor,
        held=intake.in_play_delay(read.legs) > 0, in_play_closed=in_play_closed, read=read.legs,
    )  # fmt: skip
    # A replay of the key is the wallet's to find: the stake's id is the key's, and the wallet
    # answers the first stake (or DuplicateTransaction for another body) before the participant
    # runs, so a replay moves nothing and writes nothing.
    ref = _stake_ref(player.pk, idempotency_key, request_fingerprint)
    opened = flipped = False
    if not read.exposure_open:
        # The first bet on these targets: their exposure rows are made in a transaction of their
        # own (locks.py says why) before the money's. The player's currency: another one is
        # refused by the wallet (CURRENCY_MISMATCH).
        locks.open_exposure(player.currency_id, intake.exposure_keys_of(leg.targets for leg in read.legs))
        opened = True
    while True:
        try:
            posted = wallet.place_bet(
                player_id=player.pk, currency=currency, amount=stake, ref=ref, round_id=slip.public_id, game_id="",
                held=slip.held, detail=slip, statement=intake.statement_of(slip),
            )  # fmt: skip
            break
        except locks.ExposureNotOpen:
            # A row missing still (deleted since the look above, which no code does today): made
            # as above, then the slip is placed again.
            if opened:
                raise
            locks.open_exposure(player.currency_id, intake.exposure_keys_of(leg.targets for leg in read.legs))
            opened = True
        except intake.LegsMoved:
            # A leg's market moved between the read above and the bet's write: once more, the
            # legs read under the player's lock (which cannot raise this again).
            slip.read = None
        except intake.HoldChanged:
            # An event went in play (or its delay changed) since the look above: once more, held
            # as it is now; a second change in a row is a feed flapping, refused as suspended.
            if flipped:
                raise MarketSuspended("A market of the slip changed state during the placement; try again.") from None
            slip.held, flipped = not slip.held, True
    if posted.replayed or slip.bet is None:
        return Placed(_replay_of(player.pk, idempotency_key, request_fingerprint), replayed=True)
    _after_placement(slip)
    return Placed(slip.bet, replayed=False)


def _after_placement(slip: intake.Slip) -> None:
    """Once the bet has committed (the wallet's transaction is durable: at once, unless a test
    holds an outer one): hand a pending bet to this process's release timer. (The markets whose
    liability throttle it crossed are suspended through the outbox: `signals.markets_throttled`.)"""
    bet = slip.bet
    if bet.status == BetStatus.PENDING:
        transaction.on_commit(lambda: timer.schedule_release(bet.pk, bet.release_at), robust=True)


def release_pending_bet(*, bet_id: int, now: dt.datetime | None = None) -> Bet:
    """Decide a pending bet whose delay has run out, against its markets as they are now:
    `rejected` with its reason (MARKET_SETTLED; MARKET_SUSPENDED: suspended now, or since the
    version the player saw, or in play while the circuit breakers refuse in-play betting;
    PRICE_CHANGED: a price now worse than the one taken), its stake back
    to the player and its exposure taken off; else `accepted`, its stake on to the house. The
    status, the exposure and the money commit together (the wallet's `release_held_bet`).

    Idempotent and harmless to repeat: a bet that is not pending, or not yet due, is returned as
    it is; two releases racing move the money once (the wallet's id of the release is the bet's)
    and the second is answered with the first's outcome."""
    now = now or timezone.now()
    bet = Bet.objects.get(pk=bet_id)
    if bet.status != BetStatus.PENDING or bet.release_at > now:
        return bet
    legs = list(bet.legs.select_related("selection__market__event").order_by("position"))
    # A pending bet is not taken yet: a breaker that closed in-play betting during its delay
    # refuses it as it would refuse the slip now.
    in_play_closed = intake.in_play_refused(selectors.get_breaker_state())
    reason = None
    for leg in legs:
        seen = intake.LegRequest(leg.selection.selection_id, leg.price, leg.market_version)
        refusal = intake.refusal_of(intake.LegRow.of(leg.selection), seen, None, in_play_closed=in_play_closed)
        if refusal is not None:
            reason = RejectReason(refusal.code)
            break

    def record(tx) -> None:
        status = BetStatus.ACCEPTED if reason is None else BetStatus.REJECTED
        updated = Bet.objects.filter(pk=bet.pk, status=BetStatus.PENDING).update(
            status=status, reject_reason=reason or "", decided_at=now
        )
        if updated and reason is not None:
            liability = bet.potential_payout - bet.stake
            keys = intake.exposure_keys([leg.selection for leg in legs])
            locks.lock_and_move_exposure(bet.currency_id, dict.fromkeys(keys, -liability))

    # DuplicateTransaction: released the other way by a release that committed first, whose
    # outcome stands.
    with contextlib.suppress(wallet_errors.DuplicateTransaction):
        wallet.release_held_bet(
            player_id=bet.player_id, currency=bet.currency_id, held_external_id=bet.stake_transaction.external_id,
            origin=intake.ORIGIN, accept=reason is None, commit_with=record,
        )  # fmt: skip
    return Bet.objects.get(pk=bet_id)


def release_due_bets(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Release the pending bets whose delay has run out, soonest first, at most `limit`
    (SPORTSBOOK_RELEASE_BATCH): the sweep (apps.common.sweeps) that decides in-play bets. Returns
    how many it decided."""
    now = now or timezone.now()
    due = Bet.objects.filter(status=BetStatus.PENDING, release_at__lte=now).order_by("release_at", "pk")
    decided = 0
    for bet_id in due.values_list("pk", flat=True)[: limit or settings.SPORTSBOOK_RELEASE_BATCH]:
        if release_pending_bet(bet_id=bet_id, now=now).status != BetStatus.PENDING:
            decided += 1
    return decided


# --- the liability throttle ----------------------------------------------------------------------

THROTTLE_ACTOR = "throttle"
MARKET_THROTTLED = "sportsbook.market.throttle_suspend"
MARKET_THROTTLE_RESUMED = "sportsbook.market.throttle_resume"


def suspend_throttled_markets(*, market_pks: Iterable[int], crossed_at: dt.datetime | None = None) -> list[int]:
    """Suspend each market whose liability throttle a bet crossed (at `crossed_at`), each in a
    transaction of its own (`suspend_throttled_market`), then look at the breakers' throttle
    trigger (`breakers.check_throttle_trigger`); returns the pks of those it suspended. Called
    after the bet's commit (the receiver of `signals.markets_throttled`), never inside a money
    transaction: it takes the feeds' locks."""
    suspended = [pk for pk in market_pks if suspend_throttled_market(market_pk=pk, crossed_at=crossed_at)]
    if suspended:
        # breakers.py builds on this module (it suspends markets through it): imported here.
        from apps.sportsbook import breakers

        breakers.check_throttle_trigger()
    return suspended


@transaction.atomic(durable=True)
def suspend_throttled_market(*, market_pk: int, crossed_at: dt.datetime | None = None) -> bool:
    """Suspend the market for the liability throttle, as the feed suspends one: version + 1,
    `suspended_version` that version (a slip priced before is refused MARKET_SUSPENDED even after
    it resumes), `throttle_suspended`; published after commit and recorded in the staff trail as
    the system's (`throttle`). Under the feed's lock, as every write of its markets. A market that
    is not open (suspended by anyone meanwhile, or settled) is left as it is: False; so is one the
    throttle suspended at or after `crossed_at` (the crossing was answered already: a repeat of
    its event must not undo a staff member's reopening)."""
    feed_pk = Market.objects.filter(pk=market_pk).values_list("feed_id", flat=True).first()
    if feed_pk is None:
        return False
    feed = locks.lock_feed(feed_pk)
    market = Market.objects.get(pk=market_pk)
    if market.status != MarketStatus.OPEN:
        return False
    if crossed_at is not None and market.throttled_at is not None and market.throttled_at >= crossed_at:
        return False
    before = {"status": market.status, "version": market.version}
    market.status, market.throttle_suspended, market.throttled_at = MarketStatus.SUSPENDED, True, timezone.now()
    market.version += 1
    market.suspended_version = market.version
    market.save(update_fields=["status", "version", "suspended_version", "throttle_suspended", "throttled_at"])
    publish_markets(feed, [market.pk])
    window = settings.SPORTSBOOK_THROTTLE["window_s"]
    staff_trail.record_staff_action(
        actor=None, system_actor=THROTTLE_ACTOR, action=MARKET_THROTTLED, target=market, before=before,
        after={"status": market.status, "version": market.version},
        reason=f"bets took more liability on the market within {window:g} s than the throttle allows",
    )  # fmt: skip
    logger.warning("sportsbook.market_throttled", market=market.market_id, feed=feed.code, version=market.version)
    return True


@transaction.atomic
def resume_throttled_market(*, market_pk: int, reason: str, acting_user: User | None) -> Market:
    """A staff member reopens a market the liability throttle suspended (version + 1, published),
    with a reason: a `sportsbook.market.throttle_resume` staff action. In play while the
    suspend_in_play breaker is on, the breaker holds it instead (suspended, `breaker_suspended`:
    its feed's next prices after the breaker reopen it). Raises InvalidThrottleResume without a
    reason, MarketNotThrottled when the throttle's suspension is not (or no longer) what holds it."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidThrottleResume
    feed_pk = Market.objects.filter(pk=market_pk).values_list("feed_id", flat=True).first()
    if feed_pk is None:
        raise MarketNotThrottled
    feed = locks.lock_feed(feed_pk)
    market = Market.objects.select_related("event").get(pk=market_pk)
    if not market.throttle_suspended or market.status != MarketStatus.SUSPENDED:
        raise MarketNotThrottled
    before = {"status": market.status, "version": market.version, "throttle_suspended": True}
    market.throttle_suspended = False
    if market.event.status == EventStatus.LIVE and _held_in_play(feed):
        market.breaker_suspended = True
    else:
        market.status = MarketStatus.OPEN
        market.version += 1
    market.save(update_fields=["status", "version", "throttle_suspended", "breaker_suspended"])
    if market.status == MarketStatus.OPEN:
        publish_markets(feed, [market.pk])
    staff_trail.record_staff_action(
        actor=acting_user, action=MARKET_THROTTLE_RESUMED, target=market, before=before,
        after={"status": market.status, "version": market.version, "throttle_suspended": False}, reason=reason,
    )  # fmt: skip
    return market


# --- limits set by staff -------------------------------------------------------------------------

STAKE_FACTOR_SET = "sportsbook.stake_factor"
EXPOSURE_CAP_SET = "sportsbook.exposure_cap"


@transaction.atomic
def set_stake_factor(*, player: Player, factor: Decimal, reason: str, acting_user: User | None) -> StakeFactor:
    """Set the player's stake factor (0 to 1000; 1: the platform's per-bet liability), with a
    reason, as a staff action. InvalidRequest outside the range or without a reason."""
    if not Decimal(0) <= factor <= Decimal(1000) or not reason.strip():
        raise InvalidRequest("A stake factor is 0 to 1000, with a reason.")
    row = locks.lock_stake_factor(player.pk)
    before = {"factor": None if row is None else str(row.factor)}
    if row is None:
        row = StakeFactor(player=player)
    row.factor, row.reason = factor, reason.strip()
    row.save()
    staff_trail.record_staff_action(
        actor=acting_user, action=STAKE_FACTOR_SET, target=("accounts.player", str(player.pk)), before=before,
        after={"factor": str(factor)}, reason=reason.strip(),
    )  # fmt: skip
    return row


@transaction.atomic
def set_exposure_cap(
    *, scope: str, target_id: int, currency: str, cap: int | None, reason: str, acting_user: User | None
) -> Exposure:
    """Give one selection, market or event (or the platform, target 0) its own cap in minor units of
    `currency`, or None to follow the settings' default again, as a staff action. Bets standing
    over a lowered cap stay; new ones are refused until it is back under. InvalidRequest for a
    negative cap, an unknown scope, a platform target other than 0, or no reason."""
    platform = scope == ExposureScope.PLATFORM
    if (
        (cap is not None and cap < 0)
        or not reason.strip()
        or scope not in ExposureScope.values
        or (platform and target_id != 0)
    ):
        raise InvalidRequest("A cap is a scope, a non-negative amount or none, and a reason.")
    Exposure.objects.bulk_create([Exposure(scope=scope, target_id=target_id, currency_id=currency)],
                                 ignore_conflicts=True)  # fmt: skip
    pk = Exposure.objects.get(scope=scope, target_id=target_id, currency_id=currency).pk
    row = locks.lock_exposure_row(pk)
    before = {"cap": row.cap}
    row.cap = cap
    row.save(update_fields=["cap"])
    staff_trail.record_staff_action(
        actor=acting_user, action=EXPOSURE_CAP_SET, target=row, before=before, after={"cap": cap},
        reason=reason.strip(),
    )  # fmt: skip
    return row
