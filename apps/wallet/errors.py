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
