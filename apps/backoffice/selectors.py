"""Reads of the back office: the reports' stored runs and rows (its own tables), and the
dashboard's figures, from the owning apps' selectors. Nothing here writes.

Each dashboard figure links to the admin list it summarises and is shown only to staff who may
open that list: the figure needs the list's view permission, so a role never reads a number here
that its own pages would not show it (docs/backoffice.md, "Dashboard").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.models import ReportRow, ReportRun, RunStatus
from apps.common.money import ISO_4217, format_minor
from apps.common.timestamps import iso_utc
from apps.compliance import selectors as compliance
from apps.compliance.choices import AlertStatus
from apps.payments import selectors as payments
from apps.realtime import selectors as realtime
from apps.wallet import selectors as wallet
from apps.wallet.choices import TransactionKind

# The CSV reads rows from a server-side cursor this many at a time.
CSV_CHUNK = 2_000


def latest_runs(kind: str, since: dt.date, until: dt.date) -> list[ReportRun]:
    """The latest done run of report `kind` for each day from `since` to `until` (both included)
    that has one, by day."""
    latest = (
        ReportRun.objects.filter(kind=kind, day__gte=since, day__lte=until, status=RunStatus.DONE)
        .values("day")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return list(ReportRun.objects.filter(pk__in=latest).order_by("day"))


def last_run(kind: str) -> ReportRun | None:
    """The newest run of report `kind`, whatever its status (what the index shows)."""
    return ReportRun.objects.filter(kind=kind).order_by("-pk").first()


def get_run(run_id: int) -> ReportRun | None:
    return ReportRun.objects.filter(pk=run_id).first()


def pending_runs(kind: str) -> int:
    return ReportRun.objects.filter(kind=kind, status=RunStatus.QUEUED).count()


def iter_rows(runs: list[ReportRun]) -> Iterator[tuple[dt.date, list]]:
    """(day, cells) of every row of `runs`, by day then position, read from a server-side cursor
    `CSV_CHUNK` rows at a time: never the whole report in memory."""
    rows = (
        ReportRow.objects.filter(run__in=[run.pk for run in runs])
        .order_by("run__day", "position")
        .values_list("run__day", "cells")
    )
    yield from rows.iterator(chunk_size=CSV_CHUNK)


@dataclass(frozen=True)
class Amount:
    """An amount in minor units of its currency, with how many rows made it (when counted)."""

    currency: str
    amount: int
    count: int | None = None

    @property
    def text(self) -> str:
        return f"{format_minor(self.amount, ISO_4217.get(self.currency, ('', 2))[1])} {self.currency}"

    def as_json(self) -> dict:
        shown = {"currency": self.currency, "amount": self.amount, "text": self.text}
        return shown if self.count is None else {**shown, "count": self.count}


@dataclass(frozen=True)
class Figure:
    """One figure of the dashboard: a count, amounts per currency, or both (count per currency)."""

    key: str  # stable: the JSON's key and the page's element id
    label: str
    url: str  # the admin list it summarises, filtered to what it counts
    count: int | None = None  # None: not a count (or not available)
    amounts: list[Amount] | None = None  # None: not amounts; [] for none today
    available: bool = True  # False: its source did not answer (players online without Redis)

    @property
    def lines(self) -> list[str]:
        """What the page shows, one line each: the count, then each currency's amount (with its
        count in brackets, if counted); "0" for nothing at all. The script shows the JSON's same lines."""
        if not self.available:
            return ["unavailable"]
        lines = [] if self.count is None else [str(self.count)]
        for amount in self.amounts or []:
            lines.append(amount.text if amount.count is None else f"{amount.text} ({amount.count})")
        return lines or ["0"]

    def as_json(self) -> dict:
        shown: dict = {"label": self.label, "url": self.url, "lines": self.lines, "available": self.available}
        if self.count is not None:
            shown["count"] = self.count
        if self.amounts is not None:
            shown["amounts"] = [amount.as_json() for amount in self.amounts]
        return shown


