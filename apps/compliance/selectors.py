"""Reads of player protection: limits and their usage, exclusions, jurisdiction profiles, the KYC
threshold, reality checks; the behaviour rules' windows and alerts; a case's suspicious-activity
report. Nothing here writes; the checks the wallet asks inside its money
transaction, which may write (a KYC hold, a due reality check's event), are in `gate.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import structlog
from django.db.models import Count, F
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Currency, Player
from apps.common.money import convert_minor
from apps.common.timestamps import iso_utc
from apps.compliance.choices import AlertStatus, CaseStatus, LimitKind, LimitPeriod
from apps.compliance.models import (
    Alert,
    Case,
    Exclusion,
    JurisdictionProfile,
    Limit,
    LimitChange,
    Pending,
    PlayerProtection,
    Rule,
    RuleVersion,
    WindowBucket,
)
from apps.wallet import selectors as wallet_selectors
from apps.wallet.choices import TransactionKind

logger = structlog.get_logger(__name__)

PERIODS = {
    LimitPeriod.DAY: dt.timedelta(hours=24),
    LimitPeriod.WEEK: dt.timedelta(days=7),
    LimitPeriod.MONTH: dt.timedelta(days=30),
}
# Which ledger kinds each money limit sums (the player's signed move, the wallet's `sum_ledger`):
# turnover is what bets took less what rollbacks refunded; a loss is that less the wins, and plus
# what a sportsbook resettlement took back of a win, from the cash or left as the player's debt.
SUMMED_KINDS = {
    LimitKind.DEPOSIT: (TransactionKind.DEPOSIT,),
    LimitKind.WAGER: (TransactionKind.BET, TransactionKind.ROLLBACK),
    LimitKind.LOSS: (TransactionKind.BET, TransactionKind.ROLLBACK, TransactionKind.WIN, TransactionKind.RESETTLEMENT),
}
REALITY_CHECK_ACK_URL = "/api/player/v1/reality-check/ack"


def _protection(player_id: int) -> PlayerProtection | None:
    return PlayerProtection.objects.select_related("exclusion").filter(player_id=player_id).first()


def used_of(kind: str, total) -> int:
    """A window's usage from the sum of the ledger's signed amounts: deposits count gross; wagers
    are stakes less refunded rollbacks, losses that less wins, never below zero."""
    return int(total) if kind == LimitKind.DEPOSIT else max(-int(total), 0)


def usage(player_id: int, now: dt.datetime, keys) -> dict[tuple[str, str], int]:
    """What the player has used of each (kind, period) money limit: the ledger summed over the
    rolling window (now - period, now], in one query (the wallet's `sum_ledger_windows`).

    A transaction exactly one period old has left the window. Deposits count gross; wagers are
    stakes less refunded rollbacks; losses are that less wins, and never below zero.
    """
    keys = sorted(key for key in keys if key[0] != LimitKind.SESSION)
    windows = [(SUMMED_KINDS[kind], now - PERIODS[period]) for kind, period in keys]
    totals = wallet_selectors.sum_ledger_windows(player_id, windows)
    return {(kind, period): used_of(kind, total) for (kind, period), total in zip(keys, totals, strict=True)}


# --- reads for the API and the admin ---------------------------------------------------------------


def get_profile(player: Player) -> JurisdictionProfile:
    """The jurisdiction profile of the player's brand, or the default profile."""
    return get_profile_for_brand(player.brand_id)


def get_profile_for_brand(brand_id: int) -> JurisdictionProfile:
    profile = JurisdictionProfile.objects.filter(brands__id=brand_id).first()
    return profile or JurisdictionProfile.objects.get(is_default=True)


def kyc_threshold(player: Player) -> int:
    """The profile's KYC threshold in minor units of the player's currency, at the currencies'
    reference rates (rounded down). Without a rate for either currency it is 0, the safe side:
    the unverified player deposits nothing until verified, and the missing rate is logged."""
    profile = get_profile(player)
    if profile.kyc_threshold_currency_id == player.currency_id:
        return profile.kyc_deposit_threshold
    codes = (profile.kyc_threshold_currency_id, player.currency_id)
    currencies = Currency.objects.in_bulk(codes)
    source, target = (currencies[code] for code in codes)
    if source.units_per_eur is None or target.units_per_eur is None:
        logger.warning("kyc_threshold_without_rate", profile=profile.code, currencies=codes)
        return 0
    return convert_minor(profile.kyc_deposit_threshold, source, target)


def total_deposits(player_id: int) -> int:
    """Every deposit the player ever made (minor units)."""
    return wallet_selectors.sum_ledger(player_id, kinds=SUMMED_KINDS[LimitKind.DEPOSIT])


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
    """Whether the player may be sent a promotion (a bonus offer, a marketing message): not while
    their account is locked, frozen or closed (its status as committed), nor while a time-out or
    self-exclusion (or its return cooling-off) closes it."""
    if accounts_selectors.get_player_status(player.pk) != PlayerStatus.ACTIVE:
        return False
    return not is_excluded(player)


def get_session_started_at(player_id: int) -> dt.datetime | None:
    """When the player's current play session began (their last login), None before the first:
    one indexed read of their protection row."""
    return PlayerProtection.objects.filter(player_id=player_id).values_list("session_started_at", flat=True).first()


def get_reality_check_interval(player: Player, protection: PlayerProtection | None = None) -> int:
    """Minutes between reality checks: the player's choice, else the profile's default."""
    if protection is None:
        protection = PlayerProtection.objects.filter(player=player).first()
    if protection is not None and protection.reality_check_minutes:
        return protection.reality_check_minutes
    return get_profile(player).reality_check_minutes


@dataclass(frozen=True)
class RealityCheckView:
    interval_minutes: int
    next_due_at: dt.datetime | None
    last_sent_at: dt.datetime | None
    awaiting_acknowledgement: bool


def get_reality_check(player: Player) -> RealityCheckView:
    """The player's reality-check setting and where the current session stands."""
    protection = PlayerProtection.objects.filter(player=player).first()
    due_at = accounts_selectors.get_reality_check_due(player.pk)
    return RealityCheckView(
        interval_minutes=get_reality_check_interval(player, protection),
        next_due_at=due_at,
        last_sent_at=protection.last_reality_check_at if protection else None,
        awaiting_acknowledgement=bool(protection and protection.reality_check_awaits_ack),
    )


def session_result(player_id: int, since: dt.datetime) -> int:
    """The player's net result (wins less stakes, after rollbacks) since `since`, minor units."""
    return wallet_selectors.sum_ledger(player_id, kinds=SUMMED_KINDS[LimitKind.LOSS], since=since)


# --- the behaviour-rule engine ------------------------------------------------------------------------


def list_enabled_rule_versions() -> list[RuleVersion]:
    """The current version of every enabled rule (with its rule), in the rules' code order."""
    return list(
        RuleVersion.objects.filter(rule__enabled=True, version=F("rule__version"))
        .select_related("rule")
        .order_by("rule__code")
    )


def amount_in_currency(amount: int, source: str, target: str) -> int | None:
    """`amount` minor units of `source` in minor units of `target` at the reference rates
    (rounded down); None when either currency has no rate."""
    if source == target:
        return amount
    currencies = Currency.objects.in_bulk((source, target))
    if len(currencies) != 2 or any(currencies[code].units_per_eur is None for code in (source, target)):
        return None
    return convert_minor(amount, currencies[source], currencies[target])


def list_window_event_ids(player_id: int, metric: str, since: int, until: int) -> list[int]:
    """The outbox event ids kept in the player's buckets of `metric` from `since` to `until`
    (Unix seconds), oldest first."""
    lists = (
        WindowBucket.objects.filter(player_id=player_id, metric=metric, bucket_start__gte=since,
                                    bucket_start__lte=until)
        .order_by("bucket_start")
        .values_list("event_ids", flat=True)
    )  # fmt: skip
    return [event_id for ids in lists for event_id in ids]


def get_rule(code: str) -> Rule:
    return Rule.objects.select_related("brand", "jurisdiction").get(code=code)


def list_player_alerts_outside_cases(player_id: int) -> list[Alert]:
    """The player's alerts that no case holds yet, oldest first."""
    return list(Alert.objects.filter(player_id=player_id, case__isnull=True).order_by("pk"))


def list_open_alerts(limit: int = 100) -> list[Alert]:
    """The newest open alerts, with their rule version and player."""
    return list(Alert.objects.filter(status=AlertStatus.OPEN).select_related("rule_version__rule", "player")[:limit])


def count_open_alerts() -> int:
    """How many alerts are open (on the status index)."""
    return Alert.objects.filter(status=AlertStatus.OPEN).count()


# A case is open until it is resolved: opened or under investigation.
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.INVESTIGATING)


