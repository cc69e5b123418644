"""Refusals of the sportsbook's feed endpoint and player API, each with a stable code
(contracts/sportsbook.md)."""

from apps.common.errors import PamError


class InvalidSignature(PamError):
    code = "INVALID_SIGNATURE"
    status = 401
    default_message = "The feed's signature is missing or wrong, or the feed is unknown."


class BodyTooLarge(PamError):
    code = "INVALID_REQUEST"
    status = 413
    default_message = "The body is over 256 KiB."


class InvalidMessage(PamError):
    """A batch that is not valid JSON, or a message of it that is not one the contract defines;
    `error.index` is the message's place in the batch (from 0) when one is to blame."""

    code = "INVALID_REQUEST"
    status = 400
    default_message = "A message of the batch is not valid."


class UnknownEvent(PamError):
    code = "UNKNOWN_EVENT"
    status = 400
    default_message = "The message names an event the feed has not sent."


class UnknownMarket(PamError):
    code = "UNKNOWN_MARKET"
    status = 400
    default_message = "The message names a market the feed has not sent."


class UnknownSelection(PamError):
    code = "UNKNOWN_SELECTION"
    status = 400
    default_message = "The result names a selection that is not in its market."


# --- circuit breakers (the back office's refusals) ------------------------------------------------


class InvalidBreakerRequest(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "A circuit breaker's change needs a known breaker and a reason."


class BreakerUnchanged(PamError):
    code = "BREAKER_UNCHANGED"
    status = 409
    default_message = "The breaker is already in that state."


class BreakerRequestPending(PamError):
    code = "BREAKER_REQUEST_PENDING"
    status = 409
    default_message = "A change of this breaker already awaits a decision."


class BreakerRequestNotPending(PamError):
    code = "BREAKER_REQUEST_NOT_PENDING"
    status = 409
    default_message = "This request has been decided already."


class UnknownBreakerRequest(PamError):
    code = "NOT_FOUND"
    status = 404
    default_message = "No such circuit-breaker request."


class BreakerFourEyesRequired(PamError):
    # The code the wallet and the cashier use: one refusal, wherever a second person is needed.
    code = "FOUR_EYES_REQUIRED"
    status = 403
    default_message = "Whoever requested a breaker's change cannot approve or reject it: another staff member must."


class MarketSuspended(PamError):
    code = "MARKET_SUSPENDED"
    status = 409
    default_message = "A market of the slip is suspended, or was suspended after the price was seen."


class PriceChanged(PamError):
    """`error.price`: the current price of the leg that moved (`error.selection_id`)."""

    code = "PRICE_CHANGED"
    status = 409
    default_message = "A price moved against what the slip accepts."


class StakeTooHigh(PamError):
    """`error.max_stake`: the largest stake the slip would be taken with now (0: none)."""

    code = "STAKE_TOO_HIGH"
    status = 403
    default_message = "The stake breaks an exposure cap, the player's stake factor or the maximum payout."


class MarketSettled(PamError):
    code = "MARKET_SETTLED"
    status = 409
    default_message = "A market of the slip is settled."


class UnknownBetSelection(PamError):
    """A leg names no selection on sale, or one the feeds' ids do not single out
    (`error.selection_id`)."""

    code = "UNKNOWN_SELECTION"
    status = 404
    default_message = "A leg names no known selection."


class InvalidSlip(PamError):
    """A well-formed slip no bet can be made of: legs on one market, a market version the market
    has not reached."""

    code = "INVALID_SLIP"
    status = 422
    default_message = "The slip cannot be taken as it is."


class BetNotFound(PamError):
    code = "NOT_FOUND"
    status = 404
    default_message = "No such bet."


class MarketNotThrottled(PamError):
    code = "MARKET_NOT_THROTTLED"
    status = 409
    default_message = "The liability throttle has not suspended this market (or it was resumed since)."


class InvalidThrottleResume(PamError):
    code = "INVALID_REQUEST"
    status = 400
    default_message = "Resuming a market the throttle suspended needs a reason."
