"""Refusals of the bonuses app, each with a stable code that clients compare."""

from apps.common.errors import PamError


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
    """The player may not join this campaign: brand, country, new players only, or a player who
    may not receive promotions (locked, frozen, closed, timed out or self-excluded)."""

    code = "NOT_ELIGIBLE"
    status = 422
    default_message = "This campaign is not open to this player."
