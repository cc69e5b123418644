"""The only module of accounts that takes row locks: the player row, whose status two writers (a
behaviour rule's lock and staff re-opening the account) must not both read before either
writes."""

from __future__ import annotations

from apps.accounts.models import Player


def lock_player_status(player_id: int) -> str:
    """The player's status, with the player row locked until the caller's transaction ends.
    Raises Player.DoesNotExist."""
    return Player.objects.select_for_update().values_list("status", flat=True).get(pk=player_id)
