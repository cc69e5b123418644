"""Re-verify every ledger invariant on a live database, without trusting the services: in SQL,
and the hash chains recomputed from the rows.

Each check returns the violations it found as sentences naming the rows; `run_audit` runs them
all. Used by `manage.py wallet_audit` and by the tests.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

from apps.common.timestamps import iso_utc
from apps.wallet import chain
from apps.wallet.choices import BALANCE_SIGN, AccountKind
from apps.wallet.models import Account, Entry, Transaction


def _rows(sql: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def unbalanced_transactions() -> list[str]:
    rows = _rows(
        "SELECT transaction_id, currency_id, SUM(amount) FROM wallet_entry "
        "GROUP BY transaction_id, currency_id HAVING SUM(amount) <> 0 ORDER BY transaction_id"
    )
    return [f"entries of transaction {tx} sum to {total} {currency}, not 0" for tx, currency, total in rows]


def balances_not_sum_of_entries() -> list[str]:
    """A player account's stored balance is the sum of its entries, times its kind's sign (a debt
    account stores what the player owes, a sum of negative entries, as a positive amount)."""
    signed = " ".join(f"WHEN '{kind}' THEN {sign}" for kind, sign in BALANCE_SIGN.items())
    total = f"COALESCE(SUM(e.amount), 0) * (CASE a.kind {signed} ELSE 1 END)"
    rows = _rows(
        f"SELECT a.id, a.player_id, a.kind, a.balance, {total} FROM wallet_account a "  # noqa: S608 - constants
        "LEFT JOIN wallet_entry e ON e.account_id = a.id WHERE a.player_id IS NOT NULL "
        f"GROUP BY a.id, a.player_id, a.kind, a.balance HAVING a.balance <> {total} ORDER BY a.id"
    )
    return [
        f"{kind} account {pk} of player {player}: stored balance {stored} but its entries sum to {total}"
        for pk, player, kind, stored, total in rows
    ]


def negative_balances() -> list[str]:
    rows = _rows("SELECT id, player_id, balance FROM wallet_account WHERE player_id IS NOT NULL AND balance < 0")
    return [f"account {pk} of player {player} has a negative balance {balance}" for pk, player, balance in rows]


def system_balances_stored() -> list[str]:
    rows = _rows("SELECT id, code, balance FROM wallet_account WHERE player_id IS NULL AND balance <> 0")
    return [f"system account {pk} ({code}) stores balance {b}; system balances are derived" for pk, code, b in rows]


def entry_currency_mismatches() -> list[str]:
    rows = _rows(
        "SELECT e.id, e.currency_id, a.currency_id FROM wallet_entry e JOIN wallet_account a ON a.id = e.account_id "
        "WHERE e.currency_id <> a.currency_id"
    )
    return [f"entry {pk} is in {ec} but its account is in {ac}" for pk, ec, ac in rows]


def last_balance_after_mismatches() -> list[str]:
    """The last entry of a player account records its stored balance (and, for a bonus account,
    its version; a cash account's version also counts bonus-only movements)."""
    rows = _rows(
        "SELECT a.id, a.balance, a.version, e.balance_after, e.account_version FROM wallet_account a "
        "JOIN wallet_entry e ON e.id = (SELECT MAX(id) FROM wallet_entry WHERE account_id = a.id) "
        "WHERE a.player_id IS NOT NULL "
        "AND (e.balance_after <> a.balance OR (a.kind = %s AND e.account_version <> a.version))",
        (AccountKind.BONUS.value,),
    )
    return [
        f"account {pk}: stored balance {balance} v{version}, last entry says {after} v{entry_version}"
        for pk, balance, version, after, entry_version in rows
    ]


def wallet_version_gaps() -> list[str]:
    """The cash account's version is the number of transactions that moved the player's money
    (an entry on one of the player's accounts: a held stake moving on to the house has entries on
    system accounts alone), and those transactions carry versions 1..N with no gap or repeat."""
    versions = dict(_rows("SELECT player_id, version FROM wallet_account WHERE kind = %s", (AccountKind.CASH.value,)))
    moved = {
        player: (count, distinct, highest)
        for player, count, distinct, highest in _rows(
            "SELECT t.player_id, COUNT(*), COUNT(DISTINCT t.wallet_version), MAX(t.wallet_version) "
            "FROM wallet_transaction t WHERE EXISTS (SELECT 1 FROM wallet_entry e WHERE e.transaction_id = t.id "
            "AND e.balance_after IS NOT NULL) "
            "GROUP BY t.player_id"
        )
    }
    found = []
    for player in sorted(versions.keys() | moved.keys()):
        version = versions.get(player, 0)
        count, distinct, highest = moved.get(player, (0, 0, 0))
        if not count == distinct == highest == version:
            found.append(
                f"player {player}: wallet version {version} but {count} money transactions "
                f"({distinct} distinct versions, highest {highest})"
            )
    return found


def missing_guards() -> list[str]:
    """On PostgreSQL, the append-only and zero-sum triggers exist and are enabled."""
    if connection.vendor != "postgresql":
        return []
    wanted = {"wallet_transaction_append_only", "wallet_entry_append_only", "wallet_entry_transaction_balanced",
              "wallet_transaction_counted_by_hour"}  # fmt: skip
    enabled = {name for name, state in _rows("SELECT tgname, tgenabled FROM pg_trigger") if state != "D"}
    return [f"trigger {name} is missing or disabled" for name in sorted(wanted - enabled)]


def ledger_hours_not_the_ledgers() -> list[str]:
    """On PostgreSQL, each player's hourly sums by kind (`wallet_ledger_hour`, which the limits'
    usage reads) equal the sums of their transactions, recomputed; a missing sum is 0."""
    if connection.vendor != "postgresql":
        return []
    rows = _rows(
        "WITH t AS (SELECT player_id, date_trunc('hour', created_at, 'UTC') AS hour, kind, SUM(amount) AS amount "
        "FROM wallet_transaction GROUP BY 1, 2, 3) "
        "SELECT COALESCE(t.player_id, h.player_id), COALESCE(t.hour, h.hour), COALESCE(t.kind, h.kind), "
        "COALESCE(h.amount, 0), COALESCE(t.amount, 0) FROM t FULL JOIN wallet_ledger_hour h "
        "ON h.player_id = t.player_id AND h.hour = t.hour AND h.kind = t.kind "
        "WHERE COALESCE(h.amount, 0) <> COALESCE(t.amount, 0) ORDER BY 1, 2, 3"
    )
    return [
        f"player {player}: the {kind} of the hour from {iso_utc(hour)} sum to {total}, but its hourly sum says {stored}"
        for player, hour, kind, stored, total in rows
    ]


def broken_hash_chains() -> list[str]:
    """Each player's transactions, in the order written, follow their hash chain (chain.py), and
    the head on the cash account is the last one's: names the first broken link of each player.
    A transaction or entry changed, inserted or removed behind the triggers breaks it."""
    found, heads, broken = [], {}, set()
    for tx, expected in chain.recompute(Transaction, Entry):
        if tx.player_id in broken:
            continue
        if tx.chain_hash != expected:
            found.append(f"transaction {tx.pk} of player {tx.player_id}: its chain hash does not follow the chain")
            broken.add(tx.player_id)
        heads[tx.player_id] = expected
    for player_id, stored in Account.objects.filter(kind=AccountKind.CASH).values_list("player_id", "chain_hash"):
        if player_id not in broken and stored != heads.get(player_id, ""):
            found.append(f"player {player_id}: the chain head on the cash account is not the last transaction's")
    return found


CHECKS: dict[str, Callable[[], list[str]]] = {
    "entries sum to zero per transaction and currency": unbalanced_transactions,
    "player balances equal the sum of their entries": balances_not_sum_of_entries,
    "player balances are not negative": negative_balances,
    "system balances are derived, never stored": system_balances_stored,
    "entries are in their account's currency": entry_currency_mismatches,
    "last entry agrees with the stored balance": last_balance_after_mismatches,
    "wallet versions count the money transactions": wallet_version_gaps,
    "database guards are in place": missing_guards,
    "the hourly sums are the ledger's": ledger_hours_not_the_ledgers,
    "each player's transactions follow their hash chain": broken_hash_chains,
}


def run_audit() -> dict[str, list[str]]:
    return {name: check() for name, check in CHECKS.items()}
