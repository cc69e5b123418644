"""Refusals of player protection, each with a stable code that clients compare.

The wallet contract knows two of them, PLAYER_BLOCKED and LIMIT_REACHED (403); the subclasses
keep those codes and say why in their message, so the wallet's answers stay what its contract
says while the site can show the reason.
"""

from typing import Any, ClassVar

from apps.common.errors import PamError


class PlayerBlocked(PamError):
    code = "PLAYER_BLOCKED"
    status = 403
    default_message = "The player may not play now."


class PlayerExcluded(PlayerBlocked):
    default_message = "The player is on a time-out or self-excluded."


class KycRequired(PlayerBlocked):
    default_message = "The player's identity must be verified first."


class LimitReached(PamError):
    """`error.reason` says which limit (the wallet contract): a responsible-gambling limit, a
    reality check waiting, or (bonuses' subclass) the maximum stake of an active bonus."""

    code = "LIMIT_REACHED"
    status = 403
    default_message = "This would break one of the player's responsible-gambling limits."
    reason: ClassVar[str] = "responsible_gambling_limit"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None, **more: Any) -> None:
        super().__init__(message, details={"reason": self.reason, **(details or {})}, **more)


class RealityCheckPending(LimitReached):
    """Play pauses at a reality check until the player acknowledges it (or logs out). The
    contract's closest code: the interval is a responsible-gambling setting of the player's."""

    default_message = "Acknowledge the reality check to continue playing."
    reason = "reality_check"


class InvalidLimit(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "This limit is not valid."


class NothingToConfirm(PamError):
    code = "NOTHING_TO_CONFIRM"
    status = 409
    default_message = "There is no pending change of this limit to confirm."


class CoolingOffNotEnded(PamError):
    code = "COOLING_OFF_NOT_ENDED"
    status = 409
    default_message = "The cooling-off of this change has not ended yet."


class AlreadyExcluded(PamError):
    code = "ALREADY_EXCLUDED"
    status = 409
    default_message = "The player is already excluded until a later date; an exclusion is never shortened."


class ExclusionNotEnded(PamError):
    code = "EXCLUSION_NOT_ENDED"
    status = 409
    default_message = "The exclusion has not ended; it cannot be lifted early."


class NotExcluded(PamError):
    code = "NOT_EXCLUDED"
    status = 409
    default_message = "The player has no exclusion to return from."


class PeriodTooShort(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "This self-exclusion is shorter than the jurisdiction allows."


class InvalidRule(PamError):
    """A behaviour rule's type, parameters, scope or actions do not make a rule (rules.py)."""

    code = "INVALID_RULE"
    status = 422
    default_message = "This rule is not valid."


class InvalidCase(PamError):
    """A case change that does not make sense: alerts of several players or none, an alert
    already in a case, an assignee who is not staff, an empty comment, a file refused by type or
    size, an unknown outcome or a resolution without a note (cases.py)."""

    code = "INVALID_CASE"
    status = 422
    default_message = "This change of the case is not valid."


class CaseResolved(PamError):
    """A resolved case is final: it takes no more alerts, assignments, comments or files."""

    code = "CASE_RESOLVED"
    status = 409
    default_message = "This case is resolved and takes no more changes."


class InvalidStandingChange(PamError):
    """A staff lock, freeze or re-opening of an account that does not apply to its standing: a
    re-opening of an account that is neither locked nor frozen, a lock of one already locked or
    frozen (a freeze is stricter), a freeze of one already frozen, any change of a closed account
    (closed is final), or no reason (services.lock_account_by_staff and its siblings)."""

    code = "INVALID_STANDING_CHANGE"
    status = 409
    default_message = "This change of the account's standing does not apply."
