"""Refusals of the bonuses app, each with a stable code that clients compare."""

from apps.common.errors import PamError
from apps.compliance.errors import LimitReached


class InvalidCampaign(PamError):
    """A campaign whose fields do not fit its kind and trigger (campaigns.validate)."""

    code = "INVALID_CAMPAIGN"
    status = 422
    default_message = "This campaign is not valid."


class UnknownCampaign(PamError):
    """No campaign with this code is open now: none, disabled, not started or ended. One answer
    for all four, so a code's existence is not given away before it starts."""

    code = "UNKNOWN_CAMPAIGN"
    status = 404
    default_message = "No open campaign has this code."


class NotEligible(PamError):
    """The player may not join this campaign: another currency than their wallet's, brand,
    country, new players only, or a player who may not receive promotions (locked, frozen,
    closed, timed out or self-excluded)."""

    code = "NOT_ELIGIBLE"
    status = 422
    default_message = "This campaign is not open to this player."


class GrantRefused(PamError):
    """A grant that may not happen; nothing moved. `error.reason` says which rule refused it, one
    of `GrantRefused.REASONS` (stable: clients and the back office compare it)."""

    code = "GRANT_REFUSED"
    status = 422
    default_message = "This bonus cannot be granted."

    NO_PROMOTIONS = "no_promotions"
    NOT_ELIGIBLE = "not_eligible"
    NOT_OPTED_IN = "not_opted_in"
    CAMPAIGN_CLOSED = "campaign_closed"
    CURRENCY = "currency"
    ALREADY_GRANTED = "already_granted"
    BUDGET_EXHAUSTED = "budget_exhausted"
    BELOW_MIN_DEPOSIT = "below_min_deposit"
    NO_AMOUNT = "no_amount"
    ACTIVE_BONUS = "active_bonus"
    REASONS = (NO_PROMOTIONS, NOT_ELIGIBLE, NOT_OPTED_IN, CAMPAIGN_CLOSED, CURRENCY, ALREADY_GRANTED,
               BUDGET_EXHAUSTED, BELOW_MIN_DEPOSIT, NO_AMOUNT, ACTIVE_BONUS)  # fmt: skip

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


class BonusMaxStake(LimitReached):
    """A stake above the maximum of a bonus the player is wagering (the wallet contract's
    LIMIT_REACHED, `error.reason` `bonus_max_stake`); nothing moved."""

    default_message = "This stake is above the maximum allowed while wagering a bonus."
    reason = "bonus_max_stake"


class BonusNotActive(PamError):
    """The bonus has already ended (converted, expired, forfeited or cancelled)."""

    code = "BONUS_NOT_ACTIVE"
    status = 409
    default_message = "This bonus is no longer active."
