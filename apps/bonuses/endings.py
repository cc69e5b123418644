"""How a bonus ends: converted, expired, forfeited or cancelled.

Every end is one wallet transaction of its own kind that moves what the player holds of the bonus
off their bonus account (to cash for a conversion, back to the bonus pool otherwise), with the
`Bonus` row, the player's bonus state and the `bonus_ended` event written in the same database
transaction. An end happens either inside another money movement that holds the player's lock
(`end_within`: an expiry or a conversion found by a stake, a forfeiture by a withdrawal) or in a
transaction of its own (`end_bonus`: the expiry sweep, a staff cancellation), which takes the lock
through the wallet's `release_bonus`. Either way it runs under the player's wallet lock, so a
bonus ends once: the second attempt finds it no longer active.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.choices import BonusState
from apps.accounts.models import User
from apps.bonuses import errors, selectors, signals
from apps.bonuses.choices import BonusStatus
from apps.bonuses.models import Bonus
from apps.bonuses.selectors import ActiveBonus
from apps.common import staff_trail
from apps.common.events import send_after_commit
from apps.common.idempotency import ExternalRef, fingerprint
from apps.common.timestamps import iso_utc
from apps.wallet import services as wallet_services
from apps.wallet.choices import TransactionKind
from apps.wallet.errors import DuplicateTransaction

END_ORIGIN = "bonus"
END_KINDS = {
    BonusStatus.CONVERTED: TransactionKind.BONUS_CONVERTED,
    BonusStatus.EXPIRED: TransactionKind.BONUS_EXPIRED,
    BonusStatus.FORFEITED: TransactionKind.BONUS_FORFEITED,
    BonusStatus.CANCELLED: TransactionKind.BONUS_CANCELLED,
}


def end_ref(bonus_id: str, status: BonusStatus) -> ExternalRef:
    """The end's wallet id: one per bonus, whichever way it ends (the way in its fingerprint: a
    second end of another kind is refused, the same end again is a replay)."""
    return ExternalRef(END_ORIGIN, f"end:{bonus_id}", fingerprint("bonus.end", {"bonus": bonus_id, "status": status}))


def end_within(
    wallet, bonus: ActiveBonus, active: list[ActiveBonus], status: BonusStatus, *, now: dt.datetime,
) -> int:  # fmt: skip
    """End `bonus` inside a money movement holding the player's lock (`wallet`, the locked wallet):
    its share of the bonus account (`selectors.bonus_shares` over `active`, the player's active
    bonuses, which it is one of) leaves as the end's transaction, before the movement's own.
    Removes it from `active` and returns the amount moved."""
    amount = selectors.bonus_shares(wallet.bonus.balance, active)[bonus.pk]
    wallet_services.release_bonus_within(
        wallet, kind=END_KINDS[status], ref=end_ref(bonus.public_id, status), amount=amount
    )
    active.remove(bonus)
    _record_end(bonus, status, amount, now=now, others_active=bool(active))
    return amount


def end_bonus(bonus: Bonus, status: BonusStatus, *, reason: str = "", acting_user: User | None = None) -> Bonus:
    """End `bonus` in a money transaction of its own: an expiry found by the sweep, a staff
    cancellation (with a `reason`, a `bonus.cancel` staff action by `acting_user`, None for a
    command). Raises BonusNotActive if it already ended."""
    if status == BonusStatus.CANCELLED and not reason.strip():
        raise errors.InvalidCampaign("A cancellation says why (reason).")
    if status == BonusStatus.CONVERTED:
        raise ValueError("A bonus converts inside the stake that completes its wagering.")
    if not Bonus.objects.filter(pk=bonus.pk, status=BonusStatus.ACTIVE).exists():
        raise errors.BonusNotActive  # checked again under the lock (amount_of): this spares the lock
    seen: dict = {}

    def amount_of(wallet) -> int:
        active = selectors.active_bonuses(bonus.player_id)
        seen["bonus"] = next((row for row in active if row.pk == bonus.pk), None)
        if seen["bonus"] is None:
            raise errors.BonusNotActive
        seen["others_active"] = len(active) > 1
        seen["amount"] = selectors.bonus_shares(wallet.bonus.balance, active)[bonus.pk]
        return seen["amount"]

    def record(_tx) -> None:
        _record_end(seen["bonus"], status, seen["amount"], now=timezone.now(), others_active=seen["others_active"],
                    reason=reason, acting_user=acting_user)  # fmt: skip

    try:
        wallet_services.release_bonus(
            player_id=bonus.player_id, currency=bonus.currency_id, kind=END_KINDS[status],
            ref=end_ref(bonus.public_id, status), amount_of=amount_of, commit_with=record,
        )  # fmt: skip
    except DuplicateTransaction as exc:  # it ended another way first
        raise errors.BonusNotActive from exc
    return Bonus.objects.get(pk=bonus.pk)


def _record_end(
    bonus: ActiveBonus, status: BonusStatus, amount: int, *, now: dt.datetime, others_active: bool, reason: str = "",
    acting_user: User | None = None,
) -> None:  # fmt: skip
    """The end's records, in its money transaction: the row, the player's bonus state, the
    staff action of a cancellation, the event."""
    # An expiry ends at the bonus's own time, whenever the sweep or a stake finds it.
    ended_at = bonus.expires_at if status == BonusStatus.EXPIRED and bonus.expires_at else now
    Bonus.objects.filter(pk=bonus.pk, status=BonusStatus.ACTIVE).update(
        status=status, remaining=0, ended_amount=amount, ended_at=ended_at
    )
    if others_active:
        state = BonusState.ACTIVE
    else:
        state = BonusState.CONVERTED if status == BonusStatus.CONVERTED else BonusState.RETURNED
    accounts.set_bonus_state(player_id=bonus.player_id, state=state)
    if status == BonusStatus.CANCELLED:
        staff_trail.record_staff_action(
            actor=acting_user, action=staff_trail.BONUS_CANCEL, target=("bonuses.bonus", str(bonus.pk)),
            before={"status": BonusStatus.ACTIVE}, after={"status": status, "returned": amount}, reason=reason,
        )  # fmt: skip
    send_after_commit(
        signals.bonus_ended, player_id=str(bonus.player_id), bonus_id=bonus.public_id, campaign=bonus.campaign_code,
        status=status, amount=amount, currency=bonus.currency_id, ended_at=iso_utc(ended_at), reason=reason,
    )  # fmt: skip
