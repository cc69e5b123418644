"""Domain events become frames: wallet events for the player and for the back-office feed,
compliance events as notices to the player (a limit's refusal at once, since it commits
nothing; closed sockets when they may no longer play),
behaviour-rule alerts, limit changes, exclusions and withdrawal approvals to the back-office feed (feed.py decides
which staff get which), a bonus's grant as a notice to the player, the sportsbook's market changes
to the odds sockets (odds.py). A staff member's open back-office sockets follow their access: a
sign-out closes its session's sockets, and a change of the user, their groups or their
permissions, or of a group's permissions, has their sockets read it again (services.py).

Other apps never call the real-time app: it subscribes to their signals here."""

from __future__ import annotations

import time

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from apps.accounts import selectors as accounts
from apps.accounts.models import User
from apps.accounts.signals import tokens_revoked
from apps.bonuses import signals as bonuses
from apps.compliance import signals as compliance
from apps.payments import signals as payments
from apps.realtime import feed, odds, protocol, services
from apps.realtime.groups import BACKOFFICE_FEED, player_group
from apps.realtime.push import push
from apps.sportsbook import signals as sportsbook
from apps.wallet.signals import transaction_posted


@receiver(transaction_posted, dispatch_uid="realtime.push_wallet_updated")
def push_wallet_updated(sender, event_id: int | None = None, **event) -> None:
    """After commit: one `wallet.updated` frame to the player's group, and the same frame (with
    the player's id) to the back-office feed. Built from the event alone: no query per frame.
    Idempotent without a receipt: a second delivery (the outbox sweeper after a crash) sends a
    frame whose version the client already holds, which the protocol says it ignores."""
    frame = protocol.wallet_updated(event)
    feed_frame = protocol.feed_wallet_updated(
        frame, event["player_id"], _brand_code(event), feed.event_of_kind(event["kind"])
    )
    push(
        [
            (player_group(event["player_id"]), {"type": "wallet.updated", "frame": frame}),
            (BACKOFFICE_FEED, {"type": "wallet.updated", "frame": feed_frame}),
        ]
    )


# Brand codes by primary key, per process: a bet's frame names its brand without a query. Read
# again after a minute (an admin may rename a brand) or for a brand not seen yet (a new one).
_BRAND_CODES_TTL_SECONDS = 60.0
_brand_codes: tuple[float, dict[int, str]] = (float("-inf"), {})


def _brand_code(event: dict) -> str | None:
    global _brand_codes
    brand_id = event.get("brand_id")
    if brand_id is None:  # an event recorded before it carried the brand (the outbox sweeper's)
        found = accounts.get_player_brand_and_currency(event["player_id"])
        return found[0] if found else None
    loaded_at, codes = _brand_codes
    if brand_id not in codes or time.monotonic() - loaded_at > _BRAND_CODES_TTL_SECONDS:
        _brand_codes = loaded_at, codes = time.monotonic(), accounts.brand_codes()
    return codes.get(brand_id)


def _push_to_feed(frame: dict) -> None:
    push([(BACKOFFICE_FEED, {"type": "feed.event", "frame": frame})])


@receiver(compliance.limit_changed, dispatch_uid="realtime.push_limit_changed")
def push_limit_changed(sender, event_id: int | None = None, **event) -> None:
    """After commit: a `limit.changed` frame to the back-office feed (staff who may read limits).
    Rare, so the player's brand and currency are read here. A repeat after a crash shows the
    same change twice on a live page, which is harmless: no receipt."""
    brand, currency = accounts.get_player_brand_and_currency(event["player_id"]) or (None, None)
    _push_to_feed(protocol.limit_changed(event, brand, currency))


@receiver(payments.withdrawal_approved, dispatch_uid="realtime.push_withdrawal_approved")
def push_withdrawal_approved(sender, event_id: int | None = None, **event) -> None:
    """After commit: a `withdrawal.approved` frame to the back-office feed (staff who may read
    withdrawals). No receipt, as for a limit."""
    brand, _ = accounts.get_player_brand_and_currency(event["player_id"]) or (None, None)
    _push_to_feed(protocol.withdrawal_approved(event, brand))


@receiver(compliance.player_excluded, dispatch_uid="realtime.push_player_excluded")
def push_player_excluded(sender, event_id: int | None = None, **event) -> None:
    """After commit: a `player.excluded` frame to the back-office feed (staff who may read
    exclusions). No receipt, as for a limit."""
    brand, _ = accounts.get_player_brand_and_currency(event["player_id"]) or (None, None)
    _push_to_feed(protocol.player_excluded(event, brand))


@receiver(compliance.player_notice, dispatch_uid="realtime.push_compliance_notice")
def push_compliance_notice(
    sender, player_id: str, message: str, kind: str = "account_locked", data: dict | None = None,
    reason: str | None = None, **kwargs,
) -> None:  # fmt: skip
    """A `notice` to every socket of the player (a KYC hold, a reality check). A notice is a
    message to read: a repeat after a crash is harmless, so no receipt."""
    if data is None and reason is not None:  # an event recorded before notices carried their data
        data = {"reason": reason}
    services.notify_player(player_id, kind=kind, message=message, data=data)


