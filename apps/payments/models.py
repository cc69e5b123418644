"""The cashier's records: payment providers, deposit intents, withdrawals and every webhook.

None of these holds money: the ledger (apps.wallet) does, and every movement is a wallet service
call idempotent on a key derived from the row (services.py says which). These rows say where a
payment stands, who decided what, and why; their status is changed only under the row lock
(locks.py). The database refuses what no status may hold: CHECKs on every status and amount,
one row per (player, Idempotency-Key) whether the request was taken or refused, one decisive
record per (provider, event id), and on
PostgreSQL a trigger keeps webhook records append-only once decided (migration 0002).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from apps.payments.choices import (
    REVERSAL_EVENTS,
    AdapterName,
    CashierOperation,
    DepositStatus,
    EventType,
    WebhookVerdict,
    WithdrawalStatus,
)

DEFAULT_AUTO_APPROVE_UP_TO = 100_000  # 1,000.00 in a currency of two decimals (its minor units)


def _public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_deposit_id() -> str:
    return _public_id("dep")


def new_withdrawal_id() -> str:
    return _public_id("wd")


class PaymentProvider(models.Model):
    """A PSP PAM takes deposits through and pays withdrawals with. The webhook secret keys the
    HMAC of its webhooks, so it is stored as it is (the staff trail records it as redacted)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100, blank=True)
    adapter = models.CharField(max_length=32, choices=AdapterName.choices)
    webhook_secret = models.CharField(max_length=200)
    min_deposit = models.BigIntegerField(default=1, help_text="minor units")
    max_deposit = models.BigIntegerField(default=10**9, help_text="minor units")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_deposit__gt=0), name="provider_min_deposit_positive"),
            models.CheckConstraint(condition=Q(max_deposit__gte=models.F("min_deposit")), name="provider_max_ge_min"),
            models.CheckConstraint(condition=Q(adapter__one_of=AdapterName.values), name="provider_adapter_known"),
            models.CheckConstraint(condition=~Q(webhook_secret=""), name="provider_webhook_secret_set"),
        ]

    def __str__(self) -> str:
        return self.code


