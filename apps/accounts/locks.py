"""The only module of accounts that takes row locks: the player row, whose status two writers (a
behaviour rule's lock and staff re-opening the account) must not both read before either
writes; a staff member's confirmed two-factor devices of one kind, while a code is checked
against them (the same code sent twice at once signs in once); and bearer tokens about to be
revoked, so that the revocation names exactly the tokens it deletes."""

from __future__ import annotations

from django.db.models import Model

from apps.accounts.models import Player, User


def lock_player_status(player_id: int) -> str:
    """The player's status, with the player row locked until the caller's transaction ends.
    Raises Player.DoesNotExist. The lock is the one an UPDATE of the row takes (`FOR NO KEY
    UPDATE`): it excludes every other status change, but not the key share lock that each
    ledger row's foreign key to its player takes, so a chargeback's lock inside a money
    transaction does not wait on the player's other money transactions for their ledger rows
    (`FOR UPDATE` did, and deadlocked with a deposit's success racing its early chargeback)."""
    return Player.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=player_id)


def lock_staff_devices(model: type[Model], user: User) -> list:
    """The user's confirmed devices of django-otp `model` (TOTP or static), locked until the
    caller's transaction ends."""
    return list(model.objects.devices_for_user(user, confirmed=True).select_for_update())


def lock_tokens(tokens) -> list[tuple[int, str]]:
    """(user id, key hash) of each bearer token of the queryset `tokens`, locked until the caller's
    transaction ends."""
    return list(tokens.select_for_update().values_list("user_id", "key_hash"))
