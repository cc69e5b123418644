"""The risk rules a withdrawal meets before it may be approved without staff.

Deliberately small and explainable: each rule that fires adds a named flag to the withdrawal, and
any flag sends it to the approval queue whatever its amount.

- `reversed_deposit`: a deposit of the player was refunded or charged back (the player may owe
  the operator money, and card fraud is the usual reason for a chargeback);
- `little_wagering_since_deposit`: a deposit was credited in the last 24 hours and the player
  has staked less than it since (money passed through the casino without being played: the
  classic laundering pattern).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.payments import selectors
from apps.wallet import selectors as wallet_selectors
from apps.wallet.choices import TransactionKind

RECENT_DEPOSIT = dt.timedelta(hours=24)


def risk_flags(*, player_id: int, now: dt.datetime | None = None) -> list[str]:
    """The names of the rules a withdrawal by this player fires now (empty: none)."""
    now = now or timezone.now()
    flags = []
    if selectors.has_reversed_deposit(player_id):
        flags.append("reversed_deposit")
    deposit = selectors.latest_credited_deposit(player_id, since=now - RECENT_DEPOSIT)
    if deposit is not None:
        # Bets are negative in the ledger: the player's net move.
        staked = -wallet_selectors.sum_ledger(player_id, kinds=[TransactionKind.BET], since=deposit.updated_at)
        if staked < deposit.credited_amount:
            flags.append("little_wagering_since_deposit")
    return flags
