"""The reports: what each one's rows are, computed from the owning apps' selectors, and how a
row reads on the page and in the CSV (docs/reports.md defines every figure).

Each report covers one UTC day, [00:00, 24:00), or today up to the moment it runs. Its rows are
lists of plain JSON values (amounts in integer minor units, counts as integers) in the order of
its `columns`; `display` turns a row into the text the page and the CSV both show, so the two
always agree. Nothing here writes: `services.compute_report` stores what `build` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apps.backoffice.models import ReportKind
from apps.common.money import ISO_4217, format_minor
from apps.compliance import selectors as compliance_selectors
from apps.games import selectors as games_selectors
from apps.payments import selectors as payments_selectors
from apps.wallet import selectors as wallet_selectors

ALL = "(all)"
UTC = dt.UTC


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    # "text", "count" or "money" (minor units of the row's `currency` cell).
    type: str = "text"


def _money(name: str, label: str) -> Column:
    return Column(name, label, "money")


def _count(name: str, label: str) -> Column:
    return Column(name, label, "count")


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    columns: tuple[Column, ...]
    # (since, until) -> rows; `until` is the end of the day or the moment of the read.
    build: Callable[[dt.datetime, dt.datetime], list[list]]
    # What the chart shows of one row: (series, value) pairs, summed per day and series.
    chart: Callable[[dict], Iterable[tuple[str, int]]]
    chart_label: str
    # A snapshot of now (the liability) rather than the figures of a day's window.
    snapshot: bool = False

    @property
    def permission(self) -> str:
        return f"backoffice.view_{self.kind}_report"

    # Each report's pages are URLs of their own (the site's `report_urls`), so that each declares
    # its own permission to the permission matrix.
    @property
    def page_url(self) -> str:
        return f"admin:report_{self.kind}"

    @property
    def csv_url(self) -> str:
        return f"admin:report_{self.kind}_csv"

    @property
    def run_url(self) -> str:
        return f"admin:report_{self.kind}_run"

    @property
    def header(self) -> list[str]:
        return ["day", *(column.name for column in self.columns)]


# --- 1. GGR and NGR -------------------------------------------------------------------------------


def build_ggr(since: dt.datetime, until: dt.datetime) -> list[list]:
    """A row per (brand, provider, game, currency) with its GGR, then a row per (brand, currency)
    of all its games with the bonus money and the NGR: a bonus belongs to a brand's player, never
    to a game, so the NGR is the brand's (docs/reports.md)."""
    games = wallet_selectors.game_results(since=since, until=until)
    bonuses = {(b.brand, b.currency): b for b in wallet_selectors.bonus_money(since=since, until=until)}
    rows: list[list] = []
    totals: dict[tuple[str, str], list[int]] = {}
    for g in games:
        provider = games_selectors.provider_of_origin(g.origin) or g.origin
        rows.append([g.brand, provider, g.game_id, g.currency, g.bets, g.staked, g.refunded, g.won, g.ggr,
                     None, None, None, None])  # fmt: skip
        total = totals.setdefault((g.brand, g.currency), [0, 0, 0, 0, 0])
        for n, value in enumerate((g.bets, g.staked, g.refunded, g.won, g.ggr)):
            total[n] += value
    for key in sorted(set(totals) | set(bonuses)):
        bets, staked, refunded, won, ggr = totals.get(key, [0, 0, 0, 0, 0])
        bonus = bonuses.get(key)
        granted, returned = (bonus.granted, bonus.returned) if bonus else (0, 0)
        cost = granted - returned
        rows.append([*key[:1], ALL, ALL, key[1], bets, staked, refunded, won, ggr, granted, returned, cost, ggr - cost])
    return rows


def chart_ggr(row: dict):
    if row["provider"] == ALL:
        yield f"NGR {row['currency']}", row["ngr"]
        yield f"GGR {row['currency']}", row["ggr"]


# --- 2. Player liability ----------------------------------------------------------------------------


def build_liability(since: dt.datetime, until: dt.datetime) -> list[list]:
    """The players' balances per currency and account kind now, beside the ledger's sum of the
    same accounts' entries, and whether they match."""
    return [
        [row.currency, row.kind, row.accounts, row.balances, row.ledger, "yes" if row.balances == row.ledger else "NO"]
        for row in wallet_selectors.player_liability()
    ]


def chart_liability(row: dict):
    # What the operator owes its players: their money less what they owe it (debt).
    sign = -1 if row["account_kind"] == "debt" else 1
    yield f"liability {row['currency']}", sign * row["balances"]


