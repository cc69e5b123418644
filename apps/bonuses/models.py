"""Campaigns, the players who opted in, and the bonuses granted.

A campaign says what a bonus is (its kind and amounts), who may have it (brand, countries, new
players only, opt-in, one per player, budget), what grants it (its trigger) and how it is played
through (wagering multiple and base, game weights, maximum stake, expiry, forfeiture). Amounts
are integer minor units of the campaign's currency; a campaign without one is for every wallet
currency, its amounts minor units of each player's (a budget or a cash-back summed across
currencies would mean nothing, so those need a currency). Which fields a kind and a trigger need
is checked in one place, `campaigns.validate`, before any save (services.save_campaign); the
database refuses what no campaign may hold (CHECKs on every choice, amount and percentage).

A `Bonus` row mirrors a grant's progress, in the player's wallet currency; the money itself is the
wallet's (the player's bonus account). `services.grant` writes the row in the money's transaction
(the wallet's `commit_with`).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from apps.accounts.models import Brand, Currency, Player
from apps.bonuses.choices import BonusStatus, CampaignKind, Trigger, WageringBase


def new_bonus_id() -> str:
    return f"bon_{secrets.token_hex(12)}"


def _percent(name: str, field: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0, f"{field}__lte": 100}), name=name)


class Campaign(models.Model):
    code = models.SlugField(max_length=40, unique=True, help_text="also the opt-in code when opt-in is required")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CampaignKind.choices)
    enabled = models.BooleanField(default=False)
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="empty: every brand"
    )
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166-1 alpha-2 codes; empty: every country")
    new_players_only = models.BooleanField(default=False, help_text="players who have never deposited")
    requires_opt_in = models.BooleanField(default=False)
    one_per_player = models.BooleanField(default=True)
    allow_concurrent = models.BooleanField(
        default=False, help_text="may be granted while the player wagers another active bonus"
    )
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="empty: every wallet currency, the amounts in minor units of the player's",
    )  # fmt: skip
    budget = models.BigIntegerField(null=True, blank=True, help_text="minor units; empty: no budget")
    match_percent = models.PositiveIntegerField(null=True, blank=True, help_text="deposit match: % of the deposit")
    amount = models.BigIntegerField(null=True, blank=True, help_text="fixed or free bet: minor units")
    cap = models.BigIntegerField(null=True, blank=True, help_text="deposit match: the largest bonus, minor units")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    min_deposit = models.BigIntegerField(null=True, blank=True, help_text="deposit triggers: minor units")
    wagering_threshold = models.BigIntegerField(null=True, blank=True, help_text="minor units staked in the period")
    wagering_period_days = models.PositiveIntegerField(null=True, blank=True)
    cashback_percent = models.PositiveIntegerField(null=True, blank=True, help_text="% of net losses")
    cashback_period_days = models.PositiveIntegerField(null=True, blank=True)
    wagering_multiple = models.PositiveIntegerField(default=0, help_text="times the wagering base; 0: none")
    wagering_base = models.CharField(max_length=20, choices=WageringBase.choices, default=WageringBase.BONUS)
    default_weight_percent = models.PositiveSmallIntegerField(
        default=100, help_text="how much a stake on a game without its own weight counts"
    )
    max_stake = models.BigIntegerField(null=True, blank=True, help_text="minor units while wagering; empty: none")
    expires_after_days = models.PositiveIntegerField(null=True, blank=True, help_text="empty: never expires")
    forfeit_on_withdrawal = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            # Players type opt-in codes in any case: one campaign per code, whatever its case.
            models.UniqueConstraint(Upper("code"), name="campaign_code_unique_any_case"),
            models.CheckConstraint(condition=Q(kind__one_of=CampaignKind.values), name="campaign_kind_known"),
            models.CheckConstraint(condition=Q(trigger__one_of=Trigger.values), name="campaign_trigger_known"),
            models.CheckConstraint(condition=Q(wagering_base__one_of=WageringBase.values), name="campaign_base_known"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="campaign_budget_not_negative"),
            models.CheckConstraint(condition=Q(match_percent__gt=0), name="campaign_match_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="campaign_amount_positive"),
            models.CheckConstraint(condition=Q(cap__gt=0), name="campaign_cap_positive"),
            models.CheckConstraint(condition=Q(min_deposit__gt=0), name="campaign_min_deposit_positive"),
            models.CheckConstraint(condition=Q(wagering_threshold__gt=0), name="campaign_threshold_positive"),
            models.CheckConstraint(condition=Q(max_stake__gt=0), name="campaign_max_stake_positive"),
            _percent("campaign_cashback_percent_range", "cashback_percent"),
            _percent("campaign_default_weight_range", "default_weight_percent"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class GameWeight(models.Model):
    """How much of a stake on one game, or on every game of one type, counts towards wagering."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="weights")
    game_type = models.CharField(max_length=50, blank=True, default="")
    game_code = models.CharField(max_length=100, blank=True, default="")
    percent = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(game_type="") & ~Q(game_code="")) | (~Q(game_type="") & Q(game_code="")),
                name="game_weight_type_or_code",
            ),
            _percent("game_weight_percent_range", "percent"),
            models.UniqueConstraint(
                fields=["campaign", "game_type"], condition=~Q(game_type=""), name="game_weight_type_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "game_code"], condition=~Q(game_code=""), name="game_weight_code_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.game_type or self.game_code} {self.percent} %"


