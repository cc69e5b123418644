"""The ledger's hash chain (ARCHITECTURE.md, invariant 5): tampering with a money movement is
detectable even by someone who can write to the database behind the triggers.

Each player's transactions form one chain, in the order they were written: a transaction's
`chain_hash` is the SHA-256 of the previous one's and of the transaction itself (every column a
replay or an audit relies on, and its entries). The head, the hash of the player's last
transaction, is kept on the player's cash account row, which every money transaction already
locks and updates: the chain costs a bet no round trip and never makes two players' bets wait
for each other (one chain for the whole ledger would). `wallet_audit` recomputes every chain
from the ledger and names the first transaction whose hash does not follow, and any head that
does not match its chain's end (a removed last transaction).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from apps.common.timestamps import iso_utc

GENESIS = "0" * 64


def link(previous: str, tx, entries: Iterable[tuple]) -> str:
    """The chain hash of `tx` (a Transaction, saved or about to be) after `previous` ("" for a
    player's first), with its entries as (account_id, amount, balance_after, account_version)."""
    record = [
        tx.player_id, str(tx.kind), tx.currency_id, tx.amount, tx.origin, tx.external_id, tx.fingerprint,
        tx.round_id, tx.game_id, tx.reverses_id, tx.reverses_external_id, tx.reason, tx.acting_user_id,
        tx.balance_after, tx.wallet_version, iso_utc(tx.created_at),
        # In a fixed order, whatever order the database returns them in.
        sorted([list(entry) for entry in entries], key=lambda entry: (entry[0], entry[1])),
    ]  # fmt: skip
    text = (previous or GENESIS) + json.dumps(record, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def recompute(transaction_model, entry_model) -> Iterator[tuple[object, str]]:
    """Every transaction of the ledger in the order written, with the chain hash it should have:
    for the audit, which compares, and for the migration that first computed the chains (hence
    the models as arguments: a migration has its own)."""
    entries: dict[int, list[tuple]] = {}
    for row in entry_model.objects.order_by("id").values_list(
        "transaction_id", "account_id", "amount", "balance_after", "account_version"
    ):
        entries.setdefault(row[0], []).append(row[1:])
    heads: dict[int, str] = {}
    for tx in transaction_model.objects.order_by("id").iterator(chunk_size=2000):
        heads[tx.player_id] = expected = link(heads.get(tx.player_id, ""), tx, entries.get(tx.pk, []))
        yield tx, expected
