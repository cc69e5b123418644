"""Writes of player protection: limits, time-outs and self-exclusions, the return after one,
reality checks, the KYC hold, an account locked, frozen or re-opened, and the play session
started at login.

Every write that can make a player's stakes refusable sets `Player.needs_compliance_checks` in
the same transaction (`_refresh_flag`): that flag is what lets the wallet skip every query here for
the players who have none of it. The flag and the reality check's due time are on the player row,
which is accounts': they are written through accounts' services, never here. Side effects
(ending sessions, closing sockets, notices) are domain events sent after commit (`signals.py`):
the real-time app receives those the player sees; compliance never calls it. A change by
staff (`acting_user`) is also a record of the staff-action trail (`staff_audit.py`), written
last in its transaction.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts_services
from apps.accounts.choices import KycStatus, PlayerStatus
from apps.accounts.models import Brand, Player, User
from apps.common import staff_trail
from apps.common.events import send_after_commit
from apps.common.money import MAX_AMOUNT
from apps.common.timestamps import iso_utc
from apps.compliance import engine, errors, locks, rules, selectors, signals, staff_audit
from apps.compliance.choices import (
    STAKE_LIMIT_KINDS,
    ExclusionKind,
    LimitChangeStatus,
    LimitKind,
    LimitPeriod,
    RuleType,
    SelfExclusionPeriod,
    Severity,
)
from apps.compliance.models import (
    Exclusion,
    JurisdictionProfile,
    Limit,
    LimitChange,
    PlayerProtection,
    PlaySession,
    Rule,
    RuleVersion,
)

MAX_MONEY_LIMIT = MAX_AMOUNT
MAX_SESSION_MINUTES = 24 * 60
TIME_OUT_HOURS = (24, 6 * 7 * 24)  # 24 hours to 6 weeks, inclusive
SELF_EXCLUSION_LENGTHS = {
    SelfExclusionPeriod.SIX_MONTHS: relativedelta(months=6),
    SelfExclusionPeriod.ONE_YEAR: relativedelta(years=1),
    SelfExclusionPeriod.FIVE_YEARS: relativedelta(years=5),
}
REALITY_CHECK_MINUTES = (10, 24 * 60)


# --- limits ---------------------------------------------------------------------------------------


def set_limit(
    *, player: Player, kind: str, period: str | None, amount: int | None, acting_user: User | None = None,
    reason: str = "", by_system: bool = False,
) -> Limit:  # fmt: skip
    """Set, lower, raise or remove (`amount=None`) one limit, by the player (`acting_user=None`),
    by staff (`acting_user` and a `reason`) or by the system (`by_system` and a `reason`: a
    behaviour rule, through `lower_limit_by_rule`, whose caller records the staff action).

    A new limit, a decrease or the same value applies at once and cancels any pending change. An
    increase or a removal is queued: it takes effect at the end of the profile's cooling-off for
    that kind, or, where the profile says so (UKGC), once the player confirms after that.
    Records a LimitChange either way, and a change by staff as a `limit.set` staff action (the
    limit's fields before and after). Raises InvalidLimit.
    """
    period = _validate_limit(kind, period, amount)
    if (acting_user is not None or by_system) and not reason.strip():
        raise errors.InvalidLimit("A change by staff or by the system needs a reason.")
    profile = selectors.get_profile(player)
    with transaction.atomic():
        now = timezone.now()
        limit = locks.lock_or_create_limit(player, kind, period, now)
        _materialise(limit, now)
        # After materialising: a queued change that took effect on its own is not the staff's.
        before = staff_trail.snapshot(limit) if acting_user is not None else {}
        current = limit.amount
        audit = {"old_amount": current, "new_amount": amount, "acting_user": acting_user,
                 "by_player": acting_user is None and not by_system, "reason": reason}  # fmt: skip
        if amount is not None and (current is None or amount <= current):
            limit.amount = amount
            _clear_pending(limit)
            _record(limit, LimitChangeStatus.APPLIED, effective_at=now, now=now, **audit)
        elif amount is None and current is None:
            _clear_pending(limit)  # removing what is not there: nothing is queued
        else:
            limit.has_pending = True
            limit.pending_amount = amount
            limit.pending_effective_at = now + profile.cooling_off(kind)
            limit.pending_needs_confirmation = profile.increase_needs_confirmation
            _record(limit, LimitChangeStatus.QUEUED, effective_at=limit.pending_effective_at, now=now, **audit)
        limit.updated_at = now
        limit.save()
        _refresh_flag(player.pk, now)
        if acting_user is not None:
            changed_before, changed_after = staff_trail.changes(before, staff_trail.snapshot(limit))
            staff_audit.record_staff_action(actor=acting_user, action=staff_trail.LIMIT_SET, target=limit,
                                            before=changed_before, after=changed_after, reason=reason)  # fmt: skip
    return limit


def lower_limit_by_rule(
    *, player: Player, kind: str, period: str, amount: int, reason: str
) -> tuple[Limit, int | None] | None:
    """A behaviour rule's `limit` action, inside the caller's transaction: the limit is set to
    `amount` only where that lowers what is in force (no limit, or a higher one), at once, through
    `set_limit` by the system (its `LimitChange` names neither the player nor staff; a pending
    increase is cancelled, as a decrease always does). A rule never raises a limit nor queues an
    increase. Returns the limit and its amount before, or None when nothing changed."""
    with transaction.atomic():
        now = timezone.now()
        limit = locks.lock_limit(player, kind, period)
        if limit is not None:
            _materialise(limit, now)
        before = limit.amount if limit is not None else None
        if before is not None and before <= amount:
            return None
        limit = set_limit(player=player, kind=kind, period=period, amount=amount, by_system=True, reason=reason)
    return limit, before


def confirm_limit(*, player: Player, kind: str, period: str | None) -> Limit:
    """The player confirms a pending increase or removal whose cooling-off has ended; it applies
    now. Raises NothingToConfirm, CoolingOffNotEnded (not a second early)."""
    period = period or ""
    with transaction.atomic():
        now = timezone.now()
        limit = locks.lock_limit(player, kind, period)
        if limit is not None:
            _materialise(limit, now)
        if limit is None or not limit.has_pending:
            raise errors.NothingToConfirm
        if now < limit.pending_effective_at:
            raise errors.CoolingOffNotEnded(
                f"This change can be confirmed from {iso_utc(limit.pending_effective_at)}.",
                details={"effective_at": iso_utc(limit.pending_effective_at)},
            )
        _record(limit, LimitChangeStatus.CONFIRMED, old_amount=limit.amount, new_amount=limit.pending_amount,
                effective_at=now, now=now, by_player=True)  # fmt: skip
        limit.amount = limit.pending_amount
        _clear_pending(limit)
        limit.updated_at = now
        limit.save()
        _refresh_flag(player.pk, now)
    return limit


def _validate_limit(kind: str, period: str | None, amount: int | None) -> str:
    if kind not in LimitKind.values:
        raise errors.InvalidLimit(f"Unknown limit kind {kind!r}.")
    if kind == LimitKind.SESSION:
        if period:
            raise errors.InvalidLimit("A session limit has no period.")
        if amount is not None and not 1 <= amount <= MAX_SESSION_MINUTES:
            raise errors.InvalidLimit(f"A session limit is 1 to {MAX_SESSION_MINUTES} minutes.")
        return ""
    if period not in LimitPeriod.values:
        raise errors.InvalidLimit("A money limit has a period: 24h, 7d or 30d.")
    if amount is not None and not 0 <= amount <= MAX_MONEY_LIMIT:
        raise errors.InvalidLimit(f"A limit is 0 to {MAX_MONEY_LIMIT} minor units.")
    return period


def _materialise(limit: Limit, now: dt.datetime) -> None:
    """Write down a queued change that took effect on its own (evaluated on read until now)."""
    amount, pending = limit.effective(now)
    if limit.has_pending and pending is None:
        _record(limit, LimitChangeStatus.MATURED, old_amount=limit.amount, new_amount=amount,
                effective_at=limit.pending_effective_at, now=now)  # fmt: skip
        limit.amount = amount
        _clear_pending(limit)


def _clear_pending(limit: Limit) -> None:
    limit.has_pending = False
    limit.pending_amount = None
    limit.pending_effective_at = None
    limit.pending_needs_confirmation = False


def _record(limit: Limit, status: str, *, effective_at: dt.datetime, now: dt.datetime, **fields) -> None:
    """The `LimitChange` row and its `limit_changed` event, sent once the change commits."""
    change = LimitChange.objects.create(player_id=limit.player_id, kind=limit.kind, period=limit.period,
                                        status=status, effective_at=effective_at, created_at=now, **fields)  # fmt: skip
    send_after_commit(signals.limit_changed, player_id=str(limit.player_id), kind=change.kind, period=change.period,
                      status=status, old_amount=change.old_amount, new_amount=change.new_amount,
                      effective_at=iso_utc(effective_at), created_at=iso_utc(now))  # fmt: skip


# --- time-outs, self-exclusions and the return ----------------------------------------------------


def start_time_out(*, player: Player, hours: int, acting_user: User | None = None, reason: str = "") -> Exclusion:
    """A time-out of `hours` (24 to 1008, six weeks) from now. See `_exclude`."""
    if not TIME_OUT_HOURS[0] <= hours <= TIME_OUT_HOURS[1]:
        raise errors.InvalidLimit(f"A time-out lasts {TIME_OUT_HOURS[0]} to {TIME_OUT_HOURS[1]} hours.")
    now = timezone.now()
    return _exclude(player, ExclusionKind.TIME_OUT, now, now + dt.timedelta(hours=hours), acting_user, reason)


def self_exclude(*, player: Player, period: str, acting_user: User | None = None, reason: str = "") -> Exclusion:
    """A self-exclusion of 6 months, 1 year or 5 years (calendar) from now; a period shorter than
    the profile's shortest is refused (PeriodTooShort). See `_exclude`."""
    if period not in SELF_EXCLUSION_LENGTHS:
        raise errors.InvalidLimit("A self-exclusion lasts 6m, 1y or 5y.")
    now = timezone.now()
    ends_at = now + SELF_EXCLUSION_LENGTHS[period]
    shortest = selectors.get_profile(player).shortest_self_exclusion
    if ends_at < now + SELF_EXCLUSION_LENGTHS[shortest]:
        raise errors.PeriodTooShort(f"The shortest self-exclusion here is {shortest}.")
    return _exclude(player, ExclusionKind.SELF_EXCLUSION, now, ends_at, acting_user, reason)


def _exclude(
    player: Player, kind: str, now: dt.datetime, ends_at: dt.datetime, acting_user: User | None, reason: str
) -> Exclusion:
    """Start an exclusion at once: bets and deposits are refused from this commit on (the flag and
    the exclusion commit together), withdrawals still work. Sends `player_excluded` after commit,
    whose receiver ends the player's sessions and closes their sockets.

    Never shortens: while an exclusion closes the account, a new one must end later (it then
    replaces it), else AlreadyExcluded. Nothing lifts an exclusion early. Started by staff, it is
    an `exclusion.start` staff action.
    """
    with transaction.atomic():
        protection = locks.lock_protection(player)
        current = protection.exclusion
        if current is not None and current.blocks_at(now) and ends_at <= current.ends_at:
            raise errors.AlreadyExcluded(details={"ends_at": iso_utc(current.ends_at)})
        exclusion = Exclusion.objects.create(player=player, kind=kind, starts_at=now, ends_at=ends_at,
                                             acting_user=acting_user, reason=reason)  # fmt: skip
        protection.exclusion = exclusion
        protection.save(update_fields=["exclusion"])
        _refresh_flag(player.pk, now)
        send_after_commit(signals.player_excluded, player_id=str(player.pk), kind=kind, ends_at=iso_utc(ends_at))
        if acting_user is not None:
            staff_audit.record_staff_action(actor=acting_user, action=staff_trail.EXCLUSION_START, target=exclusion,
                                            after=staff_trail.snapshot(exclusion), reason=reason)  # fmt: skip
    return exclusion


def request_return(*, player: Player) -> Exclusion:
    """The player asks to come back after their exclusion ended; the account reopens
    RETURN_COOLING_OFF (24 hours) later. Asking twice keeps the first request.
    Raises NotExcluded, ExclusionNotEnded (it cannot be lifted early, by anyone)."""
    with transaction.atomic():
        now = timezone.now()
        protection = locks.lock_protection(player)
        exclusion = protection.exclusion
        if exclusion is None:
            raise errors.NotExcluded
        if now < exclusion.ends_at:
            raise errors.ExclusionNotEnded(
                f"The {exclusion.get_kind_display().lower()} ends at {iso_utc(exclusion.ends_at)}.",
                details={"ends_at": iso_utc(exclusion.ends_at)},
            )
        if exclusion.return_requested_at is None:
            exclusion.return_requested_at = now
            exclusion.save(update_fields=["return_requested_at"])
    return exclusion


# --- KYC --------------------------------------------------------------------------------------------


KYC_THRESHOLD_MESSAGE = (
    "Your deposits have reached the amount at which we must verify your identity. "
    "Deposits and play are paused until you are verified; withdrawals need verification too."
)


def hold_for_kyc(*, player: Player, now: dt.datetime, message: str = KYC_THRESHOLD_MESSAGE) -> None:
    """Inside the money transaction of the deposit that reached the KYC threshold (or of a
    behaviour rule's `require_kyc`): from its commit on, the unverified player can neither deposit
    nor bet until verified. Tells them why (`message`)."""
    PlayerProtection.objects.get_or_create(player=player)
    PlayerProtection.objects.filter(player=player, kyc_threshold_reached_at__isnull=True).update(
        kyc_threshold_reached_at=now
    )
    accounts_services.set_needs_compliance_checks(player_id=player.pk, needed=True)
    send_after_commit(
        signals.player_notice,
        player_id=str(player.pk),
        kind="account_locked",
        message=message,
        data={"reason": "kyc_required"},
    )


def require_kyc_by_rule(*, player: Player, message: str) -> bool:
    """A behaviour rule's `require_kyc` action, inside the caller's transaction: an unverified
    player not yet on a KYC hold is put on one (`hold_for_kyc`: deposits and bets wait for
    verification). Returns whether a hold was placed: not for a verified player (verified already;
    the rule's alert is staff's cue for a new review) nor for one already held."""
    if player.kyc_status == KycStatus.VERIFIED:
        return False
    with transaction.atomic():
        protection = locks.lock_protection(player)
        if protection.kyc_threshold_reached_at is not None:
            return False
        hold_for_kyc(player=player, now=timezone.now(), message=message)
    return True


def lock_account(*, player: Player, message: str) -> None:
    """Lock the player's account (no bets, no deposits; withdrawals still allowed) inside the
    caller's transaction; once it commits, `account_locked` gives every open socket of the player
    a notice with `message` and closes it (and the player's socket extension refuses new ones).
    Only an active account is locked: a frozen or closed one stays as it is (it stops withdrawals
    too, which a lock would allow again), and one locked already is not told twice."""
    _close_for_play(player, PlayerStatus.LOCKED, message)


def freeze_account(*, player: Player, message: str) -> None:
    """Freeze the player's account until staff review it (staff set the status back): no bets,
    deposits or withdrawals (`gate.py`), while wins and rollbacks of rounds already played are
    still paid (the wallet never refuses them). Inside the caller's transaction; once it commits,
    `account_locked` gives every open socket of the player a notice with `message` (reason
    `frozen`) and closes it, and no new one opens. An active or locked account is frozen; a
    closed one stays closed."""
    _close_for_play(player, PlayerStatus.FROZEN, message)


# The standings each closing applies to: a lock, the mildest, only to an active account.
_CLOSES = {
    PlayerStatus.LOCKED: (PlayerStatus.ACTIVE,),
    PlayerStatus.FROZEN: (PlayerStatus.ACTIVE, PlayerStatus.LOCKED),
}


def _close_for_play(player: Player, status: str, message: str) -> None:
    # Under the player row's lock: of a closing and a staff freeze or re-opening racing, the
    # second sees what the first did.
    found = accounts_services.move_player_status(player_id=player.pk, from_statuses=_CLOSES[status], status=status)
    if found not in _CLOSES[status]:
        player.status = found
        return
    player.status = status
    send_after_commit(signals.account_locked, player_id=str(player.pk), message=message, data={"reason": status})


# --- the account's standing, by staff ----------------------------------------------------------------

STAFF_LOCK_MESSAGE = "Your account is locked: contact support."
STAFF_FREEZE_MESSAGE = "Your account is frozen until we review it: contact support."


def lock_account_by_staff(*, player: Player, acting_user: User, reason: str) -> Player:
    """Staff lock an active account (as a rule's `lock` does: no bets or deposits, withdrawals
    still work; the player's sockets get a notice and close after commit). An `account.lock`
    staff action. Raises InvalidStandingChange: no reason, or the account is not active."""
    return _change_standing(player, acting_user, reason, staff_trail.ACCOUNT_LOCK, PlayerStatus.LOCKED,
                            from_statuses=(PlayerStatus.ACTIVE,), message=STAFF_LOCK_MESSAGE)  # fmt: skip


def freeze_account_by_staff(*, player: Player, acting_user: User, reason: str) -> Player:
    """Staff freeze an active or locked account (as a rule's `freeze` does: withdrawals stop
    too). An `account.freeze` staff action. Raises InvalidStandingChange: no reason, or the
    account is frozen or closed already."""
    return _change_standing(player, acting_user, reason, staff_trail.ACCOUNT_FREEZE, PlayerStatus.FROZEN,
                            from_statuses=(PlayerStatus.ACTIVE, PlayerStatus.LOCKED),
                            message=STAFF_FREEZE_MESSAGE)  # fmt: skip


def reopen_account(*, player: Player, acting_user: User, reason: str) -> Player:
    """Staff re-open a locked or frozen account after review: from this commit on the player may
    bet, deposit, withdraw and open a socket again (what else holds them, an exclusion, a limit or
    a KYC hold, still does). A lock or freeze lasts until this: nothing lifts one on its own. An
    `account.reopen` staff action. Raises InvalidStandingChange: no reason, or the account is
    active (nothing to re-open) or closed (final)."""
    return _change_standing(player, acting_user, reason, staff_trail.ACCOUNT_REOPEN, PlayerStatus.ACTIVE,
                            from_statuses=(PlayerStatus.LOCKED, PlayerStatus.FROZEN))  # fmt: skip


STAFF_CLOSE_MESSAGE = "Your account is closed: contact support."
# The notice a player gets when staff close their account for play, by the status it moved to.
_CLOSED_FOR_PLAY = {
    PlayerStatus.LOCKED: STAFF_LOCK_MESSAGE,
    PlayerStatus.FROZEN: STAFF_FREEZE_MESSAGE,
    PlayerStatus.CLOSED: STAFF_CLOSE_MESSAGE,
}


def status_changed_on_player_page(player_id: int) -> None:
    """Inside the transaction in which staff changed the status on the player's page (with its
    reason in the trail, as `admin.change`): an account now locked, frozen or closed has its
    sockets told and closed after commit, as the lock and freeze actions do."""
    status = accounts_selectors.get_player(player_id).status
    if status in _CLOSED_FOR_PLAY:
        send_after_commit(signals.account_locked, player_id=str(player_id), message=_CLOSED_FOR_PLAY[status],
                          data={"reason": status})  # fmt: skip


def _change_standing(
    player: Player, acting_user: User, reason: str, action: str, status: str, *, from_statuses: tuple[str, ...],
    message: str = "",
) -> Player:  # fmt: skip
    if not reason.strip():
        raise errors.InvalidStandingChange("A change of an account's standing by staff says why (reason).")
    with transaction.atomic():
        before = accounts_services.move_player_status(player_id=player.pk, from_statuses=from_statuses, status=status)
        if before not in from_statuses:
            raise errors.InvalidStandingChange(f"The account is {before}: this change does not apply to it.")
        player.status = status
        if message:  # closed for play: the player's sockets are told why and closed
            send_after_commit(signals.account_locked, player_id=str(player.pk), message=message,
                              data={"reason": status})  # fmt: skip
        staff_audit.record_staff_action(actor=acting_user, action=action, target=player, before={"status": before},
                                        after={"status": status}, reason=reason)  # fmt: skip
    return player


# --- play sessions and reality checks ---------------------------------------------------------------


def start_play_session(*, player: Player, session_key: str = "") -> None:
    """A login: the play session (session time limit, reality checks) restarts now, and the first
    reality check is due one interval later. `session_key` is kept so an exclusion can end it."""
    with transaction.atomic():
        now = timezone.now()
        protection = locks.lock_protection(player)
        protection.session_started_at = now
        protection.last_reality_check_at = None
        protection.save(update_fields=["session_started_at", "last_reality_check_at"])
        PlaySession.objects.create(player=player, session_key=session_key or "", started_at=now)
        interval = selectors.get_reality_check_interval(player, protection)
        accounts_services.set_reality_check_due(player_id=player.pk, due_at=now + dt.timedelta(minutes=interval))
        _refresh_flag(player.pk, now)  # a check left unacknowledged in the last session no longer pauses play


def set_reality_check_interval(*, player: Player, minutes: int) -> PlayerProtection:
    """The player's own reality-check interval (10 to 1440 minutes); the next check is due one
    interval after the last one (or the session's start)."""
    if not REALITY_CHECK_MINUTES[0] <= minutes <= REALITY_CHECK_MINUTES[1]:
        raise errors.InvalidLimit(
            f"A reality check comes every {REALITY_CHECK_MINUTES[0]} to {REALITY_CHECK_MINUTES[1]} minutes."
        )
    with transaction.atomic():
        protection = locks.lock_protection(player)
        protection.reality_check_minutes = minutes
        protection.save(update_fields=["reality_check_minutes"])
        since = protection.last_reality_check_at or protection.session_started_at
        if since is not None:
            due_at = since + dt.timedelta(minutes=minutes)
            accounts_services.set_reality_check_due(player_id=player.pk, due_at=due_at)
    return protection


def acknowledge_reality_check(*, player: Player) -> PlayerProtection:
    """The player read the last reality check and continues: bets are taken again. (To stop, the
    player logs out, through the auth API.)"""
    with transaction.atomic():
        now = timezone.now()
        protection = locks.lock_protection(player)
        protection.reality_check_acknowledged_at = now
        protection.save(update_fields=["reality_check_acknowledged_at"])
        _refresh_flag(player.pk, now)
    return protection


def send_due_reality_check(*, player_id: int, due_at: dt.datetime) -> bool:
    """When the check is due (after the commit of a bet that found it due, or from the timer of one
    of the player's open sockets): send one `reality_check` notice (time played and net result of
    this session), move the due time one interval on, and pause play until the player
    acknowledges (the flag makes the money path read the protection row).

    The conditional UPDATE on the due time the caller saw makes it once per due time, however many
    bets, sockets (or outbox re-deliveries) ask. Returns whether this call sent it."""
    with transaction.atomic():
        now = timezone.now()
        player = accounts_selectors.get_player(player_id)
        protection = locks.lock_protection(player)
        interval = selectors.get_reality_check_interval(player, protection)
        next_due_at = now + dt.timedelta(minutes=interval)
        if not accounts_services.move_reality_check_due(player_id=player_id, seen=due_at, due_at=next_due_at):
            return False
        started = protection.session_started_at or due_at - dt.timedelta(minutes=interval)
        protection.last_reality_check_at = now
        protection.save(update_fields=["last_reality_check_at"])
        _refresh_flag(player_id, now)
        minutes = int((now - started).total_seconds() // 60)
        net = selectors.session_result(player_id, started)
        data = {"session_started_at": iso_utc(started), "minutes_played": minutes, "net_result": net,
                "currency": player.currency_id, "acknowledge": selectors.REALITY_CHECK_ACK_URL}  # fmt: skip
        message = (
            f"You have played for {minutes} minutes; your net result this session is {net} (minor units). "
            "Acknowledge to continue playing, or log out."
        )
        send_after_commit(signals.player_notice, player_id=str(player_id), kind="reality_check", message=message,
                          data=data)  # fmt: skip
    return True


# --- the effects of an exclusion ----------------------------------------------------------------------


def end_player_sessions(*, player_id: int, message: str, data: dict | None = None) -> None:
    """Log the player out everywhere: every Django session recorded at login and every player API
    bearer token; then `account_locked` (after commit) has every open WebSocket get a `notice`
    with `message` and `data` and close 4403. Idempotent."""
    player = accounts_selectors.get_player(player_id)
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    sessions = PlaySession.objects.filter(player_id=player_id)
    for key in list(sessions.exclude(session_key="").values_list("session_key", flat=True)):
        store(session_key=key).delete()
    sessions.delete()
    # Every socket of the player closes with the notice below, not with the tokens' sign-out.
    accounts_services.revoke_all_tokens(player.user, sockets_closed_by_caller=True)
    send_after_commit(signals.account_locked, player_id=str(player_id), message=message, data=data or {})


def refresh_checks(player_id: int) -> None:
    """After a change of the player made elsewhere (KYC verified in the back office): whether the
    money path still needs to read the player's protection state."""
    with transaction.atomic():
        _refresh_flag(player_id, timezone.now())


# --- internals --------------------------------------------------------------------------------------


def _refresh_flag(player_id: int, now: dt.datetime) -> None:
    """Set `Player.needs_compliance_checks` to whether anything here can refuse the player's
    stakes: a wager, loss or session limit in force or pending, an exclusion not yet returned
    from, a KYC hold while unverified, a reality check not yet acknowledged. A deposit limit alone
    does not: the cashier reads the deposit limits at every deposit's start, and a player whom
    only those protect (every player, in a jurisdiction that sets them at registration) bets
    through the wallet's bet function."""
    has_limits = (
        Limit.objects.filter(player_id=player_id, kind__in=STAKE_LIMIT_KINDS)
        .filter(Q(amount__isnull=False) | Q(has_pending=True))
        .exists()
    )
    protection = PlayerProtection.objects.select_related("exclusion", "player").filter(player_id=player_id).first()
    excluded = held = paused = False
    if protection is not None:
        exclusion = protection.exclusion
        excluded = exclusion is not None and (exclusion.blocks_at(now) or exclusion.return_requested_at is None
                                              or exclusion.returns_at() > now)  # fmt: skip
        held = protection.kyc_threshold_reached_at is not None and protection.player.kyc_status != KycStatus.VERIFIED
        paused = protection.reality_check_awaits_ack
    needed = has_limits or excluded or held or paused
    accounts_services.set_needs_compliance_checks(player_id=player_id, needed=needed)


# --- behaviour rules ----------------------------------------------------------------------------------


def save_rule(
    *, code: str, rule_type: str, parameters: dict, severity: str, actions: list[str], enabled: bool,
    acting_user: User, reason: str, brand: Brand | None = None, jurisdiction: JurisdictionProfile | None = None,
) -> Rule:  # fmt: skip
    """Create the rule `code`, or change it: every save that changes something is a new
    `RuleVersion` (the rule's `version` names it) and a `rule.save` staff action by `acting_user`
    with `reason`, in one transaction; a save that changes nothing writes nothing. The engine's
    cache of this process forgets the rules on commit (other processes within
    `engine.CACHE_SECONDS`).

    Raises InvalidRule: invalid parameters or actions (`rules.validate`), an unknown severity, no
    reason, or another type for an existing rule (a rule's type never changes: its versions and
    alerts would mean something else).
    """
    clean, ordered = rules.validate(rule_type, parameters, actions)
    if severity not in Severity.values:
        raise errors.InvalidRule(f"Severity is one of {', '.join(Severity.values)}.")
    if not reason.strip():
        raise errors.InvalidRule("A change of a rule says why (reason).")
    if rule_type == RuleType.DEPOSIT_THRESHOLD and not accounts_selectors.is_known_currency(clean["currency"]):
        raise errors.InvalidRule(f"Unknown currency {clean['currency']!r}.")
    if rules.LIMIT in clean and not accounts_selectors.is_known_currency(clean[rules.LIMIT]["currency"]):
        raise errors.InvalidRule(f"Unknown currency {clean[rules.LIMIT]['currency']!r}.")
    with transaction.atomic():
        now = timezone.now()
        rule = locks.lock_rule(code)
        if rule is not None and rule.type != rule_type:
            raise errors.InvalidRule("A rule's type never changes: create a rule with another code.")
        before = staff_trail.snapshot(rule) if rule is not None else {}
        rule = rule or Rule(code=code, type=rule_type)
        rule.parameters, rule.severity, rule.actions, rule.enabled = clean, severity, ordered, enabled
        rule.brand, rule.jurisdiction = brand, jurisdiction
        changed_before, changed_after = staff_trail.changes(
            {k: v for k, v in before.items() if k not in ("version", "updated_at")},
            _rule_fields(rule),
        )
        if rule.pk is not None and not changed_after:
            return rule
        rule.version += 1
        rule.updated_at = now
        rule.save()
        RuleVersion.objects.create(
            rule=rule, version=rule.version, type=rule.type, parameters=rule.parameters, severity=rule.severity,
            brand=rule.brand, jurisdiction=rule.jurisdiction, actions=rule.actions, enabled=rule.enabled,
            created_at=now, created_by=acting_user, reason=reason,
        )  # fmt: skip
        transaction.on_commit(engine.forget_rules)
        staff_audit.record_staff_action(
            actor=acting_user, action=staff_trail.RULE_SAVE, target=rule, before=changed_before,
            after={**changed_after, "version": rule.version}, reason=reason,
        )  # fmt: skip
    return rule


def _rule_fields(rule: Rule) -> dict:
    """The rule's values as the trail stores them, without its version and time (what a save compares)."""
    return {name: value for name, value in staff_trail.snapshot(rule).items() if name not in ("version", "updated_at")}
