"""The states and names of the sportsbook."""

from django.db import models


class EventStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    # In play: the feed's `live` message (bets wait the event's in-play delay).
    LIVE = "live", "Live"
    # Every market of the event has its result.
    ENDED = "ended", "Ended"


# What the player API lists (contracts/sportsbook.md: `status=live|upcoming`).
LISTED_EVENT_STATUSES = (EventStatus.LIVE, EventStatus.UPCOMING)


class MarketStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUSPENDED = "suspended", "Suspended"
    SETTLED = "settled", "Settled"


class MessageType(models.TextChoices):
    """The feed's message types (contracts/sportsbook.md, "Feed")."""

    EVENT = "event"
    MARKET = "market"
    SUSPEND = "suspend"
    RESUME = "resume"
    LIVE = "live"
    RESULT = "result"
    HEARTBEAT = "heartbeat"


# --- circuit breakers --------------------------------------------------------------------------------


class BreakerName(models.TextChoices):
    """The sportsbook's circuit breakers (docs/sportsbook.md, "Circuit breakers")."""

    # In-play markets closed to bets; their prices are shown `delayed`.
    PRE_MATCH_ONLY = "pre_match_only", "Pre-match only"
    # Every unsettled market's prices served as cached: `delayed` on the odds socket.
    CACHED_PRICES = "cached_prices", "Cached prices (delayed)"
    # Every in-play market suspended, and none reopened by a feed while it is on.
    SUSPEND_IN_PLAY = "suspend_in_play", "Suspend all in play"


class BreakerRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class BetStatus(models.TextChoices):
    # Waiting out its events' in-play delay: the stake is taken (held), the bet not yet decided.
    PENDING = "pending", "Pending (in-play delay)"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected after the delay"
    # Settled (settlement.py): its payout paid, nothing (lost), or its stake back (every leg void).
    WON = "won", "Won"
    LOST = "lost", "Lost"
    VOID = "void", "Void (stake back)"


# A bet its markets' results have settled: a later result may resettle it, never reopen it.
SETTLED_BET_STATUSES = (BetStatus.WON, BetStatus.LOST, BetStatus.VOID)


class PriceChanges(models.TextChoices):
    """What a slip accepts when a price moved since the player saw it (contracts/sportsbook.md)."""

    NONE = "none", "Only the price seen"
    HIGHER = "higher", "The price seen or a better one"
    ANY = "any", "Any price"


class RejectReason(models.TextChoices):
    """Why a pending bet was rejected once its delay ran out: the refusal codes of the placement."""

    MARKET_SUSPENDED = "MARKET_SUSPENDED", "A market was suspended during the delay"
    PRICE_CHANGED = "PRICE_CHANGED", "A price moved against the slip during the delay"
    MARKET_SETTLED = "MARKET_SETTLED", "A market was settled during the delay"


class ExposureScope(models.TextChoices):
    """What an exposure row and its cap are about; the platform's row has target 0."""

    SELECTION = "selection", "Selection"
    MARKET = "market", "Market"
    EVENT = "event", "Event"
    PLATFORM = "platform", "Platform"
