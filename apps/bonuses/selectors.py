"""Reads of the bonuses app: a player's bonuses, the campaigns open to them, and why one is not."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Player
from apps.bonuses.models import Bonus, Campaign
from apps.compliance import selectors as compliance
from apps.wallet import selectors as wallet
from apps.wallet.choices import TransactionKind

PAGE_SIZE = 50


def open_campaigns() -> QuerySet[Campaign]:
    """The enabled campaigns whose start has come and whose end has not."""
    now = timezone.now()
    return Campaign.objects.filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now), enabled=True
    )


def is_open(campaign: Campaign) -> bool:
    """Whether the campaign is enabled, its start has come and its end has not (as `open_campaigns`)."""
    now = timezone.now()
    return (
        campaign.enabled
        and (campaign.starts_at is None or campaign.starts_at <= now)
        and (campaign.ends_at is None or campaign.ends_at > now)
    )


def is_only_deposit(player: Player, amount: int) -> bool:
    """Whether the player's deposit of `amount`, already in the ledger, is their only one: the
    sum of their deposits is its amount (every deposit is positive). Asked right after it
    arrived, this is whether it was their first."""
    return wallet.sum_ledger(player.pk, kinds=[TransactionKind.DEPOSIT]) == amount


def find_open_campaign(code: str) -> Campaign | None:
    """The open campaign whose code is `code`, in any case (players type it); None if none."""
    return open_campaigns().filter(code__iexact=code).first()


def has_deposited(player: Player) -> bool:
    """Whether the player ever deposited (refunded or charged back still counts): the wallet's
    ledger answers, not the cashier's requests, so only money that arrived counts."""
    return wallet.sum_ledger(player.pk, kinds=[TransactionKind.DEPOSIT]) > 0


def why_not_eligible(
    player: Player, campaign: Campaign, *, may_receive: bool | None = None, qualifying_deposit: int | None = None
) -> str | None:
    """Why the player may not join or be granted `campaign` (a sentence), or None when they may.
    Pass `may_receive` (compliance's `may_receive_promotions`) when asking for several campaigns.
    A grant for a deposit passes its amount as `qualifying_deposit`: that deposit is already in the
    ledger, and a new player is one for whom it is the only one."""
    if campaign.brand_id is not None and campaign.brand_id != player.brand_id:
        return "This campaign is for another brand."
    if campaign.countries and player.country not in campaign.countries:
        return "This campaign is not offered in the player's country."
    if may_receive is None:
        may_receive = compliance.may_receive_promotions(player)
    if not may_receive:
        return "The player may not receive promotions now."
    if campaign.new_players_only and (
        has_deposited(player) if qualifying_deposit is None else not is_only_deposit(player, qualifying_deposit)
    ):
        return "This campaign is for new players only."
    return None


def list_eligible_campaigns(player: Player) -> list[Campaign]:
    """The open campaigns the player may join now, by code: what the cashier offers beside a
    deposit. A one-per-player campaign the player already had a bonus of is left out."""
    may_receive = compliance.may_receive_promotions(player)
    if not may_receive:
        return []
    had = set(Bonus.objects.filter(player=player).values_list("campaign_id", flat=True))
    return [
        campaign for campaign in open_campaigns().order_by("code")
        if not (campaign.one_per_player and campaign.pk in had)
        and why_not_eligible(player, campaign, may_receive=True) is None
    ]  # fmt: skip


def list_bonuses(player: Player, cursor: int | None = None) -> tuple[list[Bonus], int | None]:
    """A page of the player's bonuses, newest first, and the cursor of the next (None on the
    last): the id the next page starts below."""
    bonuses = Bonus.objects.filter(player=player).select_related("campaign")
    if cursor is not None:
        bonuses = bonuses.filter(pk__lt=cursor)
    rows = list(bonuses.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].pk if more else None)
