"""Bonus grants under real concurrency: real threads, each with its own PostgreSQL connection,
released together by a barrier. Two triggers of one one-per-player campaign for one player grant
once; two players racing for the last of a campaign's budget: one of them gets it."""

from __future__ import annotations

import pytest

from apps.bonuses import services
from apps.bonuses.errors import GrantRefused
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign
from apps.payments.tests.factories import account_balance, assert_audit_clean, verified_player
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Transaction
from tests.concurrency.test_payments import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FIXED = {"kind": "fixed", "amount": 2_500, "trigger": "staff_grant", "requires_opt_in": False}


def test_two_triggers_racing_grant_a_one_per_player_campaign_once():
    player = verified_player()
    once = campaign("ONCE", one_per_player=True, **FIXED)

    results = race(
        lambda: services.grant(player, once, trigger_ref="first"),
        lambda: services.grant(player, once, trigger_ref="second"),
    )

    granted = [r for r in results if isinstance(r, Bonus)]
    refused = [r for r in results if isinstance(r, GrantRefused)]
    assert (len(granted), [r.reason for r in refused]) == (1, [GrantRefused.ALREADY_GRANTED])
    assert Bonus.objects.filter(player=player).count() == 1
    assert account_balance(player, AccountKind.BONUS) == 2_500
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BONUS).count() == 1
    assert_audit_clean()


def test_two_players_racing_for_the_last_of_the_budget_one_gets_it():
    first, second = verified_player(), verified_player()
    budget = campaign("BUDGET", one_per_player=True, budget=2_500, **FIXED)

    results = race(
        lambda: services.grant(first, budget, trigger_ref="a"),
        lambda: services.grant(second, budget, trigger_ref="b"),
    )

    assert sorted(type(r).__name__ for r in results) == ["Bonus", "GrantRefused"]
    assert [r.reason for r in results if isinstance(r, GrantRefused)] == [GrantRefused.BUDGET_EXHAUSTED]
    assert account_balance(first, AccountKind.BONUS) + account_balance(second, AccountKind.BONUS) == 2_500
    assert_audit_clean()
