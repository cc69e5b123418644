"""Writes of the realtime app: the one-time WebSocket tickets."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.common.tokens import hash_token, new_token
from apps.realtime.models import RealtimeTicket

TICKET_LIFETIME = dt.timedelta(seconds=60)


def issue_ticket(*, player: Player) -> str:
    """A fresh one-time ticket that connects `player` to `/ws/player/`; valid TICKET_LIFETIME.

    Only its SHA-256 is stored: the ticket itself is returned once, here, and never again.
    """
    ticket = new_token()
    RealtimeTicket.objects.create(
        token_hash=hash_token(ticket), player=player, expires_at=timezone.now() + TICKET_LIFETIME
    )
    return ticket


@transaction.atomic
def redeem_ticket(*, ticket: str) -> Player | None:
    """Exchange a ticket once for its player (with `user` loaded), or None: unknown, expired,
    already used, its user deactivated, or not a printable ASCII string. Never raises for a bad
    ticket.

    A conditional UPDATE (`used_at IS NULL AND expires_at > now`) marks it used, so of two
    concurrent redemptions of one ticket exactly one gets the player.
    """
    if not isinstance(ticket, str) or not ticket or not ticket.isascii() or not ticket.isprintable():
        return None
    token_hash = hash_token(ticket)
    now = timezone.now()
    # Filters on this table's own columns only: PostgreSQL re-checks them on the locked row, so
    # the loser of a race updates nothing (a join would become a subquery it does not re-check).
    used = RealtimeTicket.objects.filter(token_hash=token_hash, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if used != 1:
        return None
    player = RealtimeTicket.objects.select_related("player__user").get(token_hash=token_hash).player
    return player if player.user.is_active else None
