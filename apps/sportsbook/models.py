"""The sportsbook's markets, as odds feeds describe them.

Design overview
---------------
A `Feed` is an odds provider that sends PAM signed batches of messages (contracts/sportsbook.md).
Its `secret` keys the HMAC of each batch, so it is stored as given, like a game provider's (it
can't be hashed; the staff trail records it redacted). `last_seq` is the highest message number
applied: a message at or below it is a resend and is skipped.

An `Event` (a match) holds `Market`s (match odds, over/under 2.5 …), each holding `Selection`s
(home, draw, away) with a price: decimal odds with two places, a `DecimalField`, never a float
(`odds.py` converts it to the other formats exactly). Every external id is the feed's own and is
unique within the feed (an event's, a market's) or within its market (a selection's).

A market's `version` grows by one with each applied message that changes its prices or its
status, so a price a player saw is named by (market, version). `suspended_version` is the version
the market's last suspension gave it: a bet priced at an older version was priced before that
suspension (a goal, say) and must never stand, even after `resume`. `last_word_at` is when the
feed last said anything of the market.

The staleness watchdog (`services.suspend_stale_feeds`) judges a feed by `last_message_at`: every
authentic batch moves it, heartbeats included. A feed silent for the limit gets `stale_since`
(its prices are served as cached, `delayed`) and its in-play markets are suspended by PAM itself,
`watchdog_suspended`: the feed does not know of that suspension, so its next prices for the
market lift it, where a suspension of its own waits for its `resume`.

The circuit breakers (`Breaker`, one row per `BreakerName`) are operator switches: a staff
member asks for a change (`BreakerRequest`) and another one approves it (four eyes, in the table
too); an automatic trigger turns one on at once as the system, never off (`breakers.py`).
`breaker_suspended` marks a market the `suspend_in_play` breaker suspended (or holds suspended
against the feed's `resume`): like the watchdog's, its suspension is lifted by the feed's next
prices once the breaker is off.

`throttle_suspended` marks a market the liability throttle suspended: bets took more liability on
it within the throttle's window than the throttle allows (`Exposure.window_amount`, intake.py).
Unlike the watchdog's, that suspension is not lifted by fresh prices (they say nothing of the
book's liability): the feed's `resume` or a staff member (`services.resume_throttled_market`)
lifts it.

A `result` records the winners and the voided selections on the market and marks it settled;
its bets are then settled (`settlement.py`): each settlement of a bet is a `BetSettlement` row (the
payout, the difference it moved and its ledger transaction), the bet keeps its status and payout,
and `SettledMarket` records a market whose bets are all settled at its current result.

A player's `Bet` (a single, or an accumulator of legs on different markets) holds its stake and
its potential payout (stake x the product of the prices taken, rounded down) in minor units of
the player's currency, and the wallet transaction that took the stake: the bet row is written in
that transaction, by the sportsbook's participant of the wallet's STAKE moment (`intake.py`). Its
`BetLeg`s name the selection, the price taken and the market version the player saw. `Exposure`
holds, per selection, market, event and the platform (per currency), what the bets standing on
it would cost the book (payouts minus stakes), updated with each stake under the row's lock, and
an optional `cap` for that one target (the platform's defaults are settings). `StakeFactor`
scales one player's per-bet liability.

Only `services.py` writes these rows, always under the lock of their feed's row (`locks.py`). The
database refuses what no state may hold: CHECKs on every status, price, version and delay, the
external ids unique, and on PostgreSQL a market's feed is its event's (a composite foreign key,
migration 0002).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Currency, Player
from apps.sportsbook.choices import (
    SETTLED_BET_STATUSES,
    BetStatus,
    BreakerName,
    BreakerRequestStatus,
    EventStatus,
    ExposureScope,
    MarketStatus,
    PriceChanges,
    RejectReason,
)
from apps.wallet.models import Transaction

# The largest in-play delay a feed may ask for: a bet held longer is no longer a bet on the
# price it was placed at.
MAX_IN_PLAY_DELAY_S = 600


class Feed(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    secret = models.CharField(max_length=256)
    last_seq = models.BigIntegerField(default=0, help_text="the highest message number applied")
    last_message_at = models.DateTimeField(null=True, blank=True, help_text="when the feed last sent a batch")
    stale_since = models.DateTimeField(
        null=True, blank=True, help_text="when the watchdog found it silent; empty while it talks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(secret=""), name="sportsbook_feed_secret_set"),
            models.CheckConstraint(condition=Q(last_seq__gte=0), name="sportsbook_feed_last_seq_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class Event(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=100, help_text="the feed's id for the event")
    name = models.CharField(max_length=200)
    sport = models.CharField(max_length=50)
    starts_at = models.DateTimeField()
    in_play_delay_s = models.PositiveIntegerField(default=0, help_text="seconds an in-play bet waits")
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.UPCOMING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["status", "starts_at"], name="sportsbook_event_listing")]
        constraints = [
            models.UniqueConstraint(fields=["feed", "event_id"], name="sportsbook_event_id_unique_per_feed"),
            # What the markets' composite foreign key (event, feed) refers to (migration 0002).
            models.UniqueConstraint(fields=["id", "feed"], name="sportsbook_event_id_feed_unique"),
            models.CheckConstraint(
                condition=Q(status__one_of=EventStatus.values), name="sportsbook_event_status_known"
            ),
            models.CheckConstraint(
                condition=Q(in_play_delay_s__gte=0, in_play_delay_s__lte=MAX_IN_PLAY_DELAY_S),
                name="sportsbook_event_in_play_delay_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Market(models.Model):
    # The event's feed, kept beside the event so that a market's id is unique per feed in the
    # database (suspend, resume and result name a market by its id alone).
    feed = models.ForeignKey(Feed, on_delete=models.PROTECT, related_name="markets")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="markets")
    market_id = models.CharField(max_length=100, help_text="the feed's id for the market")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=MarketStatus.choices, default=MarketStatus.OPEN)
    version = models.BigIntegerField(default=1, help_text="+1 with each change of its prices or status")
    suspended_version = models.BigIntegerField(default=0, help_text="the version its last suspension gave it")
    last_word_at = models.DateTimeField(help_text="when the feed last said anything of this market")
    watchdog_suspended = models.BooleanField(
        default=False, db_default=False, help_text="suspended by PAM's staleness watchdog, not by the feed"
    )
    breaker_suspended = models.BooleanField(
        default=False, db_default=False, help_text="suspended (or held suspended) by the suspend_in_play breaker"
    )
    throttle_suspended = models.BooleanField(
        default=False, db_default=False, help_text="suspended by the liability throttle: its exposure grew too fast"
    )
    throttled_at = models.DateTimeField(
        null=True, blank=True, help_text="when the liability throttle last suspended it"
    )
    # The last result: selection ids, sorted (its bets are settled on it: settlement.py).
    winners = models.JSONField(default=list, blank=True)
    void = models.JSONField(default=list, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, help_text="when its last result changed it")

    class Meta:
        ordering = ["event", "id"]
        permissions = [("resume_throttled_market", "Can resume a market the liability throttle suspended")]
        constraints = [
            models.UniqueConstraint(fields=["feed", "market_id"], name="sportsbook_market_id_unique_per_feed"),
            models.CheckConstraint(
                condition=Q(status__one_of=MarketStatus.values), name="sportsbook_market_status_known"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="sportsbook_market_version_positive"),
            models.CheckConstraint(
                condition=Q(suspended_version__gte=0, suspended_version__lte=F("version")),
                name="sportsbook_market_suspended_version_range",
            ),
            # A suspended market was suspended at some version.
            models.CheckConstraint(
                condition=~Q(status=MarketStatus.SUSPENDED) | Q(suspended_version__gte=1),
                name="sportsbook_market_suspension_recorded",
            ),
            models.CheckConstraint(
                condition=Q(watchdog_suspended=False) | Q(status=MarketStatus.SUSPENDED),
                name="sportsbook_market_watchdog_suspension_is_a_suspension",
            ),
            # One of PAM's suspensions at a time: whichever lifts it, the market reopens once.
            models.CheckConstraint(
                condition=Q(breaker_suspended=False) | Q(status=MarketStatus.SUSPENDED, watchdog_suspended=False),
                name="sportsbook_market_breaker_suspension_is_a_suspension",
            ),
            # The throttle's suspension is the only one a market has while it holds it; a result
            # may settle a market it suspended (the flag then records that it was).
            models.CheckConstraint(
                condition=Q(throttle_suspended=False)
                | Q(status=MarketStatus.SUSPENDED, watchdog_suspended=False, breaker_suspended=False)
                | Q(status=MarketStatus.SETTLED),
                name="sportsbook_market_throttle_suspension_is_a_suspension",
            ),
            models.CheckConstraint(
                condition=Q(status=MarketStatus.SETTLED, settled_at__isnull=False)
                | (~Q(status=MarketStatus.SETTLED) & Q(settled_at__isnull=True)),
                name="sportsbook_market_settled_when_resulted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.name}: {self.name}"


class Selection(models.Model):
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="selections")
    selection_id = models.CharField(max_length=100, help_text="the feed's id for the selection")
    name = models.CharField(max_length=200)
    # Decimal odds, two places: 99999.99 at most (odds.MAX_PRICE), above 1.
    price = models.DecimalField(max_digits=7, decimal_places=2)
    # Where the feed listed it in the market, for showing the selections in the feed's order.
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["market", "position", "id"]
        # A bet slip names its selections by the feed's id alone (intake.read_legs).
        indexes = [models.Index(fields=["selection_id"], name="sportsbook_selection_feed_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "selection_id"], name="sportsbook_selection_id_unique_per_market"
            ),
            models.CheckConstraint(condition=Q(price__gt=1), name="sportsbook_selection_price_above_one"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.price}"


# --- circuit breakers --------------------------------------------------------------------------------


class Breaker(models.Model):
    """One circuit breaker's state and its last change: who (`changed_by`; empty with a
    `changed_at`: the system's automatic trigger), why and when, and the request approved for it."""

    name = models.CharField(max_length=32, primary_key=True, choices=BreakerName.choices)
    is_on = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="empty: never changed")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="the approver; empty once changed: the automatic trigger",
    )  # fmt: skip
    reason = models.TextField(blank=True)
    request = models.ForeignKey(
        "BreakerRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="the approved request of its last change; empty: the automatic trigger's",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(name__one_of=BreakerName.values), name="sportsbook_breaker_name_known"),
            models.CheckConstraint(
                condition=Q(is_on=False) | Q(changed_at__isnull=False), name="sportsbook_breaker_on_when_changed"
            ),
            # The system only ever turns a breaker on: off is always a person's approved request.
            models.CheckConstraint(
                condition=Q(changed_at__isnull=True)
                | Q(changed_by__isnull=False, request__isnull=False)
                | Q(changed_by__isnull=True, request__isnull=True, is_on=True),
                name="sportsbook_breaker_off_by_approval",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {'on' if self.is_on else 'off'}"


class BreakerRequest(models.Model):
    """A staff member's request to turn a breaker on or off, with a reason, until another staff
    member approves or rejects it (`breakers.request_change`, `approve_change`, `reject_change`)."""

    breaker = models.ForeignKey(Breaker, on_delete=models.PROTECT, related_name="requests")
    turn_on = models.BooleanField(help_text="on (true) or off (false)")
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=BreakerRequestStatus.choices, default=BreakerRequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, help_text="why it was rejected")

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("approve_breakerrequest", "Can approve or reject another staff member's circuit-breaker change")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__one_of=BreakerRequestStatus.values), name="sportsbook_breaker_request_status_known"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="sportsbook_breaker_request_has_reason"),
            models.CheckConstraint(
                condition=Q(status=BreakerRequestStatus.PENDING, decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status=BreakerRequestStatus.PENDING) & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="sportsbook_breaker_request_decided_when_not_pending",
            ),
            # Four eyes, in the table too: whoever decides is not whoever asked.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="sportsbook_breaker_request_four_eyes",
            ),
            # One open question per breaker: two pending requests could contradict each other.
            models.UniqueConstraint(
                fields=["breaker"],
                condition=Q(status=BreakerRequestStatus.PENDING),
                name="sportsbook_breaker_one_pending_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.breaker_id} {'on' if self.turn_on else 'off'} ({self.status})"


def new_bet_id() -> str:
    return f"bet_{secrets.token_hex(12)}"


class Bet(models.Model):
    # Unique by a constraint (Meta), not `unique=True`: on PostgreSQL that adds a second index for
    # `LIKE 'prefix%'` look-ups, which nothing makes, and every bet would pay its insert.
    public_id = models.CharField(max_length=40, default=new_bet_id, editable=False)
    # No index of their own, as in the ledger: a player's bets are found through
    # `sportsbook_bet_player_idx` (player, id), and nothing looks bets up by currency. On
    # PostgreSQL one foreign key, `(player_id, currency_id)` to the player's `(id, currency_id)`
    # (migration 0012), as the ledger's transactions: a bet is in its player's currency.
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    stake = models.BigIntegerField(help_text="minor units")
    potential_payout = models.BigIntegerField(help_text="stake x the product of the prices taken, rounded down")
    status = models.CharField(max_length=16, choices=BetStatus.choices)
    reject_reason = models.CharField(max_length=32, choices=RejectReason.choices, blank=True)
    accept_price_changes = models.CharField(max_length=8, choices=PriceChanges.choices)
    # The player's Idempotency-Key, and the fingerprint of the body it came with.
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    # The wallet transaction that took the stake (to the house, or held while pending).
    stake_transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    # An in-play bet's end of delay: when it is re-checked (null: accepted when placed).
    release_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True, help_text="when a pending bet was accepted or rejected")
    # Settlement (settlement.py): what its last settlement paid in all, when, on the results of
    # which moment (the latest result time of its markets it was computed from: a market whose
    # result is newer resettles it), and how many settlements it has had (its BetSettlement rows).
    payout = models.BigIntegerField(null=True, blank=True, help_text="minor units; empty until settled")
    settled_at = models.DateTimeField(null=True, blank=True, help_text="when its last settlement was")
    outcome_at = models.DateTimeField(
        null=True, blank=True, help_text="the latest result of its markets its settlement is based on"
    )
    settlement_count = models.PositiveIntegerField(default=0, db_default=0)
    # A settler's claim (locks.claim_bets_to_settle): other settlers leave the bet alone until then.
    settle_lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="sportsbook_bet_public_id_unique"),
            models.UniqueConstraint(fields=["player", "idempotency_key"], name="sportsbook_bet_key_per_player"),
            models.CheckConstraint(condition=Q(stake__gt=0), name="sportsbook_bet_stake_positive"),
            models.CheckConstraint(
                condition=Q(potential_payout__gte=F("stake")), name="sportsbook_bet_payout_covers_stake"
            ),
            models.CheckConstraint(condition=Q(status__one_of=BetStatus.values), name="sportsbook_bet_status_known"),
            models.CheckConstraint(
                condition=Q(accept_price_changes__one_of=PriceChanges.values), name="sportsbook_bet_price_changes_known"
            ),
            # Rejected exactly when it has a reason; pending only with its end of delay, and
            # decided (accepted or rejected) after a delay only with the moment it was.
            models.CheckConstraint(
                condition=Q(status=BetStatus.REJECTED, reject_reason__one_of=RejectReason.values)
                | (~Q(status=BetStatus.REJECTED) & Q(reject_reason="")),
                name="sportsbook_bet_rejected_with_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=BetStatus.PENDING) | Q(release_at__isnull=False, decided_at__isnull=True),
                name="sportsbook_bet_pending_has_release",
            ),
            models.CheckConstraint(
                condition=Q(status=BetStatus.PENDING) | Q(release_at__isnull=True) | Q(decided_at__isnull=False),
                name="sportsbook_bet_released_when_decided",
            ),
            # Settled exactly when it has a payout, a settlement time, the results it is based on
            # and at least one settlement; a standing or rejected bet has none of them.
            models.CheckConstraint(
                condition=Q(
                    status__one_of=SETTLED_BET_STATUSES,
                    payout__isnull=False,
                    settled_at__isnull=False,
                    outcome_at__isnull=False,
                    settlement_count__gte=1,
                )
                | (
                    ~Q(status__one_of=SETTLED_BET_STATUSES)
                    & Q(payout__isnull=True, settled_at__isnull=True, outcome_at__isnull=True, settlement_count=0)
                ),
                name="sportsbook_bet_settled_with_payout",
            ),
            # A payout is never more than the potential one (a dead heat or a void leg pays less).
            models.CheckConstraint(
                condition=Q(payout__isnull=True) | Q(payout__gte=0, payout__lte=F("potential_payout")),
                name="sportsbook_bet_payout_range",
            ),
            models.CheckConstraint(
                condition=~Q(status=BetStatus.LOST) | Q(payout=0), name="sportsbook_bet_lost_pays_nothing"
            ),
            models.CheckConstraint(
                condition=~Q(status=BetStatus.VOID) | Q(payout=F("stake")), name="sportsbook_bet_void_pays_the_stake"
            ),
        ]
        indexes = [
            models.Index(fields=["player", "id"], name="sportsbook_bet_player_idx"),
            # The settlement sweep's scan: only accepted bets (the open book).
            models.Index(fields=["id"], condition=Q(status="accepted"), name="sportsbook_bet_accepted_idx"),
            # The release sweep's queue: only pending bets, soonest first.
            models.Index(fields=["release_at"], condition=Q(status="pending"), name="sportsbook_bet_pending_idx"),
        ]

    def __str__(self) -> str:
        return self.public_id


