"""The two player-protection fields of the player row, written through accounts' services (compliance
decides them; the wallet's lock query reads them with the row)."""

import datetime as dt

import pytest

from apps.accounts import selectors, services
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def stored(player) -> tuple[bool, dt.datetime | None]:
    return Player.objects.values_list("needs_compliance_checks", "reality_check_due_at").get(pk=player.pk)


def test_the_flag_is_set_and_cleared_for_that_player_only():
    player, other = make_player(), make_player()

    services.set_needs_compliance_checks(player_id=player.pk, needed=True)
    assert stored(player) == (True, None)
    services.set_needs_compliance_checks(player_id=player.pk, needed=True)
    assert stored(player) == (True, None)
    services.set_needs_compliance_checks(player_id=player.pk, needed=False)

    assert stored(player) == (False, None)
    assert stored(other) == (False, None)


def test_a_due_reality_check_moves_once_for_everyone_who_saw_the_same_due_time():
    player = make_player()
    services.set_reality_check_due(player_id=player.pk, due_at=NOON)

    first = services.move_reality_check_due(player_id=player.pk, seen=NOON, due_at=NOON + dt.timedelta(hours=1))
    second = services.move_reality_check_due(player_id=player.pk, seen=NOON, due_at=NOON + dt.timedelta(hours=2))

    assert (first, second) == (True, False)
    assert selectors.get_reality_check_due(player.pk) == NOON + dt.timedelta(hours=1)
