"""Reads of the wallet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from apps.accounts.models import Player
from apps.common import rtp
from apps.common.db import sql_constants
from apps.common.timestamps import iso_utc
from apps.wallet import errors
from apps.wallet.choices import PLAYER_KINDS, AccountKind, AdjustmentStatus, TransactionKind
from apps.wallet.models import Account, AdjustmentRequest, Entry, Transaction


@dataclass(frozen=True)
class WalletState:
    player_id: str
    currency: str
    cash: int
    bonus: int
    version: int

    @property
    def balance(self) -> int:
        """The playable balance: cash plus bonus."""
        return self.cash + self.bonus


def get_wallet_state(player_id: int) -> WalletState:
    """The player's balances and wallet version as last committed (no lock). Raises UnknownPlayer."""
    accounts = {a.kind: a for a in Account.objects.filter(player_id=player_id)}
    if not accounts:
        player = Player.objects.filter(pk=player_id).only("currency_id").first()
        if player is None:
            raise errors.UnknownPlayer
        return WalletState(str(player_id), player.currency_id, 0, 0, 0)
    cash, bonus = accounts[AccountKind.CASH], accounts[AccountKind.BONUS]
    return WalletState(str(player_id), cash.currency_id, cash.balance, bonus.balance, cash.version)


def get_wallet_versions(player_ids: list[int]) -> dict[int, int]:
    """Each player's wallet version as last committed (no lock), in one read: what the heartbeats
    of many sockets show. A player with no accounts yet is at 0, as `get_wallet_state` says."""
    versions = dict.fromkeys(player_ids, 0)
    cash = Account.objects.filter(player_id__in=player_ids, kind=AccountKind.CASH)
    versions.update(cash.values_list("player_id", "version"))
    return versions


def list_events_since(player_id: int, since_version: int, limit: int) -> list[dict]:
    """The `transaction_posted` payloads of the player's money movements after `since_version`,
    in version order, rebuilt from the ledger (the ledger is the event store); at most `limit`.

    Each payload has the keys the live event has, so replayed and live frames are identical.
    """

    transactions = list(
        Transaction.objects.filter(
            player_id=player_id, wallet_version__gt=since_version, entries__balance_after__isnull=False
        )
        .distinct()
        .order_by("wallet_version")[:limit]
    )
    if not transactions:
        return []
    # Cash and bonus as they stood at `since_version`: the last entry on each account before it.
    balances = {AccountKind.CASH: 0, AccountKind.BONUS: 0}
    for kind in balances:
        last = (
            Entry.objects.filter(
                account__player_id=player_id, account__kind=kind, transaction__wallet_version__lte=since_version
            )
            .order_by("-pk")
            .values_list("balance_after", flat=True)
            .first()
        )
        balances[kind] = last or 0
    kinds = dict(Account.objects.filter(player_id=player_id).values_list("pk", "kind"))
    moved: dict[int, list[tuple[int, int]]] = {}
    for tx_id, account_id, balance_after in Entry.objects.filter(
        transaction__in=transactions, balance_after__isnull=False
    ).values_list("transaction_id", "account_id", "balance_after"):
        moved.setdefault(tx_id, []).append((account_id, balance_after))
    events = []
    for tx in transactions:
        for account_id, balance_after in moved.get(tx.pk, []):
            balances[kinds[account_id]] = balance_after
        events.append(
            {
                "player_id": str(player_id),
                "transaction_id": tx.public_id,
                "kind": tx.kind,
                "amount": tx.amount,
                "version": tx.wallet_version,
                "balance": tx.balance_after,
                "cash": balances[AccountKind.CASH],
                "bonus": balances[AccountKind.BONUS],
                "currency": tx.currency_id,
                "game_id": tx.game_id,
                "created_at": iso_utc(tx.created_at),
            }
        )
    return events


def count_events_since(player_id: int, since_version: int) -> int:
    """How many money movements the player had after `since_version` (versions have no gaps)."""
    return max(0, get_wallet_state(player_id).version - since_version)


