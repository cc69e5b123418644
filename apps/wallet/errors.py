"""Refusals of the wallet, with the codes and statuses of the seamless wallet contract."""

from apps.common.errors import PamError


class UnknownPlayer(PamError):
    code = "UNKNOWN_PLAYER"
    status = 404
    default_message = "No such player."


class CurrencyMismatch(PamError):
    code = "CURRENCY_MISMATCH"
    status = 409
    default_message = "The currency is not the player's wallet currency."


class InsufficientFunds(PamError):
    code = "INSUFFICIENT_FUNDS"
    status = 402
    default_message = "The bet is larger than the playable balance."


class DuplicateTransaction(PamError):
    code = "DUPLICATE_TRANSACTION"
    status = 409
    default_message = "This transaction id was already used for a different call."


class TransactionRolledBack(PamError):
    code = "TRANSACTION_ROLLED_BACK"
    status = 409
    default_message = "This transaction, or every bet of its round, was rolled back."


class RollbackNotAllowed(PamError):
    code = "ROLLBACK_NOT_ALLOWED"
    status = 409
    default_message = "Only a bet can be rolled back, and only once."


class InvalidAdjustment(PamError):
    code = "INVALID_ADJUSTMENT"
    status = 422
    default_message = "An adjustment needs a non-zero amount, a reason code of the list and a reason."


class UnknownAdjustment(PamError):
    code = "NOT_FOUND"
    status = 404
    default_message = "No such adjustment request."


class AdjustmentNotPending(PamError):
    code = "ADJUSTMENT_NOT_PENDING"
    status = 409
    default_message = "Only an adjustment awaiting approval can be approved or rejected."


class FourEyesRequired(PamError):
    # The same code as the cashier's withdrawals: one refusal, wherever a second person is needed.
    code = "FOUR_EYES_REQUIRED"
    status = 403
    default_message = "Whoever requested an adjustment cannot approve or reject it: another staff member must."
