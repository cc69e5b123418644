"""Reads of the wallet."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Player
from apps.common.timestamps import iso_utc
from apps.wallet import errors
from apps.wallet.choices import AccountKind
from apps.wallet.models import Account


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


def list_events_since(player_id: int, since_version: int, limit: int) -> list[dict]:
    """The `transaction_posted` payloads of the player's money movements after `since_version`,
    in version order, rebuilt from the ledger (the ledger is the event store); at most `limit`.

    Each payload has the keys the live event has, so replayed and live frames are identical.
    """
    from apps.wallet.models import Entry, Transaction

    transactions = list(
        Transaction.objects.filter(player_id=player_id, wallet_version__gt=since_version, entries__isnull=False)
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
