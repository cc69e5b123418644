"""Reads of the wallet."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Player
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
