"""Refusals of the accounts app, each with a stable code that clients compare.

Statuses: 400 is for a request the API's schema already rules out; a well-formed request that a
rule the schema cannot express refuses (an age, the password validators, a currency no longer
offered) is 422; a brand that does not exist is 404, like any name of nothing."""

from apps.common.errors import PamError


class Underage(PamError):
    code = "UNDERAGE"
    status = 422
    default_message = "Players must be at least 18 years old."


class EmailTaken(PamError):
    code = "EMAIL_TAKEN"
    status = 409
    default_message = "An account with this e-mail address already exists for this brand."


class UsernameTaken(PamError):
    code = "USERNAME_TAKEN"
    status = 409
    default_message = "This username is taken."


class WeakPassword(PamError):
    code = "WEAK_PASSWORD"
    status = 422
    default_message = "The password is too weak."


class UnknownCurrency(PamError):
    code = "UNKNOWN_CURRENCY"
    status = 422
    default_message = "This currency is not offered."


class UnknownBrand(PamError):
    code = "UNKNOWN_BRAND"
    status = 404
    default_message = "No such brand."


class InvalidCredentials(PamError):
    code = "INVALID_CREDENTIALS"
    status = 401
    default_message = "Wrong username or password."


class LoginRefused(PamError):
    """A login refused before the password was checked, to be tried again in `retry_after` whole
    seconds (also in the error object and the `Retry-After` header)."""

    reason: str  # what the message says before when to try again

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"{self.reason}; try again in {retry_after} second{'' if retry_after == 1 else 's'}.",
            details={"retry_after": retry_after},
        )


class LoginLocked(LoginRefused):
    """The login throttle refused the attempt: the (username, address) pair must still wait, or
    the address is past its ceiling."""

    code = "TOO_MANY_ATTEMPTS"
    status = 429
    reason = "Too many failed logins"
    default_message = "Too many failed logins; try again later."


class LoginUnavailable(LoginRefused):
    """The login throttle's store (the cache: Redis when served) did not answer. Logins are
    refused rather than let through unthrottled, which would open the door to guessing for as
    long as the outage lasts."""

    code = "LOGIN_UNAVAILABLE"
    status = 503
    reason = "Logging in is unavailable for a moment"
    default_message = "Logging in is unavailable for a moment; try again shortly."


class NotAPlayer(PamError):
    code = "NOT_A_PLAYER"
    status = 403
    default_message = "This account has no player profile."


class UnsupportedDocument(PamError):
    code = "UNSUPPORTED_FILE_TYPE"
    status = 415
    default_message = "A KYC document is a PDF, JPEG or PNG file (told by its content, not its name)."


class DocumentTooLarge(PamError):
    code = "FILE_TOO_LARGE"
    status = 413
    default_message = "The file is larger than KYC documents may be."


class InvalidKycDecision(PamError):
    code = "INVALID_KYC_DECISION"
    status = 422
    default_message = "A KYC decision is approve or reject; a rejection needs a reason."


class KycDocumentsRequired(PamError):
    code = "KYC_DOCUMENTS_REQUIRED"
    status = 422
    default_message = "A player's KYC is approved on documents: upload at least one first."


class UnknownDocument(PamError):
    code = "NOT_FOUND"
    status = 404
    default_message = "No such document."


# --- staff two-factor sign-in (docs/backoffice.md) ---------------------------------------------


class OtpNotEnrolled(PamError):
    code = "OTP_NOT_ENROLLED"
    status = 403
    default_message = (
        "Two-factor sign-in is required and you have no authenticator enrolled: ask an admin to enrol "
        "you (manage.py enrol_staff_otp)."
    )


class OtpRequired(PamError):
    code = "OTP_REQUIRED"
    status = 401
    default_message = "Enter the 6-digit code from your authenticator app, or one of your recovery codes."


class OtpInvalid(PamError):
    code = "OTP_INVALID"
    status = 401
    default_message = "That code is wrong, expired or already used."


class OtpThrottled(PamError):
    """Too many wrong codes in a row: django-otp makes the device wait, doubling each time."""

    code = "OTP_THROTTLED"
    status = 429
    default_message = "Too many wrong codes; try again later."

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"Too many wrong codes; try again in {retry_after} second{'' if retry_after == 1 else 's'}.",
            details={"retry_after": retry_after},
        )


class NotStaff(PamError):
    code = "NOT_STAFF"
    status = 422
    default_message = "This account is not a staff account."


class InvalidNote(PamError):
    code = "INVALID_NOTE"
    status = 422
    default_message = "A note needs some text, at most 4000 characters."
