"""Refusals of the cashier and the webhook endpoint, each with a stable code
(contracts/payments.md)."""

from apps.common.errors import PamError


class InvalidSignature(PamError):
    code = "INVALID_SIGNATURE"
    status = 401
    default_message = "The webhook's signature or timestamp is missing or wrong."


class BodyTooLarge(PamError):
    code = "INVALID_REQUEST"
    status = 413
    default_message = "The body is over 64 KiB."


class InvalidWebhook(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "The webhook body is not a valid event."


class UnknownProvider(PamError):
    code = "UNKNOWN_PROVIDER"
    status = 404
    default_message = "No enabled payment provider has this code."


class AmountOutOfRange(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "The amount is outside the provider's minimum and maximum."


class NotFound(PamError):
    code = "NOT_FOUND"
    status = 404
    default_message = "Not found."


class WithdrawalNotCancellable(PamError):
    code = "WITHDRAWAL_NOT_CANCELLABLE"
    status = 409
    default_message = "Only a withdrawal awaiting approval can be cancelled."


class WithdrawalNotAwaitingApproval(PamError):
    code = "WITHDRAWAL_NOT_AWAITING_APPROVAL"
    status = 409
    default_message = "Only a withdrawal awaiting approval can be approved or rejected."


class FourEyesRequired(PamError):
    code = "FOUR_EYES_REQUIRED"
    status = 403
    default_message = "Whoever requested or last touched a withdrawal cannot approve it."


class KeptRefusal(PamError):
    """A cashier request's refusal answered again, as it was first answered (models.CashierRefusal):
    its code, status, message and fields are the first answer's."""

    def __init__(self, *, code: str, status: int, message: str, details: dict, extra: dict) -> None:
        super().__init__(message, details=details, extra=extra)
        self.code = code
        self.status = status