@receiver(compliance.limit_reached, dispatch_uid="realtime.push_limit_reached")
def push_limit_reached(sender, player_id: str, message: str, data: dict, **kwargs) -> None:
    """A `limit_reached` notice to every socket of the player, as a limit refuses a stake or a
    deposit: sent uncommitted, since the refusal's transaction rolls back (a notice after commit
    would never leave). The refusal is final once raised, so nothing is told that did not happen."""
    services.notify_player_uncommitted(player_id, kind="limit_reached", message=message, data=data)


@receiver(bonuses.bonus_granted, dispatch_uid="realtime.push_bonus_granted")
def push_bonus_granted(
    sender, player_id: str, bonus_id: str, campaign: str, amount: int, currency: str, **kwargs
) -> None:  # fmt: skip
    """A `bonus_granted` notice to every socket of the player, beside the grant's `wallet.updated`
    frame. A repeat after a crash repeats a message naming the same bonus id: no receipt."""
    services.notify_player(
        player_id, kind="bonus_granted", message="A bonus has been added to your account.",
        data={"bonus_id": bonus_id, "campaign": campaign, "amount": amount, "currency": currency},
    )  # fmt: skip


# A bonus's end as the player's notice: a cancellation is a forfeiture the player did not cause.
_END_NOTICES = {
    "converted": ("bonus_converted", "Your bonus's wagering is complete: what was left of it is now cash."),
    "expired": ("bonus_expired", "A bonus has expired."),
    "forfeited": ("bonus_forfeited", "A bonus was forfeited by your withdrawal."),
    "cancelled": ("bonus_forfeited", "A bonus was cancelled."),
}


@receiver(bonuses.bonus_ended, dispatch_uid="realtime.push_bonus_ended")
def push_bonus_ended(
    sender, player_id: str, bonus_id: str, campaign: str, status: str, amount: int, currency: str, **kwargs
) -> None:  # fmt: skip
    """A `bonus_converted`, `bonus_expired` or `bonus_forfeited` notice to every socket of the
    player, beside the end's `wallet.updated` frame. No receipt, as for a grant."""
    kind, message = _END_NOTICES[status]
    services.notify_player(
        player_id, kind=kind, message=message,
        data={"bonus_id": bonus_id, "campaign": campaign, "status": status, "amount": amount, "currency": currency},
    )  # fmt: skip


@receiver(compliance.account_locked, dispatch_uid="realtime.disconnect_locked_player")
def disconnect_locked_player(sender, player_id: str, message: str, data: dict | None = None, **kwargs) -> None:
    """Every socket of the player gets an `account_locked` notice, then closes 4403. A repeat
    after a crash finds no socket left to close (the player's sessions ended before the event)."""
    services.disconnect_player(player_id, kind="account_locked", message=message, data=data)


@receiver(compliance.alert_raised, dispatch_uid="realtime.push_alert")
def push_alert(sender, event_id: int | None = None, **event) -> None:
    """After the alert's commit: an `alert` frame to the back-office feed, which forwards it to the
    staff allowed to read alerts. A repeat after a crash shows the same alert id again: the page
    keeps one row per id, so no receipt."""
    brand = None
    if event.get("player_id"):  # a game's RTP drift has no player
        brand, _ = accounts.get_player_brand_and_currency(event["player_id"]) or (None, None)
    push([(BACKOFFICE_FEED, {"type": "compliance.alert", "frame": protocol.alert(event, brand)})])


@receiver(sportsbook.markets_changed, dispatch_uid="realtime.push_markets_changed")
def push_markets_changed(sender, markets: list[dict], event_id: int | None = None, **kwargs) -> None:
    """After a feed batch's (or the watchdog's) commit: the markets' states to every process's
    odds relay, which sends each to the sockets that follow its event. Built from the event
    alone. A repeat after a crash carries versions the sockets hold, which they drop: no receipt."""
    push(odds.push_messages(markets))


@receiver(sportsbook.bets_settled, dispatch_uid="realtime.push_bets_settled")
def push_bets_settled(sender, bets: list[dict], event_id: int | None = None, **kwargs) -> None:
    """A `bet_settled` notice to every socket of each bet's player (a winning bet's comes after its
    win's `wallet.updated` frame; a lost one's alone), all of one event in one push. A repeat
    after a crash repeats a notice naming the same bet and settlement: no receipt."""
    services.notify_players(
        (bet["player_id"], "bet_settled",
         "Your bet has been resettled." if bet["settlement"] > 1 else "Your bet has been settled.",
         {"bet_id": bet["bet_id"], "status": bet["status"], "payout": bet["payout"], "currency": bet["currency"]})
        for bet in bets
    )  # fmt: skip


# --- the back office's sockets follow the staff member's access ----------------------------------
#
# The socket reads the staff member's permissions at connect and holds them (no query per frame),
# so every change that can take access away is sent to their sockets, which read it again. Each
# receiver runs in the change's transaction and sends after its commit, never raising: an admin's
# save is never undone by a push.

