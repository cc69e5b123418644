"""Writes of the realtime app: the one-time WebSocket tickets, notices (with or without closing
the socket) sent to every connection of a player, and the messages that keep a staff member's
open back-office sockets within their access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from django.db import transaction
from django.utils import timezone

from apps.accounts import selectors as accounts
from apps.accounts.models import Player
from apps.common.tokens import hash_token, new_token
from apps.realtime import protocol, push
from apps.realtime.groups import backoffice_staff_group, player_group
from apps.realtime.models import RealtimeTicket

NOT_ALLOWED = 4403  # the close code of a socket the server ends because the player may no longer be on it

logger = structlog.get_logger(__name__)

TICKET_LIFETIME = dt.timedelta(seconds=60)


def session_credential(session_key: str) -> str:
    """A site session as a socket's credential: its key's hash (the key itself signs in whoever
    holds it, and has no business in a ticket row or the channel layer)."""
    return f"session:{hash_token(session_key)}"


def token_credential(key_hash: str) -> str:
    """A bearer token as a socket's credential, by the hash its `AuthToken` row keeps."""
    return f"token:{key_hash}"


def credential_of(request) -> str:
    """The sign-in a player API request came with (its bearer token, else its session), as a
    socket opened with it is closed by its sign-out; empty when neither is known."""
    if isinstance(getattr(request, "auth", None), str):
        return token_credential(hash_token(request.auth))
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    return session_credential(session_key) if session_key else ""


def session_hash_of(request) -> str:
    """What a socket keeps of the session a player API request came with (`credential_of` names
    the session): the password hash it carries, so that a password change or a deactivation that
    ends the session closes the socket too. Empty for a bearer token's request, whose token a
    password change revokes."""
    if isinstance(getattr(request, "auth", None), str):
        return ""
    session = getattr(request, "session", None)
    return accounts.session_hash_of(session) if session is not None else ""


def issue_ticket(*, player: Player, credential: str = "", session_hash: str = "") -> str:
    """A fresh one-time ticket that connects `player` to `/ws/player/`; valid TICKET_LIFETIME.
    `credential`: the sign-in that asked for it (`credential_of`), whose sign-out closes the
    socket the ticket opens; `session_hash`: a session's (`session_hash_of`), whose password
    change closes it too.

    Only its SHA-256 is stored: the ticket itself is returned once, here, and never again.
    """
    ticket = new_token()
    RealtimeTicket.objects.create(
        token_hash=hash_token(ticket), player=player, expires_at=timezone.now() + TICKET_LIFETIME,
        credential=credential, session_hash=session_hash,
    )  # fmt: skip
    return ticket


@dataclass(frozen=True)
class Redeemed:
    player: Player
    credential: str  # the ticket's (issue_ticket)
    session_hash: str = ""  # the ticket's (issue_ticket)


def redeem_ticket(*, ticket: str) -> Player | None:
    """`redeem` for its player alone."""
    redeemed = redeem(ticket=ticket)
    return None if redeemed is None else redeemed.player


