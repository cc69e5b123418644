"""What compliance adds to a player's live socket, through the real-time app's extension point
(`apps/realtime/extensions.py`, registered in `ComplianceConfig.ready()`): a locked, frozen or
excluded player gets no play socket, only the reason; and the reality check comes at its time even between bets.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Player
from apps.common.timestamps import iso_utc
from apps.compliance import selectors, services
from apps.realtime.extensions import Notice, PlayerSocketExtension

CLOSED_FOR_PLAY = {
    PlayerStatus.LOCKED: "This account is locked: contact support.",
    PlayerStatus.FROZEN: "This account is frozen until it is reviewed: contact support.",
    PlayerStatus.CLOSED: "This account is closed: contact support.",
}


def refusal_notice(player: Player) -> Notice | None:
    """The `account_locked` notice for a player whose account is locked, frozen or closed (reason: the
    status) or who is under a time-out or self-exclusion, else None. The status is the row's (read
    at connect): no query for a player whose row says there is nothing else to check."""
    if player.status in CLOSED_FOR_PLAY:
        return Notice("account_locked", CLOSED_FOR_PLAY[player.status], {"reason": player.status})
    return exclusion_notice(player)


def exclusion_notice(player: Player) -> Notice | None:
    """The `account_locked` notice for a player under a time-out or self-exclusion, else None.
    No query for a player whose row says there is nothing to check."""
    if not player.needs_compliance_checks:
        return None
    exclusion = selectors.get_current_exclusion(player)
    if exclusion is None or not exclusion.blocks_at(timezone.now()):
        return None
    return Notice(
        "account_locked",
        "This account is closed for play by a time-out or self-exclusion.",
        {"reason": exclusion.kind, "until": iso_utc(exclusion.ends_at)},
    )


def reality_check_first_due(player: Player) -> dt.datetime | None:
    """The due time the player's row held at connect (no query)."""
    return player.reality_check_due_at


def reality_check_when_due(player_id: int, due_at: dt.datetime) -> dt.datetime | None:
    """Send the player's reality check due at `due_at` unless a bet or another socket did (the
    conditional update in `send_due_reality_check` makes it one notice either way); the next
    due time. An interval shortened meanwhile is noticed here, or by the next bet.

    A timer that ends before `due_at` by the wall clock sends nothing yet and is armed again for
    the rest: the socket's timer runs on the event loop's clock, which can end a few microseconds
    ahead of the wall clock's due time (a check sent then said "9 minutes" for a 10-minute
    interval)."""
    if timezone.now() < due_at:
        return due_at
    services.send_due_reality_check(player_id=player_id, due_at=due_at)
    return accounts_selectors.get_reality_check_due(player_id)


PLAYER_SOCKET = PlayerSocketExtension(
    name="compliance",
    order=10,
    refusal=refusal_notice,
    first_due=reality_check_first_due,
    when_due=reality_check_when_due,
)
