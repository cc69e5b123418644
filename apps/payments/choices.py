"""The states and names of the payments app."""

from django.db import models


class DepositStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    CHARGED_BACK = "charged_back", "Charged back"


# A deposit in one of these was credited: a second success changes nothing.
CREDITED = (DepositStatus.SUCCEEDED, DepositStatus.REFUNDED, DepositStatus.CHARGED_BACK)


class WithdrawalStatus(models.TextChoices):
    # Internal: the row exists, the reservation has not committed yet (or was refused and the
    # row is about to go). Never shown to the player: the API treats it as not existing.
    REQUESTED = "requested", "Requested"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


VISIBLE_WITHDRAWAL_STATUSES = [s for s in WithdrawalStatus.values if s != WithdrawalStatus.REQUESTED]


class WebhookVerdict(models.TextChoices):
    PENDING = "pending", "Pending"  # recorded, not yet decided (a crash before commit leaves it so)
    APPLIED = "applied", "Applied"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"


class EventType(models.TextChoices):
    DEPOSIT_SUCCEEDED = "deposit.succeeded"
    DEPOSIT_FAILED = "deposit.failed"
    DEPOSIT_REFUNDED = "deposit.refunded"
    DEPOSIT_CHARGEBACK = "deposit.chargeback"
    PAYOUT_SUCCEEDED = "payout.succeeded"
    PAYOUT_FAILED = "payout.failed"


# The events that take a deposit's money back. One that arrives before the deposit's success waits
# on the deposit (`DepositIntent.early_reversal`, these labels) and is taken back with the credit.
REVERSAL_EVENTS = {
    EventType.DEPOSIT_REFUNDED: "Refund before the success",
    EventType.DEPOSIT_CHARGEBACK: "Chargeback before the success",
}


class CashierOperation(models.TextChoices):
    """The cashier endpoints an Idempotency-Key is scoped to (with the player)."""

    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"


class AdapterName(models.TextChoices):
    SANDBOX = "sandbox", "PAM's sandbox PSP"
