"""Changes of the bonuses app: campaigns saved by staff, players opting in, grants, the ends a
sweep or staff decide.

A grant moves money: one `wallet.services.credit` from the bonus pool to the player's bonus
account, whose `commit_with` writes the `Bonus` row in the money's transaction (both or neither).
Wagering, conversion and forfeiture on withdrawal happen inside the wallet's own transactions
(`wagering.py`); expiry and cancellation end a bonus in a transaction of their own (`endings.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts import services as accounts
from apps.accounts.choices import BonusState
from apps.accounts.models import Player, User
from apps.bonuses import campaigns, endings, errors, locks, periods, selectors, signals, triggers
from apps.bonuses.choices import DEPOSIT_TRIGGERS, BonusStatus, CampaignKind, Trigger, WageringBase
from apps.bonuses.models import Bonus, Campaign, CashbackRun, GameWeight, OptIn
from apps.common import staff_trail
from apps.common.events import send_after_commit
from apps.common.idempotency import ExternalRef, fingerprint
from apps.common.timestamps import iso_utc
from apps.compliance import selectors as compliance
from apps.wallet import services as wallet
from apps.wallet.choices import BONUS_POOL, TransactionKind

GRANT_ORIGIN = "bonus"

# The fields of a campaign a save may set (everything but its code, which names it, and its time).
CAMPAIGN_FIELDS = (
    "name", "kind", "enabled", "brand", "countries", "new_players_only", "requires_opt_in", "one_per_player",
    "allow_concurrent", "currency", "budget", "match_percent", "amount", "cap", "trigger", "min_deposit",
    "wagering_threshold", "wagering_period_days", "cashback_percent", "cashback_period_days", "wagering_multiple",
    "wagering_base", "default_weight_percent", "max_stake", "expires_after_days", "forfeit_on_withdrawal",
    "starts_at", "ends_at",
)  # fmt: skip


@dataclass(frozen=True)
class Weight:
    """A game weight as a save gives it: a game type or a game code (exactly one), 0 to 100 %."""

    percent: int
    game_type: str = ""
    game_code: str = ""


def save_campaign(
    *, code: str, acting_user: User | None, reason: str, weights: Iterable[Weight] = (), **fields
) -> Campaign:
    """Create the campaign `code`, or change it, with exactly these game `weights`: one
    `bonus.campaign_save` staff action by `acting_user` (None only for a management command) with
    `reason` and the fields that changed, before and after, in the same transaction. A save that
    changes nothing writes nothing. `fields` are `CAMPAIGN_FIELDS`; those not given keep their
    value (a new campaign's defaults).

    Raises InvalidCampaign: an unknown field, no reason, or what `campaigns.validate` refuses.
    """
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise errors.InvalidCampaign(f"Unknown campaign fields: {', '.join(sorted(unknown))}.")
    if not reason.strip():
        raise errors.InvalidCampaign("A change of a campaign says why (reason).")
    wanted = [GameWeight(game_type=w.game_type, game_code=w.game_code, percent=w.percent) for w in weights]
    with transaction.atomic():
        campaign = locks.lock_campaign(code)
        before = _campaign_values(campaign) if campaign is not None else {}
        campaign = campaign or Campaign(code=code)
        for name, value in fields.items():
            setattr(campaign, name, value)
        campaigns.validate(campaign, wanted)
        after = {**_fields_of(campaign), "weights": _weight_values(wanted)}
        changed_before, changed_after = staff_trail.changes(before, after)
        if campaign.pk is not None and not changed_after:
            return campaign
        campaign.save()
        if "weights" in changed_after or not before:
            campaign.weights.all().delete()
            for weight in wanted:
                weight.campaign = campaign
            GameWeight.objects.bulk_create(wanted)
        staff_trail.record_staff_action(
            actor=acting_user, action=staff_trail.BONUS_CAMPAIGN_SAVE, target=campaign, before=changed_before,
            after=changed_after, reason=reason,
        )  # fmt: skip
    return campaign


def _fields_of(campaign: Campaign) -> dict:
    """The campaign's values as the trail stores them, without its time (what a save compares)."""
    return {name: value for name, value in staff_trail.snapshot(campaign).items() if name != "updated_at"}


def _weight_values(weights: Iterable[GameWeight]) -> list[dict]:
    return sorted(
        ({"game_type": w.game_type, "game_code": w.game_code, "percent": w.percent} for w in weights),
        key=lambda w: (w["game_type"], w["game_code"]),
    )


def _campaign_values(campaign: Campaign) -> dict:
    return {**_fields_of(campaign), "weights": _weight_values(campaign.weights.all())}


def opt_in(player: Player, code: str) -> tuple[OptIn, bool]:
    """The player joins the opt-in campaign `code` (any case): (the opt-in, whether it is new).
    Joining again answers the existing opt-in and writes nothing. The grant comes later, with the
    campaign's qualifying event.

    Raises UnknownCampaign: no open campaign with this code takes opt-ins (none, disabled, not
    started, ended, or one without opt-in). NotEligible: another brand or country, not a new
    player when the campaign wants one, or a player who may not receive promotions now.
    """
    campaign = selectors.find_open_campaign(code)
    if campaign is None or not campaign.requires_opt_in:
        raise errors.UnknownCampaign
    refusal = selectors.why_not_eligible(player, campaign)
    if refusal is not None:
        raise errors.NotEligible(refusal)
    with transaction.atomic():
        # get_or_create retries the read when a concurrent opt-in wins the unique constraint.
        joined, created = OptIn.objects.get_or_create(
            player=player, campaign=campaign, defaults={"created_at": timezone.now()}
        )
    return joined, created


# --- grants --------------------------------------------------------------------------------------


def bonus_amount(campaign: Campaign, deposit_amount: int | None, net_loss: int | None = None) -> int:
    """What the campaign grants: a deposit match's `match_percent` of the deposit, floored (the
    player never gets a fraction of a cent more than promised), up to `cap`; a cash-back's
    `cashback_percent` of the period's `net_loss`, floored; otherwise `amount`."""
    if campaign.kind == CampaignKind.DEPOSIT_MATCH:
        matched = (deposit_amount or 0) * campaign.match_percent // 100
        return min(matched, campaign.cap) if campaign.cap is not None else matched
    if campaign.kind == CampaignKind.CASHBACK:
        return max(net_loss or 0, 0) * campaign.cashback_percent // 100
    return campaign.amount or 0


def grant_key(campaign: Campaign, trigger_ref: str) -> str:
    """The grant's external id in the wallet: one trigger grants one campaign once."""
    return f"grant:{campaign.pk}:{trigger_ref}"


def grant(
    player: Player, campaign: Campaign, *, trigger_ref: str, deposit_amount: int | None = None,
    acting_user: User | None = None, reason: str = "", net_loss: int | None = None,
) -> Bonus:  # fmt: skip
    """Grant `campaign` to the player for the trigger `trigger_ref` (a deposit's transaction id,
    a staff grant's own id; it names the player where the event is not the player's own) and, for
    a cash-back, the period's `net_loss`: the bonus pool credits the player's bonus account and
    the `Bonus` row (active, wagering required, expiry) commits with the money. A staff grant (`acting_user`,
    or a management command's `reason`) is recorded in the staff trail in the same transaction.

    A replay of the same trigger moves nothing and answers the first grant's bonus.
    Raises GrantRefused (nothing moved), its `reason` one of `GrantRefused.REASONS`.
    """
    key = grant_key(campaign, trigger_ref)
    granted = Bonus.objects.filter(grant_key=key).first()
    if granted is not None:
        return granted
    campaign = Campaign.objects.get(pk=campaign.pk)  # as committed: a staff save may have changed it
    _check_may_grant(player, campaign, deposit_amount)
    amount = bonus_amount(campaign, deposit_amount, net_loss)
    if amount <= 0:
        raise errors.GrantRefused(errors.GrantRefused.NO_AMOUNT, "The deposit or loss is too small to give a bonus.")
    ref = ExternalRef(GRANT_ORIGIN, key, fingerprint("bonus.grant", {"campaign": campaign.pk, "amount": amount}))
    written: list[Bonus] = []

    def record_bonus(_tx) -> None:
        written.append(_write_bonus(player, campaign, key, amount, deposit_amount, acting_user, reason))

    posted = wallet.credit(
        player_id=player.pk, currency=player.currency_id, amount=amount, kind=TransactionKind.BONUS,
        to_bonus=True, counter=BONUS_POOL, ref=ref, commit_with=record_bonus,
    )  # fmt: skip
    if posted.replayed:  # a racing delivery of the same trigger granted it first
        return Bonus.objects.get(grant_key=key)
    return written[0]


def _check_may_grant(player: Player, campaign: Campaign, deposit_amount: int | None) -> None:
    """The refusals a grant checks before it takes any lock (the ones that depend on the campaign's
    row and the bonuses already granted are checked again under the locks, `_write_bonus`)."""
    refuse = errors.GrantRefused
    if not selectors.is_open(campaign):
        raise refuse(refuse.CAMPAIGN_CLOSED, "This campaign is not open.")
    if not selectors.is_for_currency(campaign, player.currency_id):
        raise refuse(refuse.CURRENCY, "This campaign's amounts are in another currency than the player's wallet.")
    if not compliance.may_receive_promotions(player):
        raise refuse(refuse.NO_PROMOTIONS, "The player may not receive promotions now.")
    qualifying = deposit_amount if campaign.trigger in DEPOSIT_TRIGGERS else None
    refusal = selectors.why_not_eligible(player, campaign, may_receive=True, qualifying_deposit=qualifying)
    if refusal is not None:
        raise refuse(refuse.NOT_ELIGIBLE, refusal)
    if campaign.requires_opt_in and not OptIn.objects.filter(player=player, campaign=campaign).exists():
        raise refuse(refuse.NOT_OPTED_IN, "The player has not opted in to this campaign.")
    if campaign.trigger in DEPOSIT_TRIGGERS and (deposit_amount or 0) < (campaign.min_deposit or 0):
        raise refuse(refuse.BELOW_MIN_DEPOSIT, "The deposit is below the campaign's minimum.")
    if campaign.one_per_player and Bonus.objects.filter(player=player, campaign=campaign).exists():
        raise refuse(refuse.ALREADY_GRANTED, "The player already had this campaign's bonus.")


def _write_bonus(
    player: Player, campaign: Campaign, key: str, amount: int, deposit_amount: int | None, acting_user: User | None,
    reason: str,
) -> Bonus:  # fmt: skip
    """Inside the money's transaction: lock the campaign, check that it is still open and that the
    budget holds this grant, and write the bonus, the staff action and the event. A refusal raises
    GrantRefused, which rolls the money back."""
    refuse = errors.GrantRefused
    campaign = locks.lock_campaign_for_grant(campaign.pk)
    if not selectors.is_open(campaign):
        raise refuse(refuse.CAMPAIGN_CLOSED, "This campaign is not open.")
    if campaign.budget is not None:
        spent = Bonus.objects.filter(campaign=campaign).aggregate(total=Sum("amount"))["total"] or 0
        if spent + amount > campaign.budget:
            raise refuse(refuse.BUDGET_EXHAUSTED, "This campaign's budget cannot pay this bonus.")
    now = timezone.now()
    # Under the player's wallet lock, which every grant and end of a bonus takes: these reads stay
    # true to commit (the unique index below is the database's own guard of the first).
    if campaign.one_per_player and Bonus.objects.filter(player=player, campaign=campaign).exists():
        raise refuse(refuse.ALREADY_GRANTED, "The player already had this campaign's bonus.")
    if not campaign.allow_concurrent and any(not bonus.expired(now) for bonus in selectors.active_bonuses(player.pk)):
        raise refuse(refuse.ACTIVE_BONUS, "The player is wagering another bonus.")
    base = amount + (deposit_amount or 0) if campaign.wagering_base == WageringBase.BONUS_AND_DEPOSIT else amount
    bonus = Bonus(
        player=player, campaign=campaign, currency_id=player.currency_id, amount=amount, remaining=amount,
        wagering_required=campaign.wagering_multiple * base, granted_at=now, grant_key=key,
        expires_at=now + dt.timedelta(days=campaign.expires_after_days) if campaign.expires_after_days else None,
        one_per_player=campaign.one_per_player,
    )  # fmt: skip
    try:
        with transaction.atomic():  # a savepoint: the unique index's refusal becomes ours, not a retry
            bonus.save()
    except IntegrityError as exc:
        raise refuse(refuse.ALREADY_GRANTED, "The player already had this campaign's bonus.") from exc
    accounts.set_bonus_state(player_id=player.pk, state=BonusState.ACTIVE)
    if campaign.trigger == Trigger.STAFF_GRANT:
        staff_trail.record_staff_action(
            actor=acting_user, action=staff_trail.BONUS_GRANT, target=bonus,
            after={"campaign": campaign.code, "amount": amount, "player": player.pk}, reason=reason,
        )  # fmt: skip
    send_after_commit(
        signals.bonus_granted, player_id=str(player.pk), bonus_id=bonus.public_id, campaign=campaign.code,
        amount=amount, currency=player.currency_id, granted_at=iso_utc(now),
    )  # fmt: skip
    return bonus


def staff_grant(player: Player, code: str, *, acting_user: User | None, reason: str, grant_id: str) -> Bonus:
    """A staff grant of the `staff_grant` campaign `code` (any case), with a reason, in the staff
    trail. `grant_id` names the staff action (the admin's form or the command's run), so a repeated
    submission grants each player once."""
    if not reason.strip():
        raise errors.GrantRefused(errors.GrantRefused.NOT_ELIGIBLE, "A staff grant says why (reason).")
    campaign = Campaign.objects.filter(code__iexact=code, trigger=Trigger.STAFF_GRANT).first()
    if campaign is None:
        raise errors.UnknownCampaign
    # The player is in the trigger: one staff action may grant several players.
    return grant(player, campaign, trigger_ref=f"staff:{player.pk}:{grant_id}", acting_user=acting_user, reason=reason)


def grant_for_deposit(*, player_id: int, transaction_id: str, amount: int, currency: str) -> list[Bonus]:
    """A deposit arrived (the wallet's `transaction_posted`, after commit): every open campaign
    with a deposit trigger that it qualifies for is granted, at the deposit's time. One query when
    no such campaign is open. A refusal of one campaign (not eligible, not opted in, budget spent)
    is not an error of the deposit: the others are still granted."""
    candidates = list(selectors.open_campaigns().filter(selectors.in_currency(currency), trigger__in=DEPOSIT_TRIGGERS))
    if not candidates:
        return []
    player = accounts_selectors.get_player(player_id)
    first_deposit = None
    granted = []
    for campaign in candidates:
        if campaign.trigger == Trigger.FIRST_DEPOSIT:
            if first_deposit is None:
                first_deposit = selectors.is_only_deposit(player, amount)
            if not first_deposit:
                continue
        try:
            granted.append(grant(player, campaign, trigger_ref=transaction_id, deposit_amount=amount))
        except errors.GrantRefused:
            continue
    return granted


def grant_for_registration(*, player_id: int) -> list[Bonus]:
    """A player registered (accounts' `player_registered`, after commit): every open registration
    campaign they are eligible for is granted, its trigger `registration:<player id>` (a
    re-delivered event is a replay). One query when no registration campaign is open. A refusal of
    one campaign (another brand or currency, no promotions, budget spent) leaves the others.
    Registration campaigns take no opt-in (`campaigns.validate`)."""
    candidates = list(selectors.open_campaigns().filter(trigger=Trigger.REGISTRATION))
    if not candidates:
        return []
    player = accounts_selectors.get_player(player_id)
    granted = []
    for campaign in candidates:
        if not selectors.is_for_currency(campaign, player.currency_id):
            continue
        try:
            granted.append(grant(player, campaign, trigger_ref=f"registration:{player.pk}"))
        except errors.GrantRefused:
            continue
    return granted


# Refusals of a threshold grant that this period's later bets cannot change: the bet path stops
# asking for the rest of the period (in this process). Any other (no opt-in yet, another bonus
# being wagered, a time-out) may change with the next bet, which asks again.
_SETTLED_REFUSALS = (errors.GrantRefused.ALREADY_GRANTED, errors.GrantRefused.BUDGET_EXHAUSTED,
                     errors.GrantRefused.CURRENCY, errors.GrantRefused.NOT_ELIGIBLE)  # fmt: skip


def threshold_trigger(player_id: int, period_start: dt.datetime) -> str:
    """A threshold grant's trigger: the player and the period (by its start's UTC date; a period
    is at least a day, so the date names it)."""
    return f"threshold:{player_id}:{period_start.astimezone(dt.UTC).date().isoformat()}"


def grant_for_wagering(*, player_id: int, currency: str, bet_at: str) -> list[Bonus]:
    """A bet committed (the wallet's `transaction_posted`, after commit; `bet_at` its ISO time):
    every open wagering-threshold campaign in its currency whose threshold the player's stakes in
    the bet's period (from the period's start on: bets less rollbacks) reach is granted, once per
    player and period (`threshold_trigger`), at once: a threshold crossed at 23:58:30 grants at
    23:58:30. The period is the bet's, not the clock's, so a re-delivery after the period's end
    still names it.

    The bet path's cost: nothing at all while no threshold campaign is open in the currency (the
    per-process cache, `triggers`), nor once this process has settled the player's period; else
    one read of the ledger, and the grant once it is reached.
    """
    campaigns = triggers.threshold_campaigns(currency)
    if not campaigns:
        return []
    at = dt.datetime.fromisoformat(bet_at)
    pending = []
    for campaign in campaigns:
        start, _ = periods.period_containing(campaign.starts_at, campaign.period_days, at)
        if not triggers.is_settled(campaign.pk, player_id, start):
            pending.append((campaign, start))
    if not pending:
        return []
    staked = selectors.stakes_since(player_id, [start for _, start in pending])
    player = None
    granted = []
    for (campaign, start), stakes in zip(pending, staked, strict=True):
        if stakes < campaign.threshold:
            continue
        player = player or accounts_selectors.get_player(player_id)
        if not campaign.allow_concurrent and player.bonus_state == BonusState.ACTIVE:
            # The grant would be refused under the wallet's lock (another bonus being wagered),
            # after opening a money transaction: the player's row says so first. Asked again
            # with the next bet, once that bonus may have ended.
            continue
        try:
            # `grant` reads the campaign as committed; the key it needs first is the cached pk.
            granted.append(grant(player, Campaign(pk=campaign.pk), trigger_ref=threshold_trigger(player_id, start)))
        except errors.GrantRefused as refused:
            if refused.reason not in _SETTLED_REFUSALS:
                continue
        triggers.settle(campaign.pk, player_id, start)
    return granted


# --- cash-back: each period paid at its end ------------------------------------------------------

CASHBACK_SWEEP_BATCH = 200


@dataclass(frozen=True)
class CashbackPayment:
    """What one call of `grant_cashback` did: the period, the bonuses it granted (a replay's among
    them), how many players it went through (granted or refused), and whether every player with a
    loss in the period has now been through."""

    period_start: dt.datetime
    period_end: dt.datetime
    granted: list[Bonus]
    through: int
    finished: bool


def cashback_trigger(player_id: int, period_end: dt.datetime) -> str:
    """A cash-back grant's trigger: the player and the period (by its end's UTC date)."""
    return f"cashback:{player_id}:{period_end.astimezone(dt.UTC).date().isoformat()}"


def grant_cashback(
    campaign: Campaign, now: dt.datetime | None = None, *, limit: int | None = None
) -> CashbackPayment | None:
    """Pay the cash-back campaign's latest period that has ended at `now` (default: now): every
    player of its currency whose net loss in the period (stakes less wins, after rollbacks, cash
    and bonus money alike) is above zero is granted `cashback_percent` of it, floored, under the
    grant's rules (eligibility, opt-in, budget: a refusal leaves the others), its trigger
    `cashback:<player id>:<period end date>`. None while the campaign's first period runs.

    The period's `CashbackRun` records how far the payment has gone (by player id): at most
    `limit` players per call, the next call goes on from there, and a finished period is not paid
    again. A replayed grant moves nothing, so two sweepers at once pay each player once.
    """
    if campaign.kind != CampaignKind.CASHBACK:
        return None
    period = periods.last_ended_period(campaign.starts_at, campaign.cashback_period_days, now or timezone.now())
    if period is None:
        return None
    start, end = period
    run, _ = CashbackRun.objects.get_or_create(
        campaign=campaign, period_end=end, defaults={"period_start": start, "started_at": timezone.now()}
    )
    if run.finished_at is not None:
        return CashbackPayment(start, end, [], 0, True)
    losers = selectors.cashback_losses(campaign, start, end, after_player_id=run.after_player_id, limit=limit)
    granted = []
    for player_id, loss in losers:
        try:
            player = accounts_selectors.get_player(player_id)
            granted.append(grant(player, campaign, trigger_ref=cashback_trigger(player_id, end), net_loss=loss))
        except errors.GrantRefused:
            pass
        # Past this player for good: a refusal is not asked again in this period's later batches.
        CashbackRun.objects.filter(pk=run.pk, after_player_id__lt=player_id).update(after_player_id=player_id)
    finished = limit is None or len(losers) < limit
    if finished:
        CashbackRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    return CashbackPayment(start, end, granted, len(losers), finished)


def pay_due_cashback(*, limit: int = CASHBACK_SWEEP_BATCH) -> int:
    """The cash-back sweep: every open cash-back campaign's due period (`selectors.cashback_due_period`:
    an unfinished one first, then each period after the last paid as it ends), through at most
    `limit` players a pass (granted or refused). Returns how many it granted. One query when no
    cash-back campaign is open."""
    now = timezone.now()
    through = granted = 0
    for campaign in selectors.open_campaigns().filter(kind=CampaignKind.CASHBACK).order_by("pk"):
        period = selectors.cashback_due_period(campaign, now)
        if period is None:
            continue
        # The period's end as `now`: the period that ended there is the one paid.
        payment = grant_cashback(campaign, period[1], limit=limit - through)
        if payment is not None:
            through += payment.through
            granted += len(payment.granted)
        if through >= limit:
            break
    return granted


# --- ends decided outside a money movement ---------------------------------------------------------


def cancel_bonus(bonus: Bonus, *, acting_user: User | None, reason: str) -> Bonus:
    """Staff cancel an active bonus with a reason: what the player holds of it goes back to the
    bonus pool (a `bonus_cancelled` transaction), a `bonus.cancel` staff action in the same
    transaction. Raises BonusNotActive if it already ended, InvalidCampaign without a reason."""
    return endings.end_bonus(bonus, BonusStatus.CANCELLED, reason=reason, acting_user=acting_user)


EXPIRY_SWEEP_BATCH = 200


def expire_due_bonuses(*, limit: int = EXPIRY_SWEEP_BATCH) -> int:
    """The expiry sweep: every active bonus past its expiry ends, its money back to the pool, one
    money transaction each (the oldest expiry first, at most `limit`). Reads are right before it
    runs (`selectors.status_as_read`) and a stake never spends an expired bonus (`wagering`); the
    sweep makes the ledger follow. Returns how many it ended; one already ended elsewhere (a
    stake, another sweeper) is skipped."""
    due = Bonus.objects.filter(status=BonusStatus.ACTIVE, expires_at__lte=timezone.now()).order_by("expires_at")
    ended = 0
    for bonus in due[:limit]:
        try:
            endings.end_bonus(bonus, BonusStatus.EXPIRED)
        except errors.BonusNotActive:
            continue
        ended += 1
    return ended
