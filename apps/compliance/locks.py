"""The only module of compliance that takes row locks.

Each compliance write locks one row of the player's own, so that two changes for one player are
serialised: a limit row (two changes of the same limit cannot both read the old amount) or the
player's protection row (two time-outs at once cannot both pass the never-shorten check). A
compliance write never locks the wallet's rows, and the wallet's money transaction never locks
these (it only reads them), so the two apps' locks cannot deadlock with each other.
"""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import Player
from apps.compliance.models import Limit, PlayerProtection


def lock_or_create_limit(player: Player, kind: str, period: str, now: dt.datetime) -> Limit:
    """The player's limit of this kind and period, created (empty) on first use, locked."""
    limit, _ = Limit.objects.select_for_update().get_or_create(
        player=player, kind=kind, period=period, defaults={"updated_at": now}
    )
    return limit


def lock_limit(player: Player, kind: str, period: str) -> Limit | None:
    """The player's limit of this kind and period, locked, or None."""
    return Limit.objects.select_for_update().filter(player=player, kind=kind, period=period).first()


def lock_protection(player: Player) -> PlayerProtection:
    """The player's protection row (with its current exclusion), created on first use, locked."""
    PlayerProtection.objects.get_or_create(player=player)
    return PlayerProtection.objects.select_for_update(of=("self",)).select_related("exclusion").get(player=player)