def count_open_cases() -> int:
    """How many cases are not resolved yet (on the status index)."""
    return Case.objects.filter(status__in=OPEN_CASE_STATUSES).count()


# --- cases: the suspicious-activity report ---------------------------------------------------------

# The CSV report's three sections, each a header row then its rows, separated by an empty row.
SAR_CASE_COLUMNS = (
    "case_id", "title", "status", "outcome", "resolution_note", "player_id", "player", "brand", "currency",
    "exponent", "period_start", "period_end", "opened_by", "assignee", "created_at", "resolved_at",
)  # fmt: skip
SAR_ALERT_COLUMNS = (
    "alert_id", "rule", "rule_version", "rule_type", "severity", "value", "threshold", "window_start", "created_at",
    "event_ids",
)  # fmt: skip
SAR_TRANSACTION_COLUMNS = (
    "transaction_id", "created_at", "kind", "amount", "currency", "exponent", "balance_after", "wallet_version",
    "game_id",
)  # fmt: skip


def get_case(case_id: int) -> Case:
    """The case with its player (user, brand, currency), opener and assignee. Raises Case.DoesNotExist."""
    return Case.objects.select_related("player__user", "player__brand", "player__currency", "opened_by",
                                       "assignee").get(pk=case_id)  # fmt: skip


