"""The only module that takes row locks on the ledger.

A money transaction locks the player's own accounts (cash and bonus) with one
`SELECT … FOR UPDATE … ORDER BY id`: always in primary-key order, so two transactions that lock
the same rows queue instead of deadlocking. Calls for one player are thereby serialised; calls
for different players touch different rows and never wait for each other. System accounts (the
house, clearing accounts) are never locked: their balances are derived from entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Player
from apps.wallet.choices import AccountKind
from apps.wallet.models import Account


@dataclass
class LockedWallet:
    player: Player
    cash: Account
    bonus: Account

    @property
    def balance(self) -> int:
        """The playable balance: cash plus bonus."""
        return self.cash.balance + self.bonus.balance

    @property
    def version(self) -> int:
        return self.cash.version


def lock_player_wallet(player_id: int) -> LockedWallet | None:
    """Lock and return the player's accounts (the player row read with them, not locked), or None if the
    player has no accounts yet. Must run inside a transaction."""
    rows = list(
        Account.objects.select_for_update(of=("self",))
        .select_related("player")
        .filter(player_id=player_id)
        .order_by("pk")
    )
    if not rows:
        return None
    by_kind = {row.kind: row for row in rows}
    return LockedWallet(player=rows[0].player, cash=by_kind[AccountKind.CASH], bonus=by_kind[AccountKind.BONUS])