# --- the ledger summed over windows (player protection's limits and reality checks) ----------------
# A sum over some kinds is what those movements did to the player: bets negative, wins and deposits
# positive. `Transaction.amount` is what a movement did to the playable balance; a movement that
# takes more than the cash holds leaves the rest as the player's debt (a win taken back by a
# resettlement, a chargeback), and that part is the player's move too: a win taken back counts
# whole against a loss limit, whether the cash or a debt paid for it. Only those kinds read their
# entries, so a window of bets and wins reads none.
DEBT_LEAVING_KINDS = (TransactionKind.RESETTLEMENT, TransactionKind.CHARGEBACK)


def _player_move() -> Combinable:
    """A transaction's whole move for the player (aliased by the ORM): `amount` and its debt."""
    debt = (
        Entry.objects.filter(transaction_id=OuterRef("pk"), account__kind=AccountKind.DEBT)
        .order_by()
        .values("transaction_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    left_as_debt = Case(When(kind__in=DEBT_LEAVING_KINDS, then=Coalesce(Subquery(debt), 0)), default=Value(0))
    return F("amount") + left_as_debt


# The same in SQL, the ledger aliased `t` (ledger_windows_sql); only this module's constants: what
# a transaction left as debt, and its whole move.
_DEBT_SQL = (
    "COALESCE((SELECT SUM(e.amount) FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id "  # noqa: S608
    f"WHERE e.transaction_id = t.id AND a.kind = {sql_constants([AccountKind.DEBT])}), 0)"
)
_PLAYER_MOVE_SQL = f"t.amount + CASE WHEN t.kind IN ({sql_constants(DEBT_LEAVING_KINDS)}) THEN {_DEBT_SQL} ELSE 0 END"


def sum_ledger(player_id: int, *, kinds: Iterable[str], since: dt.datetime | None = None) -> int:
    """The sum of the player's moves in transactions of `kinds` (minor units), all of them or
    those created at or after `since`."""
    transactions = Transaction.objects.filter(player_id=player_id, kind__in=list(kinds))
    if since is not None:
        transactions = transactions.filter(created_at__gte=since)
    return transactions.aggregate(total=Sum(_player_move(), default=0))["total"]


def sum_ledger_windows(player_id: int, windows: Sequence[tuple[Iterable[str], dt.datetime]]) -> list[int]:
    """For each (kinds, after) of `windows`, the sum of the player's transactions of those kinds
    created strictly after `after` (a transaction exactly at `after` has left the window): one
    query, whatever the number of windows (`ledger_windows_sql`'s on PostgreSQL)."""
    if not windows:
        return []
    if connection.vendor == "postgresql":
        columns = tuple((f"w{n}", tuple(kinds)) for n, (kinds, _) in enumerate(windows))
        with connection.cursor() as cursor:
            cursor.execute(
                ledger_windows_sql(columns), ledger_windows_params(columns, player_id, [a for _, a in windows])
            )
            return [int(total) for total in cursor.fetchone()]
    return scan_ledger_windows(player_id, windows)


def scan_ledger_windows(player_id: int, windows: Sequence[tuple[Iterable[str], dt.datetime]]) -> list[int]:
    """`sum_ledger_windows` from the ledger's rows alone, every transaction of the windows read
    (embedded SQLite's way, and the reference the hourly sums are tested against)."""
    sums = {f"w{n}": Sum(_player_move(), filter=Q(created_at__gt=after, kind__in=list(kinds)), default=0)
            for n, (kinds, after) in enumerate(windows)}  # fmt: skip
    earliest = min(after for _, after in windows)
    totals = Transaction.objects.filter(player_id=player_id, created_at__gt=earliest).aggregate(**sums)
    return [totals[f"w{n}"] for n in range(len(windows))]


def sum_ledger_by_player(
    *, kinds: Iterable[str], currency: str, since: dt.datetime, until: dt.datetime, below: int | None = None,
    after_player_id: int = 0, limit: int | None = None,
) -> list[tuple[int, int]]:  # fmt: skip
    """(player id, sum) of every player's transactions of `kinds` in `currency` created at or after
    `since` and before `until`, by player id: those whose sum is below `below` (when given), of the
    players after `after_player_id`, at most `limit`. One query over the period's rows of every
    player (a periodic job's read, e.g. bonuses' cash-back: never the money path)."""
    period = Q(created_at__gte=since, created_at__lt=until)
    rows = (
        Transaction.objects.filter(period, currency_id=currency, kind__in=list(kinds), player_id__gt=after_player_id)
        .values("player_id")
        .annotate(total=Sum("amount"))
        .order_by("player_id")
    )
    if below is not None:
        rows = rows.filter(total__lt=below)
    if limit is not None:
        rows = rows[:limit]
    return [(row["player_id"], row["total"]) for row in rows]


# A window's whole hours come from `wallet_ledger_hour` (PostgreSQL: the ledger summed by player,
# hour and kind, kept by a trigger of the ledger: wallet migration 0020), its edge hour's rows
# from the ledger itself, and what the debt-leaving kinds left as debt from their own rows: a
# window's cost is its hours, not its transactions.
_HOUR = dt.timedelta(hours=1)


def _hour_of(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour holding `moment`, as `date_trunc('hour', …, 'UTC')` makes it."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _checked_columns(columns: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    for name, kinds in columns:
        if not name.isidentifier() or not set(kinds) <= set(TransactionKind.values):
            raise ValueError(f"Not a ledger window: {name!r} of {kinds!r}.")


@cache
def ledger_windows_sql(columns: tuple[tuple[str, tuple[str, ...]], ...], when: str = "") -> str:
    """`sum_ledger_windows` as SQL text, for a statement that embeds it (compliance's one prepared
    statement of the bet path, where a second round trip would cost more than the sum): one row,
    one column per (name, kinds) of `columns`, named `name`. Its parameters are
    `ledger_windows_params`' for the same `columns`, then those of `when`, a condition on other
    tables under which the sums are read at all (`EXISTS (…)`; empty: always).

    Built once per `columns`; the names must be identifiers and the kinds TransactionKind values
    (ValueError otherwise), so no value from outside ever reaches the text.
    """
    _checked_columns(columns)
    if connection.vendor != "postgresql":
        sums = ", ".join(
            f"COALESCE(SUM({_PLAYER_MOVE_SQL}) FILTER (WHERE t.created_at > %s "
            f"AND t.kind IN ({sql_constants(kinds)})), 0) AS {name}"
            for name, kinds in columns
        )
        condition = f" AND {when}" if when else ""
        return f"SELECT {sums} FROM wallet_transaction t WHERE t.player_id = %s AND t.created_at > %s{condition}"  # noqa: S608
    hours = ", ".join(
        f"COALESCE(SUM(h.amount) FILTER (WHERE h.hour > %s AND h.kind IN ({sql_constants(kinds)})), 0) AS {name}"
        for name, kinds in columns
    )
    edges = ", ".join(
        f"COALESCE(SUM(t.amount) FILTER (WHERE t.created_at > %s AND t.created_at < %s "
        f"AND t.kind IN ({sql_constants(kinds)})), 0) AS {name}"
        for name, kinds in columns
    )
    ranges = " OR ".join("(t.created_at > %s AND t.created_at < %s)" for _ in columns)
    sources = [
        f"(SELECT {hours} FROM wallet_ledger_hour h WHERE h.player_id = %s AND h.hour > %s) h",  # noqa: S608
        f"(SELECT {edges} FROM wallet_transaction t WHERE t.player_id = %s AND ({ranges})) e",  # noqa: S608
    ]
    totals = {name: f"h.{name} + e.{name}" for name, _ in columns}
    debts = _debt_columns(columns)
    if debts:
        # Every kind named is debt-leaving: the partial index's condition.
        owed = ", ".join(
            f"COALESCE(SUM({_DEBT_SQL}) FILTER (WHERE t.created_at > %s AND t.kind IN ({sql_constants(kinds)})), 0) "
            f"AS {name}"
            for name, kinds in debts
        )
        every = sorted({kind for _, kinds in debts for kind in kinds})
        sources.append(
            f"(SELECT {owed} FROM wallet_transaction t WHERE t.player_id = %s "  # noqa: S608
            f"AND t.kind IN ({sql_constants(every)}) AND t.created_at > %s) d"
        )
        for name, _ in debts:
            totals[name] += f" + d.{name}"
    condition = f" WHERE {when}" if when else ""
    selected = ", ".join(f"{total} AS {name}" for name, total in totals.items())
    return f"SELECT {selected} FROM {', '.join(sources)}{condition}"  # noqa: S608


def _debt_columns(columns: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The columns whose kinds leave debt, each with those kinds alone."""
    debts = [(name, tuple(kind for kind in kinds if kind in DEBT_LEAVING_KINDS)) for name, kinds in columns]
    return [(name, kinds) for name, kinds in debts if kinds]


def ledger_windows_params(
    columns: tuple[tuple[str, tuple[str, ...]], ...], player_id: int, starts: Sequence[dt.datetime]
) -> list:
    """`ledger_windows_sql(columns)`'s parameters for the player, each column's window after its
    start in `starts` (aware datetimes)."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "postgresql":
        return [*(adapt(start) for start in starts), player_id, adapt(min(starts))]
    edges = [_hour_of(start) for start in starts]
    ranges = [value for start, edge in zip(starts, edges, strict=True) for value in (adapt(start), adapt(edge + _HOUR))]
    params = [*(adapt(edge) for edge in edges), player_id, adapt(min(edges)), *ranges, player_id, *ranges]
    start_of = dict(zip((name for name, _ in columns), starts, strict=True))
    debts = _debt_columns(columns)
    if debts:
        params += [*(adapt(start_of[name]) for name, _ in debts), player_id, adapt(min(start_of[n] for n, _ in debts))]
    return params


# --- a product's own movements, by their external ids (the bonuses' cost report) -------------------


def sum_bonus_account_moves(origin: str, external_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """The net of the entries on players' bonus accounts of the transactions of `origin` whose
    external id is one of `external_ids`, by (transaction kind, currency), in minor units: what
    those movements put on (positive) or took off (negative) the players' bonus money. A kind that
    moved nothing is absent. `external_ids` may be a list or a query of strings (then one statement,
    the query as its subquery); each id is looked up on the (external_id, origin) unique index."""
    rows = (
        Entry.objects.filter(
            account__kind=AccountKind.BONUS, transaction__origin=origin, transaction__external_id__in=external_ids
        )
        .values_list("transaction__kind", "currency_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(kind, currency): total for kind, currency, total in rows}


# --- the player's history page -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """One money movement as the player's history shows it: the signed net amount and the
    playable balance (cash + bonus) right after it."""

    transaction_id: str
    version: int
    kind: str
    amount: int
    balance_after: int
    currency: str
    game_id: str
    created_at: dt.datetime


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    number: int  # 1-based
    page_size: int
    total: int  # rows matching the filters, over every page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


HISTORY_MAX_PAGE_SIZE = 100


# An entry of the transaction on one of the player's accounts (system accounts' entries have no
# balance_after): what makes a transaction a movement of the player's money.
_PLAYER_ENTRY = Entry.objects.filter(transaction=OuterRef("pk"), balance_after__isnull=False)


def list_transactions_page(
    player_id: int,
    *,
    page: int = 1,
    page_size: int = 25,
    kinds: Iterable[str] = (),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> HistoryPage:
    """One page of the player's money movements, newest first, with the balance after each.

    Only movements that moved some of the player's money (an entry on one of the player's
    accounts): a record that moved nothing (a zero win, a rollback of an unknown bet, a held
    sportsbook stake moving on to the house) is left out, as the real-time frames leave it out; a
    payout from the pending-withdrawal account is shown, with amount 0 (it left no playable money). Filters:
    `kinds` (TransactionKind values; empty means every kind), `since` (created at or after) and
    `until` (created strictly before). A page past the last gives the last page; a page below 1
    gives the first. Two queries: the count and the page,
    both on the (player, wallet_version) index, each row's entries looked up by their transaction.
    """
    page_size = max(1, min(page_size, HISTORY_MAX_PAGE_SIZE))
    transactions = Transaction.objects.filter(Exists(_PLAYER_ENTRY), player_id=player_id)
    kinds = [kind for kind in kinds if kind in TransactionKind.values]
    if kinds:
        transactions = transactions.filter(kind__in=kinds)
    if since is not None:
        transactions = transactions.filter(created_at__gte=since)
    if until is not None:
        transactions = transactions.filter(created_at__lt=until)
    total = transactions.count()
    pages = max(1, -(-total // page_size))
    number = min(max(1, page), pages)
    start = (number - 1) * page_size
    rows = [_history_row(tx) for tx in transactions.order_by("-wallet_version", "-pk")[start : start + page_size]]
    return HistoryPage(rows=rows, number=number, page_size=page_size, total=total)


def list_transactions_in_period(player_id: int, start: dt.datetime, end: dt.datetime) -> Iterator[HistoryRow]:
    """The player's money movements created from `start` to `end` (both included), oldest first
    (by wallet version), as the history page shows them (movements without entries left out).
    Streamed from one query on the (player, wallet_version) index, so a long period is never held
    in memory at once: what a compliance case's report lists."""
    transactions = Transaction.objects.filter(
        Exists(_PLAYER_ENTRY), player_id=player_id, created_at__gte=start, created_at__lte=end
    ).order_by("wallet_version", "pk")
    for tx in transactions.iterator(chunk_size=500):
        yield _history_row(tx)


def _history_row(tx: Transaction) -> HistoryRow:
    return HistoryRow(
        transaction_id=tx.public_id,
        version=tx.wallet_version,
        kind=tx.kind,
        amount=tx.amount,
        balance_after=tx.balance_after,
        currency=tx.currency_id,
        game_id=tx.game_id,
        created_at=tx.created_at,
    )


# --- games' rounds by stake band (the live RTP report and the drift rule) -------------------------


@dataclass(frozen=True)
class GameRounds:
    """A game's rounds over a window, for one currency and stake band (`common.rtp`): how many,
    what they staked and returned (minor units), and the sum of their stakes squared (the drift
    band's stake-weighted width)."""

    origin: str
    game_id: str
    currency: str
    band: int
    rounds: int
    staked: int
    returned: int
    staked_squares: int


_ROUND_KINDS = sql_constants((TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK))


@cache
def _game_rounds_sql(one_game: bool) -> str:
    """`game_rounds`'s statement (built from constants only; every value is a parameter)."""
    bands = " ".join(
        f"WHEN stake >= {floor} THEN {band}" for band, floor in reversed(list(enumerate(rtp.STAKE_BAND_FLOORS)))
    )
    game = "AND t.game_id = %s " if one_game else ""
    return (
        "WITH rounds AS ("  # noqa: S608 - constants and placeholders only
        "SELECT t.origin, t.game_id, t.currency_id, "
        f"-SUM(CASE WHEN t.kind = '{TransactionKind.WIN}' THEN 0 ELSE t.amount END) AS stake, "
        f"SUM(CASE WHEN t.kind = '{TransactionKind.WIN}' THEN t.amount ELSE 0 END) AS won "
        "FROM wallet_transaction t "
        f"WHERE t.game_id <> '' {game}AND t.created_at >= %s AND t.kind IN ({_ROUND_KINDS}) "
        "GROUP BY t.origin, t.game_id, t.currency_id, t.player_id, t.round_id) "
        f"SELECT origin, game_id, currency_id, CASE {bands} END AS band, COUNT(*), SUM(stake), SUM(won), "
        "SUM(CAST(stake AS NUMERIC) * stake) "
        "FROM rounds WHERE stake > 0 GROUP BY origin, game_id, currency_id, band "
        "ORDER BY origin, game_id, currency_id, band"
    )


def game_rounds(*, since: dt.datetime, game_id: str | None = None) -> list[GameRounds]:
    """Every game's rounds (or those of games named `game_id`, of any provider) whose bets, wins
    and rollbacks were posted at or after `since`, by (origin, game, currency, stake band): one
    statement.

    A round is a player's rows of one (origin, round id) with a game id (providers may share a
    round id across a live table's players). Its stake is what its bets took less what rollbacks
    refunded, its return what its wins paid (`Transaction.amount`: what reached the player; the
    share of a win returned to the bonus pool because the bonus ended mid-round is not in it). A
    round whose every bet was rolled back (stake 0) is left out; a round not settled yet counts with
    what it has returned so far. Rows before `since` are outside the window: a round whose bet is
    older than `since` has no stake in it and is left out with its late win.

    With `game_id` the read is on the ledger's (game_id, created_at) index (`transaction_game_idx`):
    that game's rows in the window, never the rest of the ledger. Without it, one pass over the
    window's rows (the back office's report)."""
    params: list[object] = [game_id, since] if game_id is not None else [since]
    with connection.cursor() as cursor:
        cursor.execute(_game_rounds_sql(game_id is not None), params)
        rows = cursor.fetchall()
    return [
        GameRounds(origin=origin, game_id=game, currency=currency, band=int(band), rounds=int(rounds),
                   staked=int(staked), returned=int(returned), staked_squares=int(squares))
        for origin, game, currency, band, rounds, staked, returned, squares in rows
    ]  # fmt: skip


def get_adjustment_request(request_id: int) -> AdjustmentRequest:
    """One adjustment request with its people; raises UnknownAdjustment."""
    found = (
        AdjustmentRequest.objects.select_related("player__user", "requested_by", "decided_by")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise errors.UnknownAdjustment
    return found


def list_pending_adjustments(limit: int = 100) -> list[AdjustmentRequest]:
    """The adjustments awaiting a second approver, oldest first (a partial index holds only them)."""
    pending = AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING).order_by("requested_at", "pk")
    return list(pending.select_related("player__user", "requested_by")[:limit])


# --- the back office's player 360 page ---------------------------------------------------------


@dataclass(frozen=True)
class AccountBalance:
    kind: str  # AccountKind: cash, bonus, pending_withdrawal, debt (stored positive)
    balance: int
    currency: str


def list_player_balances(player_id: int) -> list[AccountBalance]:
    """The player's accounts and their stored balances, in PLAYER_KINDS order (the pending and
    debt accounts only once opened)."""
    rows = Account.objects.filter(player_id=player_id, kind__in=PLAYER_KINDS).values_list(
        "kind", "balance", "currency_id"
    )
    order = {kind: n for n, kind in enumerate(PLAYER_KINDS)}
    return sorted((AccountBalance(*row) for row in rows), key=lambda row: order[row.kind])


@dataclass(frozen=True)
class TransactionSlice:
    rows: list[HistoryRow]
    next_cursor: str | None  # where the next (older) slice starts; None: this is the oldest


STAFF_PAGE_SIZE = 25


def list_recent_transactions(
    player_id: int, *, cursor: str | None = None, page_size: int = STAFF_PAGE_SIZE
) -> TransactionSlice:
    """The player's money movements newest first, a slice at a time, by keyset: `cursor` (from the
    previous slice, "version.pk") says where the next starts. No count, no offset: one indexed
    range read on (player, wallet_version) however long the ledger. A malformed cursor starts at
    the newest. Movements that moved nothing are left out; unlike the player's history page, one
    with entries on system accounts alone (a held sportsbook stake moving on to the house) is
    shown, with amount 0."""
    page_size = max(1, min(page_size, HISTORY_MAX_PAGE_SIZE))
    moved = Entry.objects.filter(transaction=OuterRef("pk"))
    transactions = Transaction.objects.filter(Exists(moved), player_id=player_id)
    version, _, pk = (cursor or "").partition(".")
    if version.isdigit() and pk.isdigit():
        version, pk = int(version), int(pk)
        # The `lte` bounds the index range; the OR breaks ties between movements of one version.
        transactions = transactions.filter(wallet_version__lte=version).filter(
            Q(wallet_version__lt=version) | Q(wallet_version=version, pk__lt=pk)
        )
    found = list(transactions.order_by("-wallet_version", "-pk")[: page_size + 1])
    more = len(found) > page_size
    found = found[:page_size]
    next_cursor = f"{found[-1].wallet_version}.{found[-1].pk}" if more else None
    return TransactionSlice(rows=[_history_row(tx) for tx in found], next_cursor=next_cursor)


# --- the back office's daily reports (read by apps/backoffice/reports.py) ---------------------------
# `Transaction.amount` is what reached the player (cash + bonus), signed; the reports' figures are
# sums of it, so each equals what the players' accounts gained or lost.

GAME_KINDS = (TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK)
# A bonus's grant (money into the player's bonus account) and each of its ends (what went back to
# the pool); a conversion moves bonus money to cash and nets to zero on the player.
BONUS_KINDS = (
    TransactionKind.BONUS,
    TransactionKind.BONUS_CONVERTED,
    TransactionKind.BONUS_EXPIRED,
    TransactionKind.BONUS_FORFEITED,
    TransactionKind.BONUS_CANCELLED,
)


@dataclass(frozen=True)
class GameResult:
    """One game's play in one currency and brand over a period, in minor units: what the bets
    took, what rollbacks gave back, what wins paid."""

    brand: str
    origin: str
    game_id: str
    currency: str
    bets: int
    staked: int
    refunded: int
    won: int

    @property
    def ggr(self) -> int:
        return self.staked - self.refunded - self.won


def game_results(*, since: dt.datetime, until: dt.datetime) -> list[GameResult]:
    """Every (brand, origin, game, currency)'s bets, rollbacks and wins created at or after `since`
    and before `until`: one aggregate over the period's rows of those kinds. A rollback counts
    under its own game id (the provider's call names it), on the day it was posted."""
    bet, win, rollback = (Q(kind=kind) for kind in GAME_KINDS)
    rows = (
        Transaction.objects.filter(created_at__gte=since, created_at__lt=until, kind__in=GAME_KINDS)
        .values_list("player__brand__code", "origin", "game_id", "currency_id")
        .annotate(
            bets=Count("pk", filter=bet),
            staked=Sum("amount", filter=bet, default=0),
            refunded=Sum("amount", filter=rollback, default=0),
            won=Sum("amount", filter=win, default=0),
        )
        .order_by("player__brand__code", "origin", "game_id", "currency_id")
    )
    return [
        GameResult(brand, origin, game, currency, bets, -staked, refunded, won)
        for brand, origin, game, currency, bets, staked, refunded, won in rows
    ]


@dataclass(frozen=True)
class BonusMoney:
    """What bonuses put on players' accounts in one brand and currency over a period (grants)
    and took back off them (what expired, was forfeited or cancelled went back to the pool), in
    minor units; conversions move bonus money to cash and are not in either."""

    brand: str
    currency: str
    granted: int
    returned: int

    @property
    def cost(self) -> int:
        return self.granted - self.returned


def bonus_money(*, since: dt.datetime, until: dt.datetime) -> list[BonusMoney]:
    """Every (brand, currency)'s bonus money granted and returned to the pool in the period: one
    aggregate of the players' net movement on the bonus kinds (`BONUS_KINDS`)."""
    grant = Q(kind=TransactionKind.BONUS)
    rows = (
        Transaction.objects.filter(created_at__gte=since, created_at__lt=until, kind__in=BONUS_KINDS)
        .values_list("player__brand__code", "currency_id")
        .annotate(granted=Sum("amount", filter=grant, default=0), ended=Sum("amount", filter=~grant, default=0))
        .order_by("player__brand__code", "currency_id")
    )
    return [BonusMoney(brand, currency, granted, -ended) for brand, currency, granted, ended in rows]


@dataclass(frozen=True)
class Liability:
    """The players' accounts of one kind and currency at one moment: how many, the sum of their
    stored balances, and the same balances summed from the ledger's entries (each with the
    kind's sign, `BALANCE_SIGN`). The two are equal unless the ledger is broken."""

    currency: str
    kind: str
    accounts: int
    balances: int
    ledger: int


_LIABILITY_SQL = (
    "SELECT a.currency_id, a.kind, COUNT(*), COALESCE(SUM(a.balance), 0), "
    "COALESCE(SUM(CASE WHEN a.kind = %s THEN -e.total ELSE e.total END), 0) "
    "FROM wallet_account a "
    "LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM wallet_entry GROUP BY account_id) e "
    "ON e.account_id = a.id "
    "WHERE a.player_id IS NOT NULL GROUP BY a.currency_id, a.kind ORDER BY a.currency_id, a.kind"
)


def player_liability() -> list[Liability]:
    """The sum of every player account's balance by (currency, kind), beside the sum of those
    accounts' entries: one statement, so both figures come from one snapshot of the database even
    while money moves."""
    with connection.cursor() as cursor:
        cursor.execute(_LIABILITY_SQL, [AccountKind.DEBT])
        rows = cursor.fetchall()
    return [
        Liability(currency, kind, int(n), int(balances), int(ledger)) for currency, kind, n, balances, ledger in rows
    ]


@dataclass(frozen=True)
class LedgerTotals:
    """One currency's movements over a period, from `Transaction.amount` (what reached the
    player's playable balance, cash and bonus together)."""

    currency: str
    deposits: int = 0  # how many deposit transactions
    deposited: int = 0  # their sum
    staked: int = 0  # bets' stakes (positive)
    won: int = 0  # wins paid
    refunded: int = 0  # stakes given back by rollbacks

    @property
    def ggr(self) -> int:
        """Gross gaming revenue: stakes less wins, net of rollbacks (docs/backoffice.md)."""
        return self.staked - self.won - self.refunded


# How far a transaction's id order may disagree with its created_at order: created_at is the
# application server's clock read just before the insert that takes the id, so only concurrent
# inserts on servers whose clocks differ can invert them, by far less than this.
ID_ORDER_SKEW = dt.timedelta(minutes=5)
_TOTALS_KINDS = (TransactionKind.DEPOSIT, TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK)


def last_id_before(moment: dt.datetime) -> int:
    """The id of the newest transaction created before `moment` (0 if none): every transaction
    created at or after `moment + ID_ORDER_SKEW` has a higher id.

    The ledger has no index on created_at (each would slow every bet); this walks the primary key
    backwards from the newest row, so it reads the rows since `moment`, never the history before."""
    newest_before = Transaction.objects.filter(created_at__lt=moment).order_by("-id").values_list("id", flat=True)
    return next(iter(newest_before[:1]), 0)


def ledger_totals(start: dt.datetime, end: dt.datetime) -> dict[str, LedgerTotals]:
    """Deposits, stakes, wins and rollbacks posted at or after `start` and before `end`, per
    currency (currencies with none left out). Two reads on the primary key: the id where the
    period starts (`last_id_before`), then the period's rows from it, never the ledger before (a
    recent period: the back office's dashboard reads today)."""
    after_id = last_id_before(start - ID_ORDER_SKEW)
    rows = (
        Transaction.objects.filter(id__gt=after_id, created_at__gte=start, created_at__lt=end, kind__in=_TOTALS_KINDS)
        .values("currency_id", "kind")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by()
    )
    sums: dict[str, dict[str, int]] = {}
    for row in rows:
        figures = sums.setdefault(row["currency_id"], {})
        kind, total = row["kind"], row["total"]
        if kind == TransactionKind.DEPOSIT:
            figures.update(deposits=row["count"], deposited=total)
        elif kind == TransactionKind.BET:
            figures["staked"] = -total
        elif kind == TransactionKind.WIN:
            figures["won"] = total
        else:
            figures["refunded"] = total
    return {currency: LedgerTotals(currency=currency, **figures) for currency, figures in sorted(sums.items())}