def list_case_alerts(case_id: int) -> list[Alert]:
    """The case's alerts, oldest first, with their rule version, rule and firing."""
    return list(
        Alert.objects.filter(case_id=case_id)
        .select_related("rule_version__rule", "firing")
        .order_by("created_at", "pk")
    )


def case_report(case_id: int) -> dict:
    """The case's suspicious-activity report as JSON-ready data: the case, its alerts (rule
    version, value, threshold, the outbox event ids that made each fire) and the player's money
    movements from `period_start` to `period_end` (both included), oldest first. Amounts are
    integers in minor units of `currency`, whose `exponent` is stated beside it. Raises
    Case.DoesNotExist."""
    head, transactions = _report(case_id)
    return {**head, "transactions": list(transactions)}


def case_report_json(case_id: int) -> Iterator[str]:
    """The same report as JSON text in pieces, the transactions streamed from the ledger as the
    pieces are consumed; joined, it is `json.dumps(case_report(case_id))`. Raises
    Case.DoesNotExist (before the first piece)."""
    head, transactions = _report(case_id)
    # "transactions" is the last key, so the text ends with its empty list and "}": the rows are
    # streamed between the opening without "]}" and those two characters.
    text = json.dumps({**head, "transactions": []})
    return _json_pieces(text[: -len("]}")], transactions)


def _json_pieces(opening: str, transactions: Iterator[dict]) -> Iterator[str]:
    yield opening
    for number, row in enumerate(transactions):
        yield (", " if number else "") + json.dumps(row)  # the separator json.dumps puts between items
    yield "]}"


def _report(case_id: int) -> tuple[dict, Iterator[dict]]:
    case = get_case(case_id)
    currency = {"code": case.player.currency_id, "exponent": case.player.currency.exponent}
    head = {
        "case": dict(zip(SAR_CASE_COLUMNS, _case_values(case), strict=True)),
        "currency": currency,
        "alerts": [
            {**dict(zip(SAR_ALERT_COLUMNS, _alert_values(alert), strict=True)), "event_ids": alert.event_ids}
            for alert in list_case_alerts(case.pk)
        ],
    }
    transactions = (
        dict(zip(SAR_TRANSACTION_COLUMNS, _transaction_values(row, currency["exponent"]), strict=True))
        for row in wallet_selectors.list_transactions_in_period(case.player_id, case.period_start, case.period_end)
    )
    return head, transactions


def case_report_rows(case_id: int) -> Iterator[list]:
    """The same report as CSV rows: the case section (header, one row), an empty row, the alerts
    (header, one row each; event ids separated by spaces), an empty row, the transactions (header,
    one row each). The transactions are streamed from the ledger as the rows are consumed. Raises
    Case.DoesNotExist (before the first row)."""
    case = get_case(case_id)
    exponent = case.player.currency.exponent
    alerts = list_case_alerts(case.pk)
    return _report_rows(case, alerts, exponent)


def _report_rows(case: Case, alerts: list[Alert], exponent: int) -> Iterator[list]:
    yield list(SAR_CASE_COLUMNS)
    yield _case_values(case)
    yield []
    yield list(SAR_ALERT_COLUMNS)
    for alert in alerts:
        yield [*_alert_values(alert)[:-1], " ".join(map(str, alert.event_ids))]
    yield []
    yield list(SAR_TRANSACTION_COLUMNS)
    for row in wallet_selectors.list_transactions_in_period(case.player_id, case.period_start, case.period_end):
        yield _transaction_values(row, exponent)


def _case_values(case: Case) -> list:
    return [
        case.pk, case.title, case.status, case.outcome, case.resolution_note, case.player_id,
        case.player.user.username, case.player.brand.code, case.player.currency_id, case.player.currency.exponent,
        iso_utc(case.period_start), iso_utc(case.period_end), case.opened_by.username,
        case.assignee.username if case.assignee else "", iso_utc(case.created_at),
        iso_utc(case.resolved_at) if case.resolved_at else "",
    ]  # fmt: skip


def _alert_values(alert: Alert) -> list:
    version = alert.rule_version
    return [
        alert.pk, version.rule.code, version.version, version.type, alert.severity, alert.value, alert.threshold,
        iso_utc(alert.firing.window_start), iso_utc(alert.created_at), alert.event_ids,
    ]  # fmt: skip


