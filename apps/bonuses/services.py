"""Changes of the bonuses app: campaigns saved by staff, players opting in.

Grants, wagering, conversion, expiry and forfeiture move money and come with the wallet's
events; nothing here moves money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player, User
from apps.bonuses import campaigns, errors, locks, selectors
from apps.bonuses.models import Campaign, GameWeight, OptIn
from apps.common import staff_trail

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
