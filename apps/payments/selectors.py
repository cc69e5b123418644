"""Reads of the payments app. Nothing here writes or locks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum, Value

from apps.accounts.models import Brand, Currency, Player
from apps.payments import errors
from apps.payments.choices import VISIBLE_WITHDRAWAL_STATUSES, DepositStatus, WithdrawalStatus
from apps.payments.models import (
    DEFAULT_AUTO_APPROVE_UP_TO,
    BrandPaymentSettings,
    DepositIntent,
    PaymentProvider,
    WebhookEvent,
    Withdrawal,
)

PAGE_SIZE = 20


def get_provider(code: str) -> PaymentProvider | None:
    """The provider with this code, enabled or not (the webhook endpoint's look-up)."""
    return PaymentProvider.objects.filter(code=code).first()


def get_enabled_provider(code: str) -> PaymentProvider:
    """The enabled provider with this code; raises UnknownProvider."""
    provider = PaymentProvider.objects.filter(code=code, enabled=True).first()
    if provider is None:
        raise errors.UnknownProvider
    return provider


def list_enabled_providers() -> list[PaymentProvider]:
    """The providers a player may choose at the cashier, by name."""
    return list(PaymentProvider.objects.filter(enabled=True).order_by("name", "code"))


def auto_approve_up_to(brand: Brand, currency: Currency) -> int:
    """The brand's automatic-approval threshold, in minor units of `currency` (the player's wallet
    currency): its `BrandPaymentSettings`, else 1,000.00 in that currency (DEFAULT_AUTO_APPROVE_UP_TO
    for a currency of two decimals)."""
    value = BrandPaymentSettings.objects.filter(brand=brand).values_list("auto_approve_up_to", flat=True).first()
    if value is not None:
        return value
    return DEFAULT_AUTO_APPROVE_UP_TO * 10**currency.exponent // 100


def get_deposit(deposit_id: str) -> DepositIntent | None:
    return DepositIntent.objects.select_related("provider").filter(public_id=deposit_id).first()


def get_player_deposit(player: Player, deposit_id: str) -> DepositIntent:
    """The player's own deposit; raises NotFound for another player's as for none."""
    deposit = DepositIntent.objects.filter(player=player, public_id=deposit_id).first()
    if deposit is None:
        raise errors.NotFound("No such deposit.")
    return deposit


def get_withdrawal(withdrawal_id: str) -> Withdrawal:
    """Any player's withdrawal by its public id, for staff; raises NotFound (also for one whose
    reservation has not committed)."""
    withdrawal = (
        Withdrawal.objects.filter(public_id=withdrawal_id)
        .exclude(status=WithdrawalStatus.REQUESTED)
        .select_related("player__user")
        .first()
    )
    if withdrawal is None:
        raise errors.NotFound("No such withdrawal.")
    return withdrawal


def get_player_withdrawal(player: Player, withdrawal_id: str) -> Withdrawal:
    """The player's own withdrawal; raises NotFound for another player's as for none (and for
    one whose reservation has not committed)."""
    withdrawal = (
        Withdrawal.objects.filter(player=player, public_id=withdrawal_id)
        .exclude(status=WithdrawalStatus.REQUESTED)
        .first()
    )
    if withdrawal is None:
        raise errors.NotFound("No such withdrawal.")
    return withdrawal


def _page(queryset: QuerySet, cursor: int | None) -> tuple[list, int | None]:
    """Newest first, PAGE_SIZE at a time; the cursor is the id the next page starts below."""
    if cursor is not None:
        queryset = queryset.filter(pk__lt=cursor)
    rows = list(queryset.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].pk if more else None)


def list_player_deposits(player: Player, cursor: int | None = None) -> tuple[list[DepositIntent], int | None]:
    """A page of the player's deposits, newest first, and the cursor of the next (or None)."""
    return _page(DepositIntent.objects.filter(player=player), cursor)


def list_player_withdrawals(player: Player, cursor: int | None = None) -> tuple[list[Withdrawal], int | None]:
    return _page(Withdrawal.objects.filter(player=player, status__in=VISIBLE_WITHDRAWAL_STATUSES), cursor)


def latest_credited_deposit(player_id: int, since: dt.datetime) -> DepositIntent | None:
    """The player's most recent credited deposit updated at or after `since`."""
    return (
        DepositIntent.objects.filter(player_id=player_id, status=DepositStatus.SUCCEEDED, updated_at__gte=since)
        .order_by("-updated_at")
        .first()
    )


def pending_deposits_total(player_id: int, since: dt.datetime) -> int:
    """The amounts of the player's deposits started at or after `since` and still pending."""
    pending = DepositIntent.objects.filter(player_id=player_id, status=DepositStatus.PENDING, created_at__gte=since)
    return pending.aggregate(total=Sum("amount", default=0))["total"]


def has_reversed_deposit(player_id: int) -> bool:
    """Whether a deposit of the player was ever refunded or charged back, or the PSP sent a refund
    or chargeback of one not credited (yet): it has said the payment was reversed either way."""
    return DepositIntent.objects.filter(
        Q(status__in=[DepositStatus.REFUNDED, DepositStatus.CHARGED_BACK]) | ~Q(early_reversal=""),
        player_id=player_id,
    ).exists()


def webhook_events_of(reference: str) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(reference=reference).order_by("pk")


def list_withdrawals_for_staff(player: Player, cursor: int | None = None) -> tuple[list[Withdrawal], int | None]:
    """A page of the player's withdrawals in every status (staff see the rejected and failed ones
    the player's own list leaves out), newest first, and the cursor of the next (or None)."""
    return _page(Withdrawal.objects.filter(player=player), cursor)


# --- the back office's daily reports (read by apps/backoffice/reports.py) ---------------------------


@dataclass(frozen=True)
class PaymentCount:
    """Cashier requests of one direction (`deposit`, `withdrawal`), provider, currency and status
    now, created in a period: how many, what the players asked (`amount`), and, for deposits,
    what the PSP reported credited (`credited`; 0 for withdrawals and deposits never credited)."""

    direction: str
    provider: str
    currency: str
    status: str
    count: int
    amount: int
    credited: int


def payment_counts(*, since: dt.datetime, until: dt.datetime) -> list[PaymentCount]:
    """Deposits and withdrawals created at or after `since` and before `until`, by provider,
    currency and their status now: two aggregates."""
    rows: list[PaymentCount] = []
    for direction, model, credited in (
        ("deposit", DepositIntent, Sum("credited_amount", default=0)),
        ("withdrawal", Withdrawal, Value(0)),
    ):
        counts = (
            model.objects.filter(created_at__gte=since, created_at__lt=until)
            .values_list("provider__code", "currency_id", "status")
            .annotate(n=Count("pk"), amount=Sum("amount", default=0), credited=credited)
            .order_by("provider__code", "currency_id", "status")
        )
        rows += [PaymentCount(direction, *row) for row in counts]
    return rows


def withdrawals_awaiting_approval() -> dict[str, tuple[int, int]]:
    """(count, sum) per currency of the withdrawals waiting for a staff decision: the back
    office's approval queue. One read on the status index."""
    rows = (
        Withdrawal.objects.filter(status=WithdrawalStatus.AWAITING_APPROVAL)
        .values("currency_id")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("currency_id")
    )
    return {row["currency_id"]: (row["count"], row["total"]) for row in rows}