# The fields of a user that decide their access to the feed. A save that names none of them (a
# login's `last_login`) changes nothing a socket holds, and is not sent.
_ACCESS_FIELDS = frozenset({"is_active", "is_staff", "is_superuser", "password"})


@receiver(user_logged_out, dispatch_uid="realtime.close_signed_out_sockets")
def close_signed_out_sockets(sender, request, user, **kwargs) -> None:
    """A user signed out of a session. A staff member's (or one signed out by the inactivity limit):
    the back-office sockets of that session close 4401, as a page of it now redirects to the
    sign-in. A player's: their player sockets of that session close 4401. Sent before Django
    flushes the session, while its key is still on the request."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or session_key is None:
        return
    if user.is_staff:
        services.close_staff_session_sockets(user_id=user.pk, session_key=session_key)
        return
    player_id = accounts.get_player_id_of_user(user.pk)
    if player_id is not None:
        # The player's sockets of that session, and those whose tickets it asked for.
        services.close_signed_out_player_sockets(
            player_id=player_id, credentials=[services.session_credential(session_key)]
        )


@receiver(tokens_revoked, dispatch_uid="realtime.close_revoked_token_sockets")
def close_revoked_token_sockets(
    sender, user_id: int, key_hashes: list[str], sockets_closed_by_caller: bool = False, **kwargs
) -> None:
    """A player's bearer tokens were revoked (a logout through the API, a password change): the
    sockets whose tickets they asked for close 4401, after commit. An exclusion closes every
    socket of the player itself, with its notice (`account_locked`)."""
    if sockets_closed_by_caller:
        return
    player_id = accounts.get_player_id_of_user(user_id)
    if player_id is not None:
        services.close_signed_out_player_sockets(
            player_id=player_id, credentials=[services.token_credential(key_hash) for key_hash in key_hashes]
        )


@receiver(post_save, sender=User, dispatch_uid="realtime.recheck_saved_user")
def recheck_saved_user(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    """Deactivated, no longer staff or no longer superuser, or a new password, which ends the
    user's other sessions. Whether the save took access away is not known here (the old values
    are gone), so any save that may have is sent: to the staff member's back-office sockets,
    which read their access and session again, and to a player's sockets, which read their
    sign-in again. A new user has no socket yet."""
    if created or (update_fields is not None and not _ACCESS_FIELDS.intersection(update_fields)):
        return
    player_id = accounts.get_player_id_of_user(instance.pk)
    if player_id is None:
        services.recheck_staff_access([instance.pk])
    else:
        services.recheck_player_sign_in(player_id=player_id)


@receiver(post_delete, sender=User, dispatch_uid="realtime.recheck_deleted_user")
def recheck_deleted_user(sender, instance: User, **kwargs) -> None:
    """A deleted user's session signs no one in: their sockets find no user and close 4401."""
    services.recheck_staff_access([instance.pk])


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="realtime.recheck_user_groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="realtime.recheck_user_permissions")
def recheck_users_granted(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A user's groups or own permissions changed: from the user's side (`user.groups.remove(…)`)
    the instance is the user; from the other (`group.user_set.remove(…)`) `pk_set` names the
    users, except for a clear, whose users are read before it."""
    if action in ("post_add", "post_remove") and not pk_set:  # Django sends an add of nothing new too
        return
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            services.recheck_staff_access([instance.pk])
    elif action in ("post_add", "post_remove"):
        services.recheck_staff_access(pk_set)
    elif action == "pre_clear":
        if isinstance(instance, Group):
            services.recheck_staff_access(accounts.list_staff_ids_in_groups([instance.pk]))
        else:  # a permission taken from every user who was given it
            services.recheck_staff_access(accounts.list_staff_ids_holding(instance.pk))


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="realtime.recheck_group_permissions")
def recheck_group_members(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A role's permissions changed: every staff member in it reads their access again. From the
    permission's side (`permission.group_set.remove(…)`) `pk_set` names the groups, except for a
    clear, whose groups' members are read before it. (Every `migrate` sets the roles' permissions
    again, which changes nothing and is not sent.)"""
    if action in ("post_add", "post_remove") and not pk_set:
        return
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            services.recheck_staff_access(accounts.list_staff_ids_in_groups([instance.pk]))
    elif action in ("post_add", "post_remove"):
        services.recheck_staff_access(accounts.list_staff_ids_in_groups(pk_set))
    elif action == "pre_clear":
        services.recheck_staff_access(accounts.list_staff_ids_holding(instance.pk))


@receiver(pre_delete, sender=Group, dispatch_uid="realtime.recheck_deleted_group")
def recheck_deleted_group(sender, instance: Group, **kwargs) -> None:
    """A deleted group takes its members' memberships with it, without `m2m_changed`: its members
    are read before they go."""
    services.recheck_staff_access(accounts.list_staff_ids_in_groups([instance.pk]))
