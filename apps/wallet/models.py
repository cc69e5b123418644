"""The ledger: accounts, transactions and their entries.

Design overview
---------------
Every money movement is one `Transaction` with two or more `Entry` rows whose signed amounts sum
to zero per currency (double entry). Each entry posts to one `Account`:

- a player has a `cash` and a `bonus` account in their currency, and, opened on first use, a
  `pending_withdrawal` account (money on its way out, not playable) and a `debt` account (what
  the player owes). Their stored `balance` is the sum of their entries (the debt account's with
  the opposite sign, `choices.BALANCE_SIGN`) and never negative (a CHECK). The cash account's `version` is the player
  wallet's version: it grows by one with each transaction that moves the player's money, and the
  real-time protocol orders frames by it. A bonus account's `version` counts its own entries.
- system accounts (`house`, `adjustments`, `bonus_pool`, a provider's `clearing` …) take the
  other side. They are hot, so they are never locked or updated per movement: their `balance`
  column stays 0 and their balance is derived, the sum of their entries.

Transactions and entries are append-only (PostgreSQL triggers reject UPDATE and DELETE; a
correction is a new transaction). A transaction that comes from outside carries its `origin`
(e.g. `provider:acme`) and `external_id`, unique together, and a `fingerprint` of the request:
a retry with the same fingerprint is answered from the row, another body is a conflict. The row
holds everything the first answer said (`balance_after`, `wallet_version`), so a replay rebuilds
exactly that answer without the row ever being updated.

Each player's transactions are hash-chained (`chain.py`), so that tampering behind the triggers
is detectable. The PostgreSQL-only parts (triggers, the deferred zero-sum check) are in
migration 0002.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Currency, Player
from apps.wallet.choices import PLAYER_KINDS, AccountKind, AdjustmentReason, AdjustmentStatus, TransactionKind

# The kinds that are nearly every row of the ledger, left out of the index by kind.
GAME_PLAY_KINDS = [TransactionKind.BET.value, TransactionKind.WIN.value]


class Account(models.Model):
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    player = models.ForeignKey(Player, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    # System accounts are named: "house", "adjustments", "bonus_pool", "clearing:<provider>".
    code = models.CharField(max_length=80, blank=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    # A player's cash account: the hash of the player's last transaction (chain.py); "" before one.
    chain_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__one_of=PLAYER_KINDS) | Q(balance__gte=0), name="player_account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(kind__one_of=PLAYER_KINDS) & Q(player__isnull=False) & Q(code=""))
                | (~Q(kind__one_of=PLAYER_KINDS) & Q(player__isnull=True) & ~Q(code="")),
                name="account_player_xor_system_code",
            ),
            models.UniqueConstraint(
                fields=["player", "kind"], condition=Q(player__isnull=False), name="one_account_per_player_and_kind"
            ),
            models.UniqueConstraint(
                fields=["code", "currency"], condition=Q(player__isnull=True), name="one_system_account_per_currency"
            ),
            # What an entry's foreign key to its account and currency refers to (Entry.account).
            models.UniqueConstraint(fields=["id", "currency"], name="account_id_currency_unique"),
        ]

    def __str__(self) -> str:
        owner = f"player {self.player_id}" if self.player_id else self.code
        return f"{owner} {self.kind} {self.currency_id}"


class Transaction(models.Model):
    kind = models.CharField(max_length=24, choices=TransactionKind.choices)
    # No single-column indexes where one would only slow every insert: `player` leads
    # `transaction_player_version_idx`, and a currency is one of a handful of values.
    # On PostgreSQL the player and the currency are one foreign key, `(player_id, currency_id)` to
    # the player's `(id, currency_id)` (migration 0018): a transaction is in its player's currency,
    # one check at commit instead of two, and no look-up of the currency table.
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    # The player's net movement (cash + bonus), signed; 0 for records that move nothing.
    amount = models.BigIntegerField()
    origin = models.CharField(max_length=80)
    external_id = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    round_id = models.CharField(max_length=100, blank=True)
    game_id = models.CharField(max_length=100, blank=True)
    # A rollback names the bet it reverses: `reverses` once that bet is known, else only
    # `reverses_external_id` (a rollback that arrived first; the bet will then be refused).
    # At most one rollback per bet (`transaction_reverses_once`): a partial unique index, so that
    # the bets and wins, which reverse nothing, pay no index write for it.
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    reverses_external_id = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    acting_user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # The answer the first call got: playable balance and wallet version after this transaction.
    balance_after = models.BigIntegerField()
    wallet_version = models.BigIntegerField()
    # SHA-256 of the player's previous transaction's chain_hash and of this one (chain.py). A row
    # written around the services gets "" (and the audit names it).
    chain_hash = models.CharField(max_length=64, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("adjust_balance", "Can adjust a player's balance (operator adjustment)")]
        # Every index leads with the selective column, never with `origin`: a provider's first
        # thousands of calls arrive before the statistics know its origin, and an index led by
        # the origin then let the planner pick "all rows of this origin, filtered" for a look-up
        # (measured: each bet's cost grew with the provider's history).
        constraints = [
            models.UniqueConstraint(fields=["external_id", "origin"], name="transaction_origin_external_id_unique"),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transaction_reverses_once"
            ),
            models.CheckConstraint(condition=Q(kind__one_of=TransactionKind.values), name="transaction_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=TransactionKind.ROLLBACK) | (Q(reverses__isnull=True) & Q(reverses_external_id="")),
                name="only_rollbacks_reverse",
            ),
        ]
        indexes = [
            # Only rollbacks name another id: the others stay out of this index.
            models.Index(
                fields=["reverses_external_id", "origin"],
                condition=~Q(reverses_external_id=""),
                name="transaction_reverses_ext_idx",
            ),
            models.Index(fields=["round_id", "origin"], name="transaction_round_idx"),
            models.Index(fields=["player", "wallet_version"], name="transaction_player_version_idx"),
            # A game's rounds over a window (the live RTP drift rule, selectors.game_rounds): only
            # rows of games, so deposits, withdrawals and the rest stay out of it.
            models.Index(fields=["game_id", "created_at"], condition=~Q(game_id=""), name="transaction_game_idx"),
            models.Index(
                fields=["acting_user"], condition=Q(acting_user__isnull=False), name="transaction_acting_user_idx"
            ),
            # The back office's list by kind, newest first (docs/backoffice.md, "Large tables in the
            # admin"). Bets and wins, nearly every row, stay out: the primary key finds a page of
            # them at once, and the bets pay no extra index write.
            models.Index(fields=["kind", "id"], condition=~Q(kind__in=GAME_PLAY_KINDS), name="transaction_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.origin}/{self.external_id})"

    @property
    def public_id(self) -> str:
        return str(self.pk)


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    # Indexed with the entry's id (`wallet_entry_account_idx`): an account's entries in order, its
    # statement in the back office, from the index alone.
    # On PostgreSQL the account and the currency are one foreign key, `(account_id, currency_id)`
    # to the account's `(id, currency_id)` (migration 0017): an entry is in its account's currency,
    # and its currency exists because the account's does. One check an entry at commit instead of
    # two, and no look-up of the currency table (a scan: two pages are planned as one).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False, db_constraint=False
    )
    # Copied from the account so the zero-sum check groups by currency without a join.
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    amount = models.BigIntegerField()
    # Player accounts only: the account's balance and version after this entry (null for the
    # system side, whose balance is derived).
    balance_after = models.BigIntegerField(null=True, blank=True)
    account_version = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["account", "id"], name="wallet_entry_account_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__isnull=True) | Q(balance_after__gte=0),
                name="entry_balance_after_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} on account {self.account_id}"


class LedgerHour(models.Model):
    """A player's transactions of one kind in one UTC hour, summed (`Transaction.amount`): what a
    rolling window's usage reads for its whole hours (selectors.ledger_windows_sql). On PostgreSQL
    a trigger of the ledger adds each transaction in its own database transaction (migration
    0020), so the sums are always the ledger's own (`wallet_audit` recomputes them); embedded
    SQLite leaves the table empty and sums the ledger's rows."""

    pk = models.CompositePrimaryKey("player_id", "hour", "kind")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+", db_index=False)
    hour = models.DateTimeField(help_text="the hour's start, UTC")
    kind = models.CharField(max_length=24, choices=TransactionKind.choices)
    amount = models.BigIntegerField(help_text="minor units, the sum of the hour's transactions of the kind")

    class Meta:
        db_table = "wallet_ledger_hour"

    def __str__(self) -> str:
        return f"{self.kind} of player {self.player_id} from {self.hour:%Y-%m-%d %H:00}: {self.amount}"


