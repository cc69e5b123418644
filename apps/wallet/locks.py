"""The only module that takes row locks on the ledger.

A money transaction locks the player's own accounts (cash and bonus) with one
`SELECT … FOR UPDATE … ORDER BY id`: always in primary-key order, so two transactions that lock
the same rows queue instead of deadlocking. Calls for one player are thereby serialised; calls
for different players touch different rows and never wait for each other. System accounts (the
house, clearing accounts) are never locked: their balances are derived from entries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.db import connection, models
from django.utils import timezone
from psycopg.pq import TransactionStatus

from apps.accounts.choices import BonusState
from apps.accounts.models import Player
from apps.common.db import default_connection, prepared_cursor
from apps.wallet.choices import AccountKind
from apps.wallet.models import Account, AdjustmentRequest

_ACCOUNT_FIELDS = ("id", "kind", "player_id", "code", "currency_id", "balance", "version", "chain_hash", "created_at")


@dataclass
class LockedWallet:
    player: Player
    cash: Account
    bonus: Account
    # Opened on first use (a withdrawal, a debt): most players never have them, and a bet's lock
    # then reads two rows rather than four.
    pending_withdrawal: Account | None = None
    debt: Account | None = None

    @property
    def balance(self) -> int:
        """The playable balance: cash plus bonus."""
        return self.cash.balance + self.bonus.balance

    @property
    def version(self) -> int:
        return self.cash.version

    @property
    def holds_bonus(self) -> bool:
        """Whether the player may hold an active bonus: the player row's bonus state says so, or
        there is bonus money (only an active bonus holds it; a grant that committed while this
        call waited for the lock shows in the locked balance, not in the row read with it)."""
        return self.bonus.balance > 0 or self.player.bonus_state == BonusState.ACTIVE


@cache
def _lock_sql(vendor: str) -> tuple[str, tuple[str, ...]]:
    """The lock query, written out once: every money call runs it, and the ORM took longer to
    compile it than PostgreSQL takes to answer it (measured with `make bench`). The player row
    is read in the same statement, not locked (`FOR UPDATE OF a`)."""
    player_fields = tuple(field.attname for field in Player._meta.concrete_fields)
    player_columns = [f"p.{field.column}" for field in Player._meta.concrete_fields]
    columns = [f"a.{name}" for name in _ACCOUNT_FIELDS] + player_columns
    sql = (
        f"SELECT {', '.join(columns)} FROM wallet_account a "  # noqa: S608 - column names from the models
        "JOIN accounts_player p ON p.id = a.player_id WHERE a.player_id = %s ORDER BY a.id"
    )
    # SQLite (embedded mode) has no row locks: its IMMEDIATE transactions serialise writers.
    if vendor == "postgresql":
        sql += " FOR UPDATE OF a"
    return sql, player_fields


def lock_player_wallet(player_id: int) -> LockedWallet | None:
    """Lock and return the player's accounts (the player row read with them, not locked), or None
    if the player has no accounts yet. Must run inside a transaction."""
    sql, _ = _lock_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [player_id])
        return _wallet(cursor.fetchall())


def lock_player_wallet_then(player_id: int, then_sql: str, then_params: list) -> tuple[LockedWallet | None, list]:
    """`lock_player_wallet`, then the query `then_sql` once the lock is held: (the wallet or None,
    the query's rows).

    On PostgreSQL both go in one round trip, with the transaction's BEGIN when they are its first
    statements (`_begins_here`), as two prepared statements in one pipeline: the
    server executes the second only after the first has its locks, and, in READ COMMITTED, with a
    snapshot of its own taken then, so it sees whatever a transaction that held the lock before
    us committed (what the idempotency look-up needs). Prepared, because planning the two cost
    PostgreSQL more than running them. Elsewhere they are two executes.
    """
    db = default_connection()  # once: every attribute of Django's `connection` is a look-up
    sql, _ = _lock_sql(db.vendor)
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, [player_id])
            wallet = _wallet(cursor.fetchall())
            cursor.execute(then_sql, then_params)
            return wallet, cursor.fetchall()
    with prepared_cursor() as lock, prepared_cursor() as then:
        with db.wrap_database_errors:
            begin = _begins_here(db.connection)
            with db.connection.pipeline():
                if begin:
                    db.connection.execute("BEGIN", prepare=False)
                lock.execute(sql, [player_id])
                then.execute(then_sql, then_params)
        return _wallet(lock.fetchall()), then.fetchall()


def _begins_here(pg) -> bool:
    """Whether the lock is the first statement of a transaction that Django has opened but
    psycopg not yet begun; if so, makes the caller send the BEGIN itself, in the lock's pipeline.

    psycopg sends the BEGIN of a transaction before its first statement and waits for its answer
    (in a pipeline too: it syncs after it), a round trip of its own on every money call. Sent by
    the caller as the pipeline's first statement, it travels with the lock and the look-up. For
    that, psycopg must not begin on its own: its `autocommit` is set (allowed while idle, and
    the server is in the transaction from the BEGIN on); Django keeps its own flag, and psycopg's
    COMMIT and ROLLBACK go by the server's transaction state, not by that setting, which Django
    sets again when the block ends. Only for psycopg's default transaction (no isolation level,
    read-only or deferrable set on the connection), whose BEGIN is the plain one sent here."""
    if pg.autocommit or pg.info.transaction_status != TransactionStatus.IDLE:
        return False  # Django's autocommit (no transaction), or a transaction already under way
    if pg.isolation_level is not None or pg.read_only is not None or pg.deferrable is not None:
        return False
    pg.autocommit = True
    return True


def lock_player_wallets(player_ids: list[int]) -> dict[int, LockedWallet]:
    """Lock the accounts of several players in one statement, in primary-key order across all of
    them (the order every lock of accounts takes, so a batch and a single player's call queue
    instead of deadlocking): {player id: wallet}; a player without accounts is left out. Must run
    inside a transaction."""
    sql, _ = _lock_sql(connection.vendor)
    if connection.vendor == "postgresql":
        # One text for any number of players, prepared (apps.common.db): a settlement runs it once
        # per batch of wins, and binding a list of ids into the text cost more than the lock.
        with prepared_cursor() as cursor:
            cursor.execute(sql.replace("WHERE a.player_id = %s", "WHERE a.player_id = ANY(%b)"), [list(player_ids)])
            rows = cursor.fetchall()
    else:
        placeholders = ", ".join(["%s"] * len(player_ids))
        sql = sql.replace("WHERE a.player_id = %s", f"WHERE a.player_id IN ({placeholders})")
        with connection.cursor() as cursor:
            cursor.execute(sql, list(player_ids))
            rows = cursor.fetchall()
    player_at = _ACCOUNT_FIELDS.index("player_id")
    by_player: dict[int, list[tuple]] = {}
    for row in rows:
        by_player.setdefault(row[player_at], []).append(row)
    return {player_id: _wallet(found) for player_id, found in by_player.items()}


def _wallet(rows: list[tuple]) -> LockedWallet | None:
    if not rows:
        return None
    db = default_connection()
    _, player_fields = _lock_sql(db.vendor)
    split = len(_ACCOUNT_FIELDS)
    naive = db.vendor != "postgresql"
    player = _as_the_orm_reads(Player.from_db(db.alias, player_fields, rows[0][split:]), naive=naive)
    by_kind = {}
    for row in rows:
        account = _as_the_orm_reads(Account.from_db(db.alias, _ACCOUNT_FIELDS, row[:split]), naive=naive)
        account.player = player
        by_kind[account.kind] = account
    return LockedWallet(
        player=player,
        cash=by_kind[AccountKind.CASH],
        bonus=by_kind[AccountKind.BONUS],
        pending_withdrawal=by_kind.get(AccountKind.PENDING_WITHDRAWAL),
        debt=by_kind.get(AccountKind.DEBT),
    )


def _datetime_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField))


def _as_the_orm_reads(instance: models.Model, *, naive: bool) -> models.Model:
    """SQLite's raw rows (`naive`) carry naive datetimes (stored in UTC), which the ORM's converters
    would have made aware; PostgreSQL's are aware already. The money path compares them with now."""
    if naive:
        for name in _datetime_fields(type(instance)):
            value = getattr(instance, name)
            if value is not None and timezone.is_naive(value):
                setattr(instance, name, timezone.make_aware(value, dt.UTC))
    return instance


def lock_player_account(player_id: int, kind: str) -> Account:
    """Lock and return the player's account of `kind`, which exists. For an account opened inside
    a transaction that already holds the player's other accounts: its id is higher than theirs, so
    taking it last keeps the primary-key order."""
    accounts = Account.objects.filter(player_id=player_id, kind=kind)
    if connection.vendor == "postgresql":
        accounts = accounts.select_for_update()
    return accounts.get()


def lock_adjustment_request(request_id: int) -> AdjustmentRequest:
    """Lock and return an adjustment request: its approval and rejection queue on it, so the
    four-eyes check and the status change see what the other committed. An approval takes it
    after the player's accounts and before the staff trail's head (always the last lock)."""
    requests = AdjustmentRequest.objects.filter(pk=request_id)
    if connection.vendor == "postgresql":
        requests = requests.select_for_update()
    return requests.get()
