"""Reads of the bonuses app: a player's bonuses, the campaigns open to them, and why one is not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from apps.accounts.models import Player
from apps.bonuses import periods
from apps.bonuses.choices import BonusStatus, CampaignKind, Trigger
from apps.bonuses.models import Bonus, Campaign, CashbackRun
from apps.common.db import prepared_cursor
from apps.common.timestamps import aware_from_sql
from apps.compliance import selectors as compliance
from apps.wallet import selectors as wallet
from apps.wallet.choices import TransactionKind

PAGE_SIZE = 50


def in_currency(currency: str) -> Q:
    """The campaigns for a wallet in `currency`: those in it and those for every currency."""
    return Q(currency_id=currency) | Q(currency__isnull=True)


def is_for_currency(campaign: Campaign, currency: str) -> bool:
    """Whether `campaign` is for a wallet in `currency` (as `in_currency`)."""
    return campaign.currency_id is None or campaign.currency_id == currency


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


def enabled_threshold_campaigns() -> list[Campaign]:
    """The enabled wagering-threshold campaigns that have not ended (some may not have started):
    what the bet path's cache holds (`triggers.threshold_campaigns`)."""
    now = timezone.now()
    return list(
        Campaign.objects.filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=now), enabled=True, trigger=Trigger.WAGERING_THRESHOLD
        )
    )


# What a player staked: their bets less the bets rolled back (the ledger's signed amounts: a bet
# is negative, its rollback positive), as a wager limit counts it. Their net loss: stakes less
# wins, after rollbacks, as a loss limit counts it (compliance's SUMMED_KINDS).
STAKE_KINDS = (TransactionKind.BET, TransactionKind.ROLLBACK)
LOSS_KINDS = (TransactionKind.BET, TransactionKind.ROLLBACK, TransactionKind.WIN, TransactionKind.RESETTLEMENT)
_MICROSECOND = dt.timedelta(microseconds=1)


def stakes_since(player_id: int, starts: list[dt.datetime]) -> list[int]:
    """What the player staked (cash and bonus money alike) from each of `starts` on (a bet at the
    start included), one query for all of them."""
    # The wallet's windows exclude their start; timestamps are whole microseconds, so the window
    # after the microsecond before `start` is the one from `start` on.
    sums = wallet.sum_ledger_windows(player_id, [(STAKE_KINDS, start - _MICROSECOND) for start in starts])
    return [-total for total in sums]


def cashback_losses(
    campaign: Campaign, start: dt.datetime, end: dt.datetime, *, after_player_id: int = 0, limit: int | None = None
) -> list[tuple[int, int]]:
    """(player id, net loss) of the players of the campaign's currency who lost in [start, end):
    stakes less wins, after rollbacks, cash and bonus money alike, above zero; by player id,
    after `after_player_id`, at most `limit`."""
    rows = wallet.sum_ledger_by_player(
        kinds=LOSS_KINDS, currency=campaign.currency_id, since=start, until=end, below=0,
        after_player_id=after_player_id, limit=limit,
    )  # fmt: skip
    return [(player_id, -total) for player_id, total in rows]


