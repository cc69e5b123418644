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


class WithdrawalClaim(models.TextChoices):
    """What is underway on a withdrawal whose money is moving: set (and committed) before the
    wallet call, cleared with the final status after it. A claim makes the competing outcomes
    exclusive (a payout success and a payout failure, a cancellation and an approval), and a
    retry of the same outcome finishes what a crash left half done."""

    NONE = "", "None"
    CANCEL = "cancel", "Cancellation by the player"
    REJECT = "reject", "Rejection by staff"
    PAYOUT = "payout", "Payout event"


class WebhookVerdict(models.TextChoices):
    PENDING = "pending", "Pending"  # recorded, its effect not yet applied (a crash heals on retry)
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


class AdapterName(models.TextChoices):
    SANDBOX = "sandbox", "PAM's sandbox PSP"
