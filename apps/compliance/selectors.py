"""The single entry point the wallet asks before money is staked.

Called inside the wallet's money transaction, with the player's accounts locked, so what it
reads cannot change before the stake is written. Today it decides on the player's status; the
player-protection rules (limits, time-outs, exclusions, KYC) extend it here, without the wallet
changing.
"""

from __future__ import annotations

from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Player
from apps.compliance.errors import PlayerBlocked


def assert_may_stake(*, player: Player, amount: int) -> None:
    """Raise PlayerBlocked unless `player` may stake `amount` (minor units) now."""
    if player.status != PlayerStatus.ACTIVE:
        raise PlayerBlocked(f"The player's account is {player.status}.")