class AdjustmentRequest(models.Model):
    """A staff adjustment of a player's cash, with its reason code: posted at once under the
    currency's four-eyes threshold (`needs_approval` False, no second person), else `pending` until
    a different staff member approves it (posting the adjustment) or rejects it
    (`services.request_adjustment`, `approve_adjustment`, `reject_adjustment`)."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    # Signed, in minor units of `currency` (the player's): positive credits the player.
    amount = models.BigIntegerField()
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    reason_code = models.CharField(max_length=32, choices=AdjustmentReason.choices)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    needs_approval = models.BooleanField(help_text="at or above the currency's four-eyes threshold")
    status = models.CharField(max_length=16, choices=AdjustmentStatus.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, help_text="why it was rejected")
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustment_request"
    )
    # The submission's key (the form's hidden field, the staff API's Idempotency-Key): a form sent
    # twice is one request.
    idempotency_key = models.CharField(max_length=64, unique=True)

    class Meta:
        permissions = [("approve_adjustment", "Can approve or reject another staff member's balance adjustment")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_request_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(status__one_of=AdjustmentStatus.values), name="adjustment_request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason_code__one_of=AdjustmentReason.values), name="adjustment_request_reason_code_valid"
            ),
            # Posted exactly when approved.
            models.CheckConstraint(
                condition=Q(status=AdjustmentStatus.APPROVED, transaction__isnull=False)
                | (~Q(status=AdjustmentStatus.APPROVED) & Q(transaction__isnull=True)),
                name="adjustment_request_posted_iff_approved",
            ),
            # Four eyes, in the table too: whoever decides a request that needed approval is not
            # whoever asked (the service refuses first, under the row's lock).
            models.CheckConstraint(
                condition=Q(needs_approval=False, decided_by__isnull=True)
                | (Q(needs_approval=True) & (Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")))),
                name="adjustment_request_four_eyes",
            ),
        ]
        indexes = [
            # The back office's queue: only pending rows, oldest first.
            models.Index(fields=["requested_at"], condition=Q(status="pending"), name="adjustment_request_pending_idx"),
            models.Index(fields=["player", "requested_at"], name="adjustment_request_player_idx"),
        ]

    def __str__(self) -> str:
        return f"adjustment {self.pk} of {self.amount} {self.currency_id} ({self.status})"


class AdjustmentAwaitingApproval(AdjustmentRequest):
    """The back office's queue of adjustments awaiting a second approver (its own admin page)."""

    class Meta:
        proxy = True
        verbose_name = "adjustment awaiting approval"
        verbose_name_plural = "adjustments awaiting approval"
