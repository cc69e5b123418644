"""Reads of player protection, and the entry points the wallet asks before money moves.

`assert_may_stake` and `assert_may_deposit` are called inside the wallet's money transaction,
after the player's accounts are locked (`SELECT … FOR UPDATE`). Calls for one player are thereby
serialised, and what is read here (usage summed from the committed ledger) cannot change before
the stake is written: of two concurrent bets or deposits, the second sees the first. That is what
keeps twenty concurrent bets from passing a limit together.

A player whose row says `needs_compliance_checks = False` (no limit, exclusion or KYC hold) is
decided from the row the lock query already read: no query at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.choices import KycStatus, PlayerStatus
from apps.accounts.models import Player
from apps.common.events import send_after_commit
from apps.common.timestamps import iso_utc
from apps.compliance import signals
from apps.compliance.choices import LimitKind, LimitPeriod
from apps.compliance.errors import KycRequired, LimitReached, PlayerBlocked, PlayerExcluded
from apps.compliance.models import Exclusion, JurisdictionProfile, Limit, Pending, PlayerProtection
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction

PERIODS = {
    LimitPeriod.DAY: dt.timedelta(hours=24),
    LimitPeriod.WEEK: dt.timedelta(days=7),
    LimitPeriod.MONTH: dt.timedelta(days=30),
}
# Which ledger kinds each money limit sums (Transaction.amount is the player's signed net move):
# turnover is what bets took less what rollbacks refunded; a loss is that less the wins.
_SUMMED_KINDS = {
    LimitKind.DEPOSIT: (TransactionKind.DEPOSIT,),
    LimitKind.WAGER: (TransactionKind.BET, TransactionKind.ROLLBACK),
    LimitKind.LOSS: (TransactionKind.BET, TransactionKind.ROLLBACK, TransactionKind.WIN),
}
_STAKE_LIMITS = (LimitKind.WAGER, LimitKind.LOSS, LimitKind.SESSION)


# --- the money path ---------------------------------------------------------------------------------


def assert_may_stake(*, player: Player, amount: int) -> None:
    """Raise unless `player` may stake `amount` (minor units) now.

    Raises PlayerBlocked (the account is not active), PlayerExcluded (a time-out or
    self-exclusion, or one that ended but whose return has not taken effect), KycRequired
    (unverified past the profile's deposit threshold), LimitReached (the stake would take a wager
    or loss limit's rolling-window usage past the limit, or the session time limit has passed).
    Costs no query unless the player's row has `needs_compliance_checks`; then one for the
    protection state, one for the limits and one for the usage (only with a wager or loss limit).
    Registers the player's due reality check (`reality_check_due`, after commit).
    """
    if player.status != PlayerStatus.ACTIVE:
        raise PlayerBlocked(f"The player's account is {player.status}.")
    now = timezone.now()
    if player.needs_compliance_checks:
        protection = _protection(player.pk)
        _refuse_if_held(player, protection, now)
        limits = _limits_in_force(player.pk, now, kinds=_STAKE_LIMITS)
        session = limits.pop((LimitKind.SESSION, ""), None)
        started = protection.session_started_at if protection is not None else None
        if session is not None and started is not None and now - started >= dt.timedelta(minutes=session):
            raise LimitReached(f"The session time limit of {session} minutes has been reached.")
        _refuse_over_limits(player.pk, now, limits, amount)
    if player.reality_check_due_at is not None and now >= player.reality_check_due_at:
        send_after_commit(
            signals.reality_check_due, player_id=str(player.pk), due_at=iso_utc(player.reality_check_due_at)
        )


def assert_may_deposit(*, player: Player, amount: int) -> None:
    """Raise unless `player` may deposit `amount` now; called by the wallet's `credit` for deposits,
    inside its money transaction after the lock.

    Raises PlayerBlocked, PlayerExcluded, KycRequired (as `assert_may_stake`) and LimitReached (the
    deposit would take a deposit limit's rolling-window usage past it). For an unverified player
    it sums their deposits (two queries: the profile, the sum): the deposit that reaches the
    profile's KYC threshold is accepted and puts the player on a KYC hold, written in the same
    transaction so it commits with the deposit; after that, deposits and bets are refused until
    the player is verified.
    """
    from apps.compliance import services  # services import this module

    if player.status != PlayerStatus.ACTIVE:
        raise PlayerBlocked(f"The player's account is {player.status}.")
    now = timezone.now()
    if player.needs_compliance_checks:
        _refuse_if_held(player, _protection(player.pk), now)
        _refuse_over_limits(player.pk, now, _limits_in_force(player.pk, now, kinds=(LimitKind.DEPOSIT,)), amount)
    if player.kyc_status == KycStatus.VERIFIED:
        return
    threshold = get_profile(player).kyc_deposit_threshold
    deposited = total_deposits(player.pk)
    if deposited >= threshold:
        raise KycRequired("Deposits are paused until the player's identity is verified.")
    if deposited + amount >= threshold:
        services.hold_for_kyc(player=player, now=now)


def assert_may_withdraw(*, player: Player, amount: int) -> None:
    """Raise KycRequired unless the player is verified. Exclusions and limits never stop a
    withdrawal: an excluded player must be able to take their money out."""
    if player.kyc_status != KycStatus.VERIFIED:
        raise KycRequired("Withdrawals need a verified identity.")


def _protection(player_id: int) -> PlayerProtection | None:
    return PlayerProtection.objects.select_related("exclusion").filter(player_id=player_id).first()


def _refuse_if_held(player: Player, protection: PlayerProtection | None, now: dt.datetime) -> None:
    if protection is None:
        return
    if protection.exclusion is not None and protection.exclusion.blocks_at(now):
        raise PlayerExcluded(_exclusion_message(protection.exclusion, now))
    if protection.kyc_threshold_reached_at is not None and player.kyc_status != KycStatus.VERIFIED:
        raise KycRequired("Play and deposits are paused until the player's identity is verified.")


def _exclusion_message(exclusion: Exclusion, now: dt.datetime) -> str:
    what = exclusion.get_kind_display()
    if now < exclusion.ends_at:
        return f"{what} until {iso_utc(exclusion.ends_at)}."
    if exclusion.return_requested_at is None:
        return f"The {what.lower()} has ended; the player may ask to return."
    return f"The {what.lower()} has ended; the account reopens at {iso_utc(exclusion.returns_at())}."


def _limits_in_force(player_id: int, now: dt.datetime, *, kinds) -> dict[tuple[str, str], int]:
    """(kind, period) -> the amount in force now, for the limits of `kinds` that have one."""
    in_force = {}
    for limit in Limit.objects.filter(player_id=player_id, kind__in=kinds):
        amount, _ = limit.effective(now)
        if amount is not None:
            in_force[(limit.kind, limit.period)] = amount
    return in_force


def _refuse_over_limits(player_id: int, now: dt.datetime, limits: dict[tuple[str, str], int], amount: int) -> None:
    """Every limit is checked against its own window, so where limits overlap (a 24-hour one
    inside a 7-day one, a wager and a loss limit) the lowest headroom decides."""
    if not limits:
        return
    used = usage(player_id, now, limits.keys())
    for (kind, period), limit in sorted(limits.items(), key=lambda item: item[1] - used[item[0]]):
        if used[(kind, period)] + amount > limit:
            left = max(limit - used[(kind, period)], 0)
            raise LimitReached(
                f"This would pass the {period} {kind} limit of {limit} ({left} left).",
                details={"limit": {"kind": kind, "period": period, "amount": limit, "remaining": left}},
            )


def usage(player_id: int, now: dt.datetime, keys) -> dict[tuple[str, str], int]:
    """What the player has used of each (kind, period) money limit: the ledger summed over the
    rolling window (now - period, now], in one query (index-only on PostgreSQL, migration 0003).

    A transaction exactly one period old has left the window. Deposits count gross; wagers are
    stakes less refunded rollbacks; losses are that less wins, and never below zero.
    """
    keys = [key for key in keys if key[0] != LimitKind.SESSION]
    if not keys:
        return {}
    sums = {
        f"{kind}_{period}": Sum(
            "amount", filter=Q(created_at__gt=now - PERIODS[period], kind__in=_SUMMED_KINDS[kind]), default=0
        )
        for kind, period in keys
    }
    oldest = now - max(PERIODS[period] for _, period in keys)
    totals = Transaction.objects.filter(player_id=player_id, created_at__gt=oldest).aggregate(**sums)
    return {
        (kind, period): totals[f"{kind}_{period}"] if kind == LimitKind.DEPOSIT else max(-totals[f"{kind}_{period}"], 0)
        for kind, period in keys
    }


# --- reads for the API and the admin ---------------------------------------------------------------


def get_profile(player: Player) -> JurisdictionProfile:
    """The jurisdiction profile of the player's brand, or the default profile."""
    profile = JurisdictionProfile.objects.filter(brands__id=player.brand_id).first()
    return profile or JurisdictionProfile.objects.get(is_default=True)


def total_deposits(player_id: int) -> int:
    """Every deposit the player ever made (minor units)."""
    return Transaction.objects.filter(player_id=player_id, kind=TransactionKind.DEPOSIT).aggregate(
        total=Sum("amount", default=0)
    )["total"]


@dataclass(frozen=True)
class LimitView:
    kind: str
    period: str | None
    amount: int
    used: int
    pending: Pending | None


def list_limits(player: Player, now: dt.datetime | None = None) -> list[LimitView]:
    """The player's limits in force (or with a change pending), with what is used of each now.
    A session limit's `used` is the minutes of the current session."""
    now = now or timezone.now()
    views = []
    rows = list(Limit.objects.filter(player=player))
    used = usage(player.pk, now, [(row.kind, row.period) for row in rows])
    for row in rows:
        amount, pending = row.effective(now)
        if amount is None:
            continue
        if row.kind == LimitKind.SESSION:
            protection = PlayerProtection.objects.filter(player=player).first()
            started = protection.session_started_at if protection else None
            spent = int((now - started).total_seconds() // 60) if started else 0
        else:
            spent = used[(row.kind, row.period)]
        views.append(LimitView(row.kind, row.period or None, amount, spent, pending))
    order = {kind: n for n, kind in enumerate(LimitKind.values)}
    periods = {period: n for n, period in enumerate(["", *LimitPeriod.values])}
    return sorted(views, key=lambda view: (order[view.kind], periods[view.period or ""]))


def get_current_exclusion(player: Player) -> Exclusion | None:
    protection = _protection(player.pk)
    return protection.exclusion if protection else None


def is_excluded(player: Player, now: dt.datetime | None = None) -> bool:
    """Whether a time-out or self-exclusion (or its return cooling-off) closes the account now:
    realtime refuses a new socket, bonuses send no promotion."""
    exclusion = get_current_exclusion(player)
    return exclusion is not None and exclusion.blocks_at(now or timezone.now())


def may_receive_promotions(player: Player) -> bool:
    return not is_excluded(player)


def get_reality_check_interval(player: Player, protection: PlayerProtection | None = None) -> int:
    """Minutes between reality checks: the player's choice, else the profile's default."""
    if protection is None:
        protection = PlayerProtection.objects.filter(player=player).first()
    if protection is not None and protection.reality_check_minutes:
        return protection.reality_check_minutes
    return get_profile(player).reality_check_minutes


def session_result(player_id: int, since: dt.datetime) -> int:
    """The player's net result (wins less stakes, after rollbacks) since `since`, minor units."""
    return Transaction.objects.filter(
        player_id=player_id, created_at__gte=since, kind__in=_SUMMED_KINDS[LimitKind.LOSS]
    ).aggregate(total=Sum("amount", default=0))["total"]
