"""What the back-office feed (`/ws/backoffice/`) sends to whom: the one table of event types and
the permission each needs, and a socket's subscription (its filters by type, brand, amount and
player), applied to every frame in the consumer's process.

The staff member's permissions are read at connect into the set of event types they may see, and
again only when their access changes (consumers.BackofficeFeedConsumer); a frame then costs a dict
look-up and a few comparisons, never a query (every bet goes through here). A frame carries what
the filters need: `event` (its type below), `player_id`, `brand` (the brand's code), and for money
movements `amount` (its size in minor units of the frame's currency, unsigned). docs/backoffice.md,
"Live operations feed", is the client's side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

# Event type -> the permission a staff member needs to receive it. The only place this is decided:
# the consumer drops every frame whose type is not among the connecting staff member's.
FEED_PERMISSIONS: dict[str, str] = {
    "bet": "wallet.view_transaction",
    "win": "wallet.view_transaction",
    "deposit": "wallet.view_transaction",
    # Every other money movement: rollbacks, adjustments, bonuses and their ends, refunds, debts.
    "money": "wallet.view_transaction",
    # A withdrawal's reservation, its payout and its return are the cashier's business.
    "withdrawal": "payments.view_withdrawal",
    "alert": "compliance.view_alert",
    "limit": "compliance.view_limit",
    "exclusion": "compliance.view_exclusion",
}
EVENT_TYPES = tuple(FEED_PERMISSIONS)

# The wallet's transaction kinds that are not plain "money" in the feed.
_KIND_EVENTS = {
    "bet": "bet",
    "win": "win",
    "deposit": "deposit",
    "withdrawal": "withdrawal",
    "withdrawal_paid": "withdrawal",
    "withdrawal_returned": "withdrawal",
}

MAX_AMOUNT = 10**15  # above any limit or balance the wallet allows; bounds what a client may send


def event_of_kind(kind: str) -> str:
    """The feed's event type of a wallet transaction kind."""
    return _KIND_EVENTS.get(kind, "money")


def allowed_events(has_perm: Callable[[str], bool]) -> frozenset[str]:
    """The event types a staff member may receive, from their permission check (run at connect,
    and again when their access changes)."""
    return frozenset(event for event, permission in FEED_PERMISSIONS.items() if has_perm(permission))


class InvalidSubscription(ValueError):
    """A subscription a client sent that cannot be applied; the message says which field."""


@dataclass(frozen=True)
class Subscription:
    """A socket's filters; None in a field: no filter on it. `types` is always within what the
    staff member may see (so the table above is applied even to a subscription asking for more)."""

    types: frozenset[str]
    brand: str | None = None
    min_amount: int | None = None
    player_id: str | None = None

    def wants(self, frame: Mapping) -> bool:
        """Whether this socket gets `frame`. A frame without `amount` (an alert, a limit, an
        exclusion, a payout whose size the playable balance does not show) is not held back by
        `min_amount`; every other filter needs the frame to carry the field and match it."""
        if frame.get("event") not in self.types:
            return False
        if self.player_id is not None and frame.get("player_id") != self.player_id:
            return False
        if self.brand is not None and frame.get("brand") != self.brand:
            return False
        if self.min_amount is not None:
            amount = frame.get("amount")
            if amount is not None and amount < self.min_amount:
                return False
        return True

    def within(self, allowed: frozenset[str]) -> Subscription:
        """This subscription without the types outside `allowed` (the staff member's access
        narrowed while the socket was open); the other filters as they were."""
        return replace(self, types=self.types & allowed)

    def as_frame(self) -> dict:
        """The `subscribed` frame: the filters now applied (the types as the server narrowed them)."""
        return {
            "type": "subscribed",
            "types": sorted(self.types, key=EVENT_TYPES.index),
            "brand": self.brand,
            "min_amount": self.min_amount,
            "player_id": self.player_id,
        }


def everything(allowed: frozenset[str]) -> Subscription:
    """The subscription of a socket that asked for nothing: every event its staff member may see."""
    return Subscription(types=allowed)


def parse(content: Mapping, allowed: frozenset[str]) -> Subscription:
    """A `subscribe` message's fields (or the connect query's) as a Subscription; InvalidSubscription
    for a field of the wrong type or an unknown event type. Types the staff member may not see are
    left out, not refused: the page asks for what it shows, the role decides what arrives."""
    types = content.get("types")
    if types is None:
        chosen = allowed
    else:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InvalidSubscription("types must be a list of event types")
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise InvalidSubscription(f"unknown event types: {', '.join(unknown)}")
        chosen = allowed & frozenset(types)
    brand = _optional_text(content, "brand")
    player_id = content.get("player_id")
    if isinstance(player_id, int) and not isinstance(player_id, bool):
        player_id = str(player_id)
    player_id = _optional_text({"player_id": player_id}, "player_id")
    if player_id is not None and not player_id.isdigit():
        raise InvalidSubscription("player_id must be a player's id")
    min_amount = content.get("min_amount")
    if min_amount in (None, ""):
        min_amount = None
    elif isinstance(min_amount, bool) or not isinstance(min_amount, int) or not 0 <= min_amount <= MAX_AMOUNT:
        raise InvalidSubscription("min_amount must be a whole number of minor units, 0 or more")
    return Subscription(types=chosen, brand=brand, min_amount=min_amount or None, player_id=player_id)


def parse_query(query_string: bytes, allowed: frozenset[str]) -> Subscription:
    """The subscription given in the socket's URL (`?player_id=…&types=bet,deposit&brand=…&
    min_amount=…`), applied before the socket joins the feed: a page that shows one player never
    receives another's frame, not even before its first `subscribe`."""
    query = {k: v[-1] for k, v in parse_qs(query_string.decode("latin-1"), keep_blank_values=True).items()}
    content: dict = {}
    if "types" in query:
        content["types"] = [t for t in query["types"].split(",") if t]
    for key in ("brand", "player_id"):
        if query.get(key):
            content[key] = query[key]
    if query.get("min_amount"):
        if not query["min_amount"].isdigit():
            raise InvalidSubscription("min_amount must be a whole number of minor units, 0 or more")
        content["min_amount"] = int(query["min_amount"])
    return parse(content, allowed)


def _optional_text(content: Mapping, key: str) -> str | None:
    value = content.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidSubscription(f"{key} must be a string")
    return value