class OptIn(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="opt_ins")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["player", "campaign"], name="opt_in_once")]

    def __str__(self) -> str:
        return f"player {self.player_id} in {self.campaign_id}"


class Bonus(models.Model):
    """One grant of a campaign to a player and its wagering progress, in the player's wallet currency."""

    public_id = models.CharField(max_length=40, unique=True, default=new_bonus_id, editable=False)
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="bonuses")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=BonusStatus.choices, default=BonusStatus.ACTIVE)
    amount = models.BigIntegerField(help_text="minor units granted")
    # While active, what the player holds of the bonus is read from their bonus account
    # (selectors.bonus_shares): bets and wins move it without touching this row. Written at the
    # grant (the amount) and at the end (0), when `ended_amount` records what the end moved.
    remaining = models.BigIntegerField(help_text="minor units of the bonus held when last written")
    ended_amount = models.BigIntegerField(
        null=True, blank=True, help_text="minor units the end moved: to cash (converted) or to the pool"
    )
    wagering_required = models.BigIntegerField(help_text="minor units")
    wagering_done = models.BigIntegerField(default=0, help_text="minor units")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The wallet's external id of the grant (derived from its trigger): a replay finds its bonus.
    grant_key = models.CharField(max_length=120, unique=True, null=True, blank=True, editable=False)
    # The campaign's `one_per_player` when granted: what the database's one-per-player index reads.
    one_per_player = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name_plural = "bonuses"
        indexes = [
            models.Index(fields=["player", "-id"], name="bonus_player_newest"),
            # The sweep's look-up of active bonuses past their expiry.
            models.Index(fields=["expires_at"], condition=Q(status="active"), name="bonus_active_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__one_of=BonusStatus.values), name="bonus_status_known"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bonus_amount_positive"),
            # Not bounded by the amount: wins on bonus stakes are bonus money too.
            models.CheckConstraint(condition=Q(remaining__gte=0), name="bonus_remaining_not_negative"),
            models.CheckConstraint(
                condition=Q(ended_amount__isnull=True) | Q(ended_amount__gte=0), name="bonus_ended_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(wagering_required__gte=0, wagering_done__gte=0), name="bonus_wagering_not_negative"
            ),
            # An active bonus has not ended; every other status is an end, with its time.
            models.CheckConstraint(
                condition=Q(status=BonusStatus.ACTIVE, ended_at__isnull=True)
                | (~Q(status=BonusStatus.ACTIVE) & Q(ended_at__isnull=False)),
                name="bonus_ended_iff_not_active",
            ),
            # Two triggers racing for one player grant a one-per-player campaign once.
            models.UniqueConstraint(
                fields=["player", "campaign"], condition=Q(one_per_player=True), name="bonus_one_per_player"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class CashbackRun(models.Model):
    """The payment of one period of a cash-back campaign (`services.grant_cashback`): how far it has
    gone through the players with net losses (by player id, so a batch resumes where the last one
    stopped and a refused player is not asked again), and when it finished. The sweep pays a
    campaign's periods in order from these rows; a period with no loser still gets its row."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="cashback_runs")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    after_player_id = models.BigIntegerField(default=0, help_text="the last player id the run has been through")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "period_end"], name="cashback_run_once_per_period"),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="cashback_run_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} until {self.period_end:%Y-%m-%d %H:%M}"