class BrandPaymentSettings(models.Model):
    """A brand's cashier settings: withdrawals of verified players up to `auto_approve_up_to`
    (minor units of the player's wallet currency) that no risk rule flags are approved without
    staff. A brand without a row approves up to 1,000.00 in the player's currency (100000 minor
    units in a currency of two decimals, the field's default)."""

    brand = models.OneToOneField("accounts.Brand", on_delete=models.CASCADE, related_name="payment_settings")
    auto_approve_up_to = models.BigIntegerField(default=DEFAULT_AUTO_APPROVE_UP_TO, help_text="minor units")

    class Meta:
        verbose_name_plural = "brand payment settings"
        constraints = [
            models.CheckConstraint(condition=Q(auto_approve_up_to__gte=0), name="brand_auto_approve_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.brand}: auto-approve up to {self.auto_approve_up_to}"


class CashierRequest(models.Model):
    """What a deposit and a withdrawal share: the player's request through a provider, with the
    Idempotency-Key it came with (one row per player and key) and the fingerprint of its body."""

    player = models.ForeignKey("accounts.Player", on_delete=models.PROTECT, related_name="%(class)ss")
    provider = models.ForeignKey(PaymentProvider, on_delete=models.PROTECT, related_name="%(class)ss")
    amount = models.BigIntegerField(help_text="minor units, as the player asked")
    currency = models.ForeignKey("accounts.Currency", on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["player", "idempotency_key"], name="%(class)s_key_per_player"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="%(class)s_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.public_id


class DepositIntent(CashierRequest):
    """A deposit the player started at a PSP. `credited_amount` is what the PSP reported and the
    wallet credited (it may differ from `amount`, what the player asked for).

    A refund or chargeback the PSP sends before the deposit's success (PSPs do send them out of
    order, and never again once answered 200) is kept on the deposit: `early_reversal` is its
    type, `reversal_event` its id, and the status stays `pending` (or `failed`). The success that
    follows credits the deposit and takes the money back in one transaction, leaving it `refunded`
    or `charged_back`; a deposit that never succeeds keeps the reversal, with no money moved.
    """

    public_id = models.CharField(max_length=40, unique=True, default=new_deposit_id, editable=False)
    status = models.CharField(max_length=16, choices=DepositStatus.choices, default=DepositStatus.PENDING)
    credited_amount = models.BigIntegerField(null=True, blank=True, help_text="minor units the PSP reported")
    reversal_event = models.CharField(
        max_length=100, blank=True,
        help_text="the refund or chargeback event that took the money back, or waits for the success to",
    )  # fmt: skip
    early_reversal = models.CharField(
        max_length=32, blank=True, choices=list(REVERSAL_EVENTS.items()),
        help_text="a refund or chargeback that came before the deposit's success: taken back with the credit",
    )  # fmt: skip
    redirect_url = models.URLField(max_length=2000, blank=True)
    flagged_for_staff = models.BooleanField(default=False)
    flag_reason = models.TextField(blank=True)
    # The PSP's keyed hash of the card or account that paid (adapter.instrument_fingerprint),
    # stored with the credit; never the number itself. Empty: the PSP named none.
    instrument_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta(CashierRequest.Meta):
        constraints = [
            *CashierRequest.Meta.constraints,
            models.CheckConstraint(
                condition=Q(credited_amount__isnull=True) | Q(credited_amount__gt=0),
                name="deposit_credited_amount_positive",
            ),
            models.CheckConstraint(condition=Q(status__one_of=DepositStatus.values), name="deposit_status_valid"),
            models.CheckConstraint(
                condition=Q(status__one_of=[DepositStatus.PENDING, DepositStatus.FAILED])
                | Q(credited_amount__isnull=False),
                name="deposit_credited_has_amount",
            ),
            models.CheckConstraint(
                condition=Q(early_reversal__one_of=["", *REVERSAL_EVENTS]), name="deposit_early_reversal_valid"
            ),
            models.CheckConstraint(
                condition=Q(early_reversal="") | ~Q(reversal_event=""), name="deposit_early_reversal_names_event"
            ),
            # A reversal recorded on a deposit never credited can only be one waiting for the credit.
            models.CheckConstraint(
                condition=~Q(status__one_of=[DepositStatus.PENDING, DepositStatus.FAILED])
                | Q(reversal_event="")
                | ~Q(early_reversal=""),
                name="deposit_uncredited_reversal_waits",
            ),
            # The success that credits a deposit with a waiting reversal takes the money back in the
            # same transaction: such a deposit is never `succeeded`, and ends as its reversal says.
            models.CheckConstraint(
                condition=Q(early_reversal="")
                | Q(status__one_of=[DepositStatus.PENDING, DepositStatus.FAILED])
                | Q(early_reversal=EventType.DEPOSIT_REFUNDED, status=DepositStatus.REFUNDED)
                | Q(early_reversal=EventType.DEPOSIT_CHARGEBACK, status=DepositStatus.CHARGED_BACK),
                name="deposit_early_reversal_taken_back_with_credit",
            ),
        ]
        indexes = [models.Index(fields=["player", "-id"], name="deposit_player_newest")]

    @property
    def shown_amount(self) -> int:
        """What the player is shown: the amount credited once the PSP reported it, else the
        amount asked for."""
        return self.amount if self.credited_amount is None else self.credited_amount


class Withdrawal(CashierRequest):
    """A player's withdrawal. Its money sits in the player's pending-withdrawal account from the
    request until it is paid (to the PSP's clearing account) or returned (failed, cancelled)."""

    public_id = models.CharField(max_length=40, unique=True, default=new_withdrawal_id, editable=False)
    status = models.CharField(max_length=20, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED)
    initial_status = models.CharField(
        max_length=20, choices=WithdrawalStatus.choices, blank=True, help_text="the status of the first answer"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_touched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="empty for an automatic approval",
    )  # fmt: skip
    reason = models.TextField(blank=True, help_text="why staff rejected it, or why the payout failed")
    risk_flags = models.JSONField(default=list, blank=True)
    # A payout the PSP reported in another amount or currency than the withdrawal's: paid as
    # reserved, and left for staff to reconcile with the PSP.
    flagged_for_staff = models.BooleanField(default=False)
    flag_reason = models.TextField(blank=True)

    class Meta(CashierRequest.Meta):
        constraints = [
            *CashierRequest.Meta.constraints,
            models.CheckConstraint(condition=Q(status__one_of=WithdrawalStatus.values), name="withdrawal_status_valid"),
        ]
        indexes = [
            models.Index(fields=["player", "-id"], name="withdrawal_player_newest"),
            models.Index(fields=["status"], name="withdrawal_status"),
        ]
        permissions = [("approve_withdrawal", "Can approve or reject withdrawals")]


class CashierRefusal(models.Model):
    """A cashier request that was refused, kept under its Idempotency-Key as its answer: the same
    key and body get that answer again (status and body), the same key with another body
    `DUPLICATE_TRANSACTION`, as for a request that was taken (contracts/payments.md). One per
    player, endpoint and key; a key is either a deposit's or withdrawal's or a refusal's."""

    player = models.ForeignKey("accounts.Player", on_delete=models.PROTECT, related_name="+")
    operation = models.CharField(max_length=16, choices=CashierOperation.choices)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(help_text="the answer's HTTP status")
    code = models.CharField(max_length=40)
    message = models.TextField()
    details = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="what the answer's error object carried besides"
    )
    extra = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="what the answer carried beside its error object"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["player", "operation", "idempotency_key"], name="cashier_refusal_key_per_player"
            ),
            models.CheckConstraint(
                condition=Q(operation__one_of=CashierOperation.values), name="cashier_refusal_operation_valid"
            ),
            models.CheckConstraint(condition=Q(status__gte=400, status__lt=500), name="cashier_refusal_status_4xx"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.idempotency_key}: {self.code}"


class WebhookEvent(models.Model):
    """One delivery of a PSP's webhook and the verdict PAM gave it, with why.

    The first delivery of an event id is the decisive record (unique per provider); each later
    delivery is a record of its own with the verdict `duplicate`. A refused delivery (bad
    signature, stale timestamp) has no event id: its body was never parsed, and is not kept.
    """

    provider = models.ForeignKey(PaymentProvider, on_delete=models.PROTECT, related_name="webhook_events")
    event_id = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=32, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    body = models.JSONField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=WebhookVerdict.choices)
    reason = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=~Q(verdict__in=[WebhookVerdict.DUPLICATE, WebhookVerdict.REFUSED]),
                name="webhook_event_once_per_provider",
            ),
            models.CheckConstraint(condition=Q(verdict__one_of=WebhookVerdict.values), name="webhook_verdict_valid"),
            models.CheckConstraint(
                condition=Q(verdict=WebhookVerdict.REFUSED) | ~Q(event_id=""), name="webhook_event_id_unless_refused"
            ),
        ]
        indexes = [models.Index(fields=["reference"], name="webhook_reference")]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.event_id or '(refused)'} {self.verdict}"


class WithdrawalAwaitingApproval(Withdrawal):
    """The back office's approval queue: the withdrawals awaiting a staff decision."""

    class Meta:
        proxy = True
        verbose_name = "withdrawal awaiting approval"
        verbose_name_plural = "withdrawals awaiting approval"