class BetLeg(models.Model):
    # Found through the unique (bet, position) and (bet, market) indexes: no index of its own.
    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, related_name="legs", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="its place in the slip, from 0")
    selection = models.ForeignKey(Selection, on_delete=models.PROTECT, related_name="+")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(max_digits=7, decimal_places=2, help_text="the price taken")
    seen_price = models.DecimalField(max_digits=7, decimal_places=2, help_text="the price the slip named")
    market_version = models.BigIntegerField(help_text="the market's version the player saw")

    class Meta:
        ordering = ["bet", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bet", "position"], name="sportsbook_leg_position_unique"),
            # An accumulator's legs are on different markets.
            models.UniqueConstraint(fields=["bet", "market"], name="sportsbook_leg_market_unique"),
            models.CheckConstraint(condition=Q(price__gt=1, seen_price__gt=1), name="sportsbook_leg_prices_above_one"),
            models.CheckConstraint(condition=Q(market_version__gte=1), name="sportsbook_leg_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bet_id}#{self.position} @ {self.price}"


class BetSettlement(models.Model):
    """One settlement of a bet, in order (`n` from 1): the status and the payout it gave, the
    difference from the one before (what moved: a win, or a resettlement taken back), the wallet
    transaction that moved it (none when nothing moved: a loss, an unchanged payout), the outcome
    of each leg it was computed from, and the result time it was based on, so that an auditor can
    follow every payout and resettlement and a bench can measure the settlement lag."""

    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, related_name="settlements")
    n = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=BetStatus.choices)
    payout = models.BigIntegerField(help_text="minor units: what the bet pays in all after this settlement")
    difference = models.BigIntegerField(help_text="payout minus the previous settlement's (the first: minus 0)")
    # [{market_id, selection_id, result: won|lost|void|unresulted, winners: k}], in the slip's order.
    outcome = models.JSONField()
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")  # fmt: skip
    market_settled_at = models.DateTimeField(help_text="the latest result of its markets it was based on")
    settled_at = models.DateTimeField()

    class Meta:
        ordering = ["bet", "n"]
        constraints = [
            models.UniqueConstraint(fields=["bet", "n"], name="sportsbook_settlement_once_per_n"),
            models.CheckConstraint(condition=Q(n__gte=1), name="sportsbook_settlement_n_positive"),
            models.CheckConstraint(
                condition=Q(status__one_of=SETTLED_BET_STATUSES), name="sportsbook_settlement_status"
            ),
            models.CheckConstraint(condition=Q(payout__gte=0), name="sportsbook_settlement_payout_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=BetStatus.LOST) | Q(payout=0), name="sportsbook_settlement_lost_pays_nothing"
            ),
            # Money moved exactly when the payout changed (a first settlement changes it from 0).
            models.CheckConstraint(
                condition=Q(difference=0, transaction__isnull=True) | (~Q(difference=0) & Q(transaction__isnull=False)),
                name="sportsbook_settlement_transaction_when_moved",
            ),
            models.CheckConstraint(
                condition=Q(n__gt=1) | Q(difference=F("payout")), name="sportsbook_settlement_first_pays_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bet_id} #{self.n}: {self.status} {self.payout}"


class SettledMarket(models.Model):
    """A market whose bets are all settled at its result of `outcome_at` (the market's
    `settled_at` then): the settlement sweep looks again only at markets whose result is newer."""

    market = models.OneToOneField(Market, on_delete=models.PROTECT, primary_key=True, related_name="+")
    outcome_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.market_id} settled at {self.outcome_at}"


class Exposure(models.Model):
    """What the standing (accepted and pending) bets on a target would cost the book, in minor
    units of `currency`: the sum of their payouts minus stakes (docs/sportsbook.md, "Exposure")."""

    scope = models.CharField(max_length=16, choices=ExposureScope.choices)
    # The selection's, market's or event's primary key; 0 for the platform.
    target_id = models.BigIntegerField()
    # No index of its own: every look-up names the row's scope and target too (the unique
    # constraint's index), and the planner, offered one on the currency alone, chose it for a
    # bet's rows and stepped through every row of the currency.
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+", db_index=False)
    amount = models.BigIntegerField(default=0)
    cap = models.BigIntegerField(
        null=True, blank=True, help_text="minor units; empty: the platform's default for this scope"
    )
    # The liability throttle's window (a market's row only; intake.throttle_window): the liability
    # taken in the window that began at `window_started_at`, and in the one before it.
    window_started_at = models.DateTimeField(null=True, blank=True)
    window_amount = models.BigIntegerField(default=0, db_default=0)
    previous_window_amount = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "target_id", "currency"], name="sportsbook_exposure_unique"),
            models.CheckConstraint(
                condition=Q(scope__one_of=ExposureScope.values), name="sportsbook_exposure_scope_known"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sportsbook_exposure_not_negative"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="sportsbook_exposure_cap_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(scope=ExposureScope.PLATFORM) | Q(target_id=0), name="sportsbook_exposure_platform_target"
            ),
            models.CheckConstraint(
                condition=Q(window_amount__gte=0, previous_window_amount__gte=0),
                name="sportsbook_exposure_window_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.target_id} {self.currency_id}: {self.amount}"


class StakeFactor(models.Model):
    """A player's stake factor: the per-bet liability limit times this (1.00 when absent)."""

    player = models.OneToOneField(Player, on_delete=models.PROTECT, related_name="+")
    factor = models.DecimalField(max_digits=6, decimal_places=2)
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(factor__gte=0, factor__lte=1000), name="sportsbook_stake_factor_range"),
        ]

    def __str__(self) -> str:
        return f"{self.player_id} x {self.factor}"