def _transaction_values(row: wallet_selectors.HistoryRow, exponent: int) -> list:
    return [
        row.transaction_id, iso_utc(row.created_at), row.kind, row.amount, row.currency, exponent,
        row.balance_after, row.version, row.game_id,
    ]  # fmt: skip


# --- the back office's player 360 page ---------------------------------------------------------


def list_player_exclusions(player: Player, limit: int = 10) -> list[Exclusion]:
    """The player's time-outs and self-exclusions, newest first (past ones included)."""
    return list(Exclusion.objects.filter(player=player).order_by("-starts_at", "-pk")[:limit])


def list_player_alerts(player_id: int, limit: int = 20) -> list[Alert]:
    """The player's latest behaviour-rule alerts, newest first, with their rule."""
    return list(
        Alert.objects.filter(player_id=player_id)
        .select_related("rule_version__rule")
        .order_by("-created_at", "-pk")[:limit]
    )


def list_player_cases(player_id: int, limit: int = 20) -> list[Case]:
    """The player's compliance cases, newest first, with their assignee."""
    return list(Case.objects.filter(player_id=player_id).select_related("assignee").order_by("-pk")[:limit])


# --- the back office's daily reports (read by apps/backoffice/reports.py) ---------------------------


@dataclass(frozen=True)
class ActivityCount:
    """How many times one kind of responsible-gambling activity happened in one brand over a
    period: `activity` names it (`limit`, `time_out`, `self_exclusion`, `reality_check_shown`,
    `reality_check_acknowledged`), `detail` says which (a limit's kind, period and status)."""

    brand: str
    activity: str
    detail: str
    count: int


def rg_activity(*, since: dt.datetime, until: dt.datetime) -> list[ActivityCount]:
    """Responsible-gambling activity created at or after `since` and before `until`, by brand:
    every limit change (`LimitChange`: set at once, queued behind the cooling-off, confirmed,
    matured, cancelled; by its kind, period and status), every time-out and self-exclusion that
    started (`Exclusion.starts_at`), and the reality checks shown and acknowledged. Compliance
    keeps only each player's last reality check and last acknowledgement (`PlayerProtection`), so
    those two count players whose last check or acknowledgement fell in the period: a player
    shown several checks counts once, and a check followed by another before the report ran is
    not counted (the figure is a lower bound). Four aggregates."""
    period = {"created_at__gte": since, "created_at__lt": until}
    rows: list[ActivityCount] = []
    limits = (
        LimitChange.objects.filter(**period)
        .values_list("player__brand__code", "kind", "period", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows += [ActivityCount(brand, "limit", f"{kind} {window or 'session'} {status}", n)
             for brand, kind, window, status, n in limits]  # fmt: skip
    exclusions = (
        Exclusion.objects.filter(starts_at__gte=since, starts_at__lt=until)
        .values_list("player__brand__code", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows += [ActivityCount(brand, kind, "", n) for brand, kind, n in exclusions]
    for activity, field in (
        ("reality_check_shown", "last_reality_check_at"),
        ("reality_check_acknowledged", "reality_check_acknowledged_at"),
    ):
        checks = (
            PlayerProtection.objects.filter(**{f"{field}__gte": since, f"{field}__lt": until})
            .values_list("player__brand__code")
            .annotate(n=Count("pk"))
            .order_by()
        )
        rows += [ActivityCount(brand, activity, "", n) for brand, n in checks]
    return sorted(rows, key=lambda row: (row.brand, row.activity, row.detail))


@dataclass(frozen=True)
class AmlCount:
    """One AML figure over a period: `measure` is `alerts_raised` (by the rule's code and the
    alert's status now), `cases_opened` (by the case's status now) or `cases_resolved` (by
    outcome)."""

    measure: str
    subject: str
    status: str
    count: int


def aml_activity(*, since: dt.datetime, until: dt.datetime) -> list[AmlCount]:
    """Alerts raised, cases opened and cases resolved at or after `since` and before `until`:
    three aggregates."""
    alerts = (
        Alert.objects.filter(created_at__gte=since, created_at__lt=until)
        .values_list("rule_version__rule__code", "status")
        .annotate(n=Count("pk"))
        .order_by("rule_version__rule__code", "status")
    )
    opened = (
        Case.objects.filter(created_at__gte=since, created_at__lt=until)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by("status")
    )
    resolved = (
        Case.objects.filter(resolved_at__gte=since, resolved_at__lt=until)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .order_by("outcome")
    )
    return [
        *(AmlCount("alerts_raised", rule, status, n) for rule, status, n in alerts),
        *(AmlCount("cases_opened", "", status, n) for status, n in opened),
        *(AmlCount("cases_resolved", outcome, "resolved", n) for outcome, n in resolved),
    ]
