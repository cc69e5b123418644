"""Compliance test data, built through the services (wallet and compliance) the product uses."""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import Player
from apps.compliance import gate, services
from apps.wallet import services as wallet
from apps.wallet.choices import TransactionKind, clearing_code
from apps.wallet.tests.factories import a_ref, bet, funded_player, win  # noqa: F401 - re-exported

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def deposit(player: Player, amount: int) -> wallet.Posted:
    """A deposit as the product makes one: the cashier's check when it starts (refusals happen
    here, before the player pays), then the wallet's credit when the payment provider confirms."""
    gate.assert_may_deposit(player=Player.objects.get(pk=player.pk), amount=amount)
    return wallet.credit(
        player_id=player.pk,
        currency=player.currency_id,
        amount=amount,
        kind=TransactionKind.DEPOSIT,
        ref=a_ref("payments:test"),
        counter=clearing_code("test-psp"),
    )


def withdraw(player: Player, amount: int) -> wallet.Posted:
    return wallet.reserve_withdrawal(
        player_id=player.pk, currency=player.currency_id, amount=amount, ref=a_ref("payments:test")
    )


def limit(player: Player, kind: str, period: str | None, amount: int | None, **kwargs):
    return services.set_limit(player=player, kind=kind, period=period, amount=amount, **kwargs)


def fresh(player: Player) -> Player:
    """The player as committed (the flag and due time are written by compliance)."""
    return Player.objects.select_related("brand", "currency", "user").get(pk=player.pk)
