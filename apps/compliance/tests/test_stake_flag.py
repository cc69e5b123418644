"""`Player.needs_compliance_checks` is about stakes: a deposit limit alone leaves it unset, so a
player whom only deposit limits protect (every player, where the jurisdiction sets them at
registration) bets as a free player does, through the wallet's bet function, while the cashier
still refuses a deposit over the limit. And the data migration that narrowed the flag clears it
on exactly those players."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Player
from apps.compliance import services
from apps.compliance.errors import LimitReached
from apps.compliance.tests.factories import bet, deposit, fresh, funded_player, limit
from apps.wallet.tests.factories import bet_paths

pytestmark = pytest.mark.django_db

narrowing = importlib.import_module("apps.compliance.migrations.0017_stake_flag_without_deposit_limits")


def test_a_player_with_only_deposit_limits_bets_through_the_bet_function_and_deposits_within_them():
    bet(funded_player(10), 1)  # the house account exists
    player = funded_player(10_000)
    limit(player, "deposit", "24h", 5_000)
    limit(player, "deposit", "30d", 20_000)

    with CaptureQueriesContext(connection) as captured:
        bet(fresh(player), 100)

    assert fresh(player).needs_compliance_checks is False
    assert bet_paths(captured) == (True, False)
    # No read of the limits (the receivers after the commit have statements of their own).
    assert not any("compliance_limit" in query["sql"] for query in captured.captured_queries)
    deposit(fresh(player), 5_000)
    with pytest.raises(LimitReached):
        deposit(fresh(player), 1)


@pytest.mark.parametrize("kind", ["wager", "loss"])
def test_a_stake_limit_still_flags_the_player(kind):
    player = funded_player(10_000)
    limit(player, "deposit", "24h", 5_000)

    limit(player, kind, "24h", 1_000)

    assert fresh(player).needs_compliance_checks is True
    with pytest.raises(LimitReached):
        bet(fresh(player), 1_001)


def test_the_migration_clears_the_flag_set_by_deposit_limits_alone():
    deposits_only, staking, excluded, free = (funded_player(10_000) for _ in range(4))
    limit(deposits_only, "deposit", "24h", 5_000)
    limit(staking, "deposit", "24h", 5_000)
    limit(staking, "loss", "7d", 3_000)
    services.start_time_out(player=excluded, hours=24)
    # As the flag was before: set by any limit.
    Player.objects.filter(pk__in=[deposits_only.pk, staking.pk, excluded.pk]).update(needs_compliance_checks=True)

    with connection.cursor() as cursor:
        cursor.execute(narrowing.CLEAR)

    flags = dict(Player.objects.filter(pk__in=[p.pk for p in (deposits_only, staking, excluded, free)])
                 .values_list("pk", "needs_compliance_checks"))  # fmt: skip
    assert flags == {deposits_only.pk: False, staking.pk: True, excluded.pk: True, free.pk: False}
