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