# --- 3. Responsible gambling ------------------------------------------------------------------------


def build_rg(since: dt.datetime, until: dt.datetime) -> list[list]:
    return [[r.brand, r.activity, r.detail, r.count]
            for r in compliance_selectors.rg_activity(since=since, until=until)]  # fmt: skip


def chart_rg(row: dict):
    yield row["activity"], row["count"]


# --- 4. AML -------------------------------------------------------------------------------------


def build_aml(since: dt.datetime, until: dt.datetime) -> list[list]:
    return [[r.measure, r.subject, r.status, r.count]
            for r in compliance_selectors.aml_activity(since=since, until=until)]  # fmt: skip


def chart_aml(row: dict):
    yield row["measure"], row["count"]


# --- 5. Payments ------------------------------------------------------------------------------------


def build_payments(since: dt.datetime, until: dt.datetime) -> list[list]:
    return [
        [p.direction, p.provider, p.currency, p.status, p.count, p.amount, p.credited]
        for p in payments_selectors.payment_counts(since=since, until=until)
    ]


def chart_payments(row: dict):
    yield f"{row['direction']}s {row['currency']}", row["amount"]


REPORTS: dict[str, Report] = {
    report.kind: report
    for report in (
        Report(
            ReportKind.GGR.value,
            "GGR and NGR",
            (
                Column("brand", "Brand"),
                Column("provider", "Provider"),
                Column("game", "Game"),
                Column("currency", "Currency"),
                _count("bets", "Bets"),
                _money("staked", "Staked"),
                _money("refunded", "Rolled back"),
                _money("won", "Won"),
                _money("ggr", "GGR"),
                _money("bonus_granted", "Bonus granted"),
                _money("bonus_returned", "Bonus returned"),
                _money("bonus_cost", "Bonus cost"),
                _money("ngr", "NGR"),
            ),
            build_ggr,
            chart_ggr,
            "GGR and NGR per day (all brands and games)",
        ),
        Report(
            ReportKind.LIABILITY.value,
            "Player liability",
            (
                Column("currency", "Currency"),
                Column("account_kind", "Account kind"),
                _count("accounts", "Accounts"),
                _money("balances", "Sum of balances"),
                _money("ledger", "Ledger"),
                Column("matches", "Balances = ledger"),
            ),
            build_liability,
            chart_liability,
            "What players hold less what they owe, at each day's last snapshot",
            snapshot=True,
        ),
        Report(
            ReportKind.RG.value,
            "Responsible gambling",
            (
                Column("brand", "Brand"),
                Column("activity", "Activity"),
                Column("detail", "Detail"),
                _count("count", "Count"),
            ),
            build_rg,
            chart_rg,
            "Responsible-gambling activity per day",
        ),
        Report(
            ReportKind.AML.value,
            "AML alerts and cases",
            (
                Column("measure", "Measure"),
                Column("subject", "Rule or outcome"),
                Column("status", "Status"),
                _count("count", "Count"),
            ),
            build_aml,
            chart_aml,
            "Alerts raised and cases opened and resolved per day",
        ),
        Report(
            ReportKind.PAYMENTS.value,
            "Payments",
            (
                Column("direction", "Direction"),
                Column("provider", "Provider"),
                Column("currency", "Currency"),
                Column("status", "Status"),
                _count("count", "Count"),
                _money("amount", "Amount asked"),
                _money("credited", "Credited"),
            ),
            build_payments,
            chart_payments,
            "Deposits and withdrawals asked per day",
        ),
    )
}


def window(day: dt.date, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day `day` as [since, until), cut at `now` for today."""
    since = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    return since, min(since + dt.timedelta(days=1), now)


def as_dict(report: Report, cells: list) -> dict:
    return {column.name: value for column, value in zip(report.columns, cells, strict=True)}


def display(report: Report, day: dt.date, cells: list) -> list[str]:
    """The row as text, with its day first: amounts in major units of the row's currency
    (`12.50`), counts as integers, an empty cell for a figure the row does not have. The page and
    the CSV both show this."""
    currency = as_dict(report, cells).get("currency", "")
    exponent = ISO_4217.get(currency, ("", 2))[1]
    shown = [day.isoformat()]
    for column, value in zip(report.columns, cells, strict=True):
        if value is None:
            shown.append("")
        elif column.type == "money":
            shown.append(format_minor(int(value), exponent))
        else:
            shown.append(str(value))
    return shown
