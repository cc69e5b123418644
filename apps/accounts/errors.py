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


class LoginLocked(PamError):
    code = "TOO_MANY_ATTEMPTS"
    status = 429
    default_message = "Too many failed logins; try again later."


class NotAPlayer(PamError):
    code = "NOT_A_PLAYER"
    status = 403
    default_message = "This account has no player profile."