def cashback_due_period(campaign: Campaign, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The cash-back campaign's period to pay now, (start, end), or None: the period of its last
    run while that run is unfinished, else the period after it once that has ended, and for a
    campaign never paid the latest period that has ended (nothing before it)."""
    latest = periods.last_ended_period(campaign.starts_at, campaign.cashback_period_days, now)
    if latest is None:
        return None
    last = CashbackRun.objects.filter(campaign=campaign).order_by("-period_end").first()
    if last is None:
        return latest
    if last.finished_at is None:
        return last.period_start, last.period_end
    length = dt.timedelta(days=campaign.cashback_period_days)
    if last.period_end + length > latest[1]:
        return None
    return last.period_end, last.period_end + length


def find_cashback_campaign(code: str) -> Campaign | None:
    """The cash-back campaign whose code is `code`, in any case, open or not; None if none."""
    return Campaign.objects.filter(code__iexact=code, kind=CampaignKind.CASHBACK).first()


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
    if not is_for_currency(campaign, player.currency_id):
        # Its amounts and its grant are in one currency: a player of another could join it and
        # never be granted it.
        return "This campaign is in another currency than the player's wallet."
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


def list_eligible_campaigns(player: Player, *, to_join: bool = False) -> list[Campaign]:
    """The open campaigns the player may have now, by code: what the cashier offers beside a
    deposit. Only campaigns for the player's wallet currency, and none that staff alone grant; a
    one-per-player campaign the player already had a bonus of is left out, and so, while the
    player wagers an active bonus (not past its expiry), is every campaign that does not
    `allow_concurrent`: its grant would be refused (`services.grant`'s one active bonus). With
    `to_join` (the bonuses page's list of campaigns to opt in to) those stay: joining grants
    nothing yet, and the grant may come after the other bonus ended."""
    may_receive = compliance.may_receive_promotions(player)
    if not may_receive:
        return []
    had = set(Bonus.objects.filter(player=player).values_list("campaign_id", flat=True))
    now = timezone.now()
    wagering = not to_join and any(not bonus.expired(now) for bonus in active_bonuses(player.pk))
    offered = open_campaigns().filter(in_currency(player.currency_id)).exclude(trigger=Trigger.STAFF_GRANT)
    return [
        campaign for campaign in offered.order_by("code")
        if not (campaign.one_per_player and campaign.pk in had)
        and not (wagering and not campaign.allow_concurrent)
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
    _as_read(player, rows)
    return rows, (rows[-1].pk if more else None)


def _as_read(player: Player, rows: list[Bonus]) -> None:
    """Set each row's status and remaining as they are now (in memory, for display): an active
    bonus holds its share of the bonus account; one past its expiry is expired and holds nothing,
    whether or not the sweep has moved its money yet."""
    now = timezone.now()
    shares = None
    for row in rows:
        if row.status != BonusStatus.ACTIVE:
            continue
        if status_as_read(row, now) == BonusStatus.EXPIRED:
            row.status, row.remaining = BonusStatus.EXPIRED, 0
            continue
        if shares is None:
            shares = bonus_shares(wallet.get_wallet_state(player.pk).bonus, active_bonuses(player.pk))
        row.remaining = shares.get(row.pk, 0)


# --- active bonuses: what the money path reads ---------------------------------------------------


@dataclass
class ActiveBonus:
    """An active bonus as the money path reads it (plain SQL: no model instance per stake)."""

    pk: int
    public_id: str
    player_id: int
    campaign_code: str
    currency_id: str
    amount: int
    expires_at: dt.datetime | None
    wagering_done: int
    wagering_required: int
    # Its wagering was not met before the stake that read it (read otherwise: is not met now).
    was_wagering: bool
    max_stake: int | None
    forfeit_on_withdrawal: bool

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def wagering_met(self) -> bool:
        return self.wagering_done >= self.wagering_required


ACTIVE_COLUMNS = (
    "b.id, b.public_id, b.player_id, c.code, b.currency_id, b.amount, b.expires_at, b.wagering_done, "
    "b.wagering_required, b.wagering_done < b.wagering_required, c.max_stake, c.forfeit_on_withdrawal"
)
ACTIVE_FROM = (
    "FROM bonuses_bonus b JOIN bonuses_campaign c ON c.id = b.campaign_id "
    "WHERE b.player_id = %s AND b.status = %s ORDER BY b.id"
)


def active_rows(rows) -> list[ActiveBonus]:
    """ActiveBonus values from rows of ACTIVE_COLUMNS (expires_at made aware, the flag a bool)."""
    bonuses = []
    for row in rows:
        bonus = ActiveBonus(*row)
        bonus.expires_at, bonus.forfeit_on_withdrawal = (
            aware_from_sql(bonus.expires_at),
            bool(bonus.forfeit_on_withdrawal),
        )
        bonuses.append(bonus)
    return bonuses


def active_bonuses(player_id: int) -> list[ActiveBonus]:
    """The player's active bonuses, oldest first (expired ones not yet swept among them)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {ACTIVE_COLUMNS} {ACTIVE_FROM}",
            [player_id, BonusStatus.ACTIVE.value],
        )
        return active_rows(cursor.fetchall())


def bonus_shares(bonus_balance: int, active: list[ActiveBonus]) -> dict[int, int]:
    """What each active bonus holds of the player's bonus account. Bets spend bonus money oldest
    bonus first and wins on bonus stakes add to it, so a newer bonus holds its granted amount
    until the older ones are spent: the balance is handed out newest first, each up to its amount,
    and the oldest holds the rest (wins included). With one active bonus (the default: a campaign
    must allow another) it holds the whole balance."""
    shares: dict[int, int] = {}
    left = bonus_balance
    for bonus in reversed(active[1:]):
        shares[bonus.pk] = min(bonus.amount, left)
        left -= shares[bonus.pk]
    if active:
        shares[active[0].pk] = left
    return shares


def status_as_read(bonus: Bonus, now: dt.datetime | None = None) -> str:
    """The bonus's status now: an active bonus past its expiry is expired even before the sweep
    has moved its money."""
    if (
        bonus.status == BonusStatus.ACTIVE
        and bonus.expires_at is not None
        and bonus.expires_at <= (now or timezone.now())
    ):
        return BonusStatus.EXPIRED
    return bonus.status


# --- the cost report (the back office) -----------------------------------------------------------

# The ledger's kinds of a bonus's grant and of each of its ends, as the report's columns. Their
# origin and external ids are services.GRANT_ORIGIN / endings.END_ORIGIN, `grant:…` and
# `end:<public id>`; both origins are "bonus" (asserted by the report's test).
LEDGER_ORIGIN = "bonus"
COST_COLUMNS = (
    ("granted", TransactionKind.BONUS),
    ("converted", TransactionKind.BONUS_CONVERTED),
    ("expired", TransactionKind.BONUS_EXPIRED),
    ("forfeited", TransactionKind.BONUS_FORFEITED),
    ("cancelled", TransactionKind.BONUS_CANCELLED),
)


@dataclass(frozen=True)
class CampaignCost:
    """What a campaign's bonuses moved in one currency, from the ledger, in minor units: granted
    (the pool to the players' bonus accounts), converted (bonus money to cash), and what went back
    to the pool as each end of the others."""

    code: str
    name: str
    currency: str
    bonuses: int
    granted: int = 0
    converted: int = 0
    expired: int = 0
    forfeited: int = 0
    cancelled: int = 0

    def as_row(self) -> list:
        return [self.code, self.name, self.currency, self.bonuses, *(getattr(self, c) for c, _ in COST_COLUMNS)]


COST_HEADER = ["campaign", "name", "currency", "bonuses", *(column for column, _ in COST_COLUMNS)]


def campaign_costs() -> list[CampaignCost]:
    """Every campaign's cost, by code, one row per currency its bonuses moved money in (a campaign
    without any movement: one row of zeros in its own currency). The sums are the ledger's, read
    through the wallet's selector by the external ids of the campaign's bonuses (their grants'
    `grant_key`, their ends' `end:<public id>`): two statements per campaign, each with the
    campaign's ids as its subquery, so the Bonus rows' own copies of the amounts are never summed.
    A campaign for every currency without any movement has its row of zeros with no currency."""
    by_kind = {kind.value: column for column, kind in COST_COLUMNS}
    counts = dict(Bonus.objects.order_by().values_list("campaign_id").annotate(n=Count("pk")))
    costs = []
    for campaign in Campaign.objects.order_by("code"):
        bonuses = Bonus.objects.filter(campaign=campaign).order_by()
        grants = bonuses.exclude(grant_key=None).values("grant_key")
        ends = bonuses.exclude(status=BonusStatus.ACTIVE).values(key=Concat(Value("end:"), "public_id"))
        sums: dict[str, dict[str, int]] = {}
        for keys in (grants, ends):
            for (kind, currency), total in wallet.sum_bonus_account_moves(LEDGER_ORIGIN, keys).items():
                if kind in by_kind:
                    column = by_kind[kind]
                    # The bonus account's side: a grant adds to it, every end takes off it.
                    moved = total if kind == TransactionKind.BONUS else -total
                    row = sums.setdefault(currency, {})
                    row[column] = row.get(column, 0) + moved
        for currency in sorted(sums) or [campaign.currency_id or ""]:
            costs.append(
                CampaignCost(
                    campaign.code, campaign.name, currency, counts.get(campaign.pk, 0), **sums.get(currency, {})
                )
            )
    return costs