@transaction.atomic
def redeem(*, ticket: str) -> Redeemed | None:
    """Exchange a ticket once for its player (with `user` loaded) and credential, or None:
    unknown, expired, already used, its user deactivated, or not a printable ASCII string. Never
    raises for a bad ticket.

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
    row = RealtimeTicket.objects.select_related("player__user").get(token_hash=token_hash)
    return Redeemed(row.player, row.credential, row.session_hash) if row.player.user.is_active else None


def notify_player(player_id: int | str, *, kind: str, message: str, data: dict | None = None) -> None:
    """Send a `notice` frame to every socket of the player, on every instance.

    Sent when the current database transaction commits (at once outside one), so a rolled-back
    decision notifies nobody. Never raises: a backplane failure is logged and counted by push.py.
    A notice is not versioned: a player not connected at that moment does not get it later.
    """
    frame = protocol.notice(kind, message, data)
    _after_commit([(player_group(player_id), {"type": "player.notice", "frame": frame})])


def notify_player_uncommitted(player_id: int | str, *, kind: str, message: str, data: dict | None = None) -> None:
    """`notify_player` at once, not after commit: only for what a transaction decided that rolls
    it back (a limit's refusal), which `notify_player` would never send. Anything a commit decides
    must go through `notify_player`, or a rolled-back decision would still reach the player.

    Called inside that transaction, under the player's lock: in a server the push is handed to
    the server's loop and not waited for (push.py); outside one (a management command, a test
    without a loop) it is sent before this returns. Never raises: a failure is logged and counted.
    """
    frame = protocol.notice(kind, message, data)
    messages = [(player_group(player_id), {"type": "player.notice", "frame": frame})]
    try:
        push.push(messages)
    except Exception as exc:  # push.push logs its own failures; this is one it could not catch
        push.count_failure()
        logger.warning("realtime.push_failed", groups=[g for g, _ in messages], error=repr(exc))


def notify_players(notices: Iterable[tuple[int | str, str, str, dict | None]]) -> None:
    """`notify_player` for many players at once, (player id, kind, message, data) each: one push
    for all of them (a batch of settled bets), after commit, never raising."""
    messages = [
        (player_group(player_id), {"type": "player.notice", "frame": protocol.notice(kind, message, data)})
        for player_id, kind, message, data in notices
    ]
    if messages:
        _after_commit(messages)


def disconnect_player(
    player_id: int | str, *, kind: str, message: str, data: dict | None = None, code: int = NOT_ALLOWED
) -> None:
    """Close every socket of the player, on every instance: each gets a `notice` frame saying why,
    then the close `code` (4403 unless told otherwise), e.g. when the player self-excludes.

    Sent after commit like notify_player, and never raises either. It does not by itself stop the
    player from connecting again: that is the account state the caller commits (a deactivated
    user's session and tickets no longer authenticate).
    """
    frame = protocol.notice(kind, message, data)
    _after_commit([(player_group(player_id), {"type": "player.disconnect", "frame": frame, "code": code})])


def recheck_staff_access(user_ids: Iterable[int]) -> None:
    """Have every back-office socket of these staff members, on every instance, read their access
    again: each narrows its feed to what they may still see, or closes 4403 when that is nothing
    (consumers.BackofficeFeedConsumer). Sent after commit, so the sockets read the change; never
    raises. A user with no socket open costs one look-up of an empty group."""
    messages = [(backoffice_staff_group(user_id), {"type": "backoffice.access_changed"}) for user_id in set(user_ids)]
    if messages:
        _after_commit(messages)


def close_staff_session_sockets(*, user_id: int, session_key: str) -> None:
    """Close with 4401 every back-office socket that the staff member opened with this session, on
    every instance (they signed out); their other sessions' sockets stay. After commit, never
    raising. The message names the session by its hash: the key itself signs in whoever holds it,
    and has no business in the channel layer."""
    message = {"type": "backoffice.session_ended", "session": hash_token(session_key)}
    _after_commit([(backoffice_staff_group(user_id), message)])


def close_signed_out_player_sockets(*, player_id: int, credentials: list[str]) -> None:
    """Close with 4401 every socket of the player, on every instance, that was opened with one of
    these sign-ins (`credential_of`: a session signed out, tokens revoked); their other sign-ins'
    sockets stay. After commit, never raising."""
    if credentials:
        _after_commit([(player_group(player_id), {"type": "player.signed_out", "credentials": list(credentials)})])


def recheck_player_sign_in(*, player_id: int) -> None:
    """Have every socket of the player, on every instance, read its sign-in again (a new password
    or a deactivation may have ended it): a cookie socket whose session no longer signs them in
    closes 4401. After commit, never raising."""
    _after_commit([(player_group(player_id), {"type": "player.recheck_sign_in"})])


def _after_commit(messages: list[tuple[str, dict]]) -> None:
    try:
        transaction.on_commit(lambda: push.push(messages))
    except Exception as exc:  # registering failed (a broken connection): still never fail the caller
        push.count_failure()
        logger.warning("realtime.push_failed", groups=[g for g, _ in messages], error=repr(exc))