@dataclass(frozen=True)
class Dashboard:
    day_start: dt.datetime  # "today" is from here (midnight in the site's TIME_ZONE) until `as_of`
    as_of: dt.datetime
    figures: list[Figure]

    def as_json(self) -> dict:
        return {
            "day_start": iso_utc(self.day_start),
            "as_of": iso_utc(self.as_of),
            "figures": {figure.key: figure.as_json() for figure in self.figures},
        }


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in the site's TIME_ZONE (UTC unless configured otherwise)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _changelist(model: str, **filters: str) -> str:
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


class _Today:
    """The figures' shared reads, each done at most once per dashboard (deposits and GGR come
    from one read of today's ledger)."""

    def __init__(self, start: dt.datetime, now: dt.datetime) -> None:
        self.start, self.now = start, now
        self._ledger: dict[str, wallet.LedgerTotals] | None = None

    @property
    def ledger(self) -> dict[str, wallet.LedgerTotals]:
        if self._ledger is None:
            self._ledger = wallet.ledger_totals(self.start, self.now)
        return self._ledger

    def since(self) -> str:
        return iso_utc(self.start)


def _deposits(today: _Today) -> Figure:
    return Figure(
        key="deposits_today",
        label="Deposits today",
        url=_changelist("wallet.transaction", kind__exact=TransactionKind.DEPOSIT, created_at__gte=today.since()),
        amounts=[Amount(t.currency, t.deposited, t.deposits) for t in today.ledger.values() if t.deposits],
    )


def _withdrawals(today: _Today) -> Figure:
    queue = payments.withdrawals_awaiting_approval()
    return Figure(
        key="withdrawals_awaiting_approval",
        label="Withdrawals awaiting approval",
        url=_changelist("payments.withdrawalawaitingapproval"),
        count=sum(count for count, _ in queue.values()),
        amounts=[Amount(currency, total, count) for currency, (count, total) in queue.items()],
    )


def _alerts(today: _Today) -> Figure:
    return Figure(
        key="open_alerts",
        label="Open alerts",
        url=_changelist("compliance.alert", status__exact=AlertStatus.OPEN),
        count=compliance.count_open_alerts(),
    )


def _cases(today: _Today) -> Figure:
    return Figure(
        key="open_cases",
        label="Open cases",
        url=_changelist("compliance.case", status__in=",".join(compliance.OPEN_CASE_STATUSES)),
        count=compliance.count_open_cases(),
    )


def _ggr(today: _Today) -> Figure:
    kinds = ",".join((TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK))
    return Figure(
        key="ggr_today",
        label="GGR today",
        url=_changelist("wallet.transaction", kind__in=kinds, created_at__gte=today.since()),
        amounts=[Amount(t.currency, t.ggr) for t in today.ledger.values() if t.staked or t.won or t.refunded],
    )


def _players_online(today: _Today) -> Figure:
    online = realtime.players_online()
    return Figure(
        key="players_online",
        label="Players online",
        url=_changelist("accounts.player"),
        count=online,
        available=online is not None,
    )


# (the permission to open the figure's list, the figure), in the page's order.
FIGURES: list[tuple[str, Callable[[_Today], Figure]]] = [
    ("wallet.view_transaction", _deposits),
    ("payments.view_withdrawalawaitingapproval", _withdrawals),
    ("compliance.view_alert", _alerts),
    ("compliance.view_case", _cases),
    ("wallet.view_transaction", _ggr),
    ("accounts.view_player", _players_online),
]


def dashboard(user, now: dt.datetime | None = None) -> Dashboard:
    """The figures `user` may see, as of `now`: only those whose list the user may open are read
    at all."""
    now = now or timezone.now()
    today = _Today(day_start(now), now)
    return Dashboard(
        day_start=today.start,
        as_of=now,
        figures=[figure(today) for permission, figure in FIGURES if user.has_perm(permission)],
    )
