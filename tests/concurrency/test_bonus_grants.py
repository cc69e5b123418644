"""Bonuses under real concurrency: real threads, each with its own PostgreSQL connection, released
together by a barrier. Two triggers of one one-per-player campaign for one player grant once; two
players racing for the last of a campaign's budget: one of them gets it; eight threads betting for
one player keep the wagering progress exact."""

from __future__ import annotations

import pytest

from apps.bonuses import services
from apps.bonuses.errors import GrantRefused
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign
from apps.common.idempotency import ExternalRef, fingerprint
from apps.games import services as games
from apps.payments.tests.factories import account_balance, assert_audit_clean, verified_player
from apps.wallet import services as wallet
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


# --- wagering under concurrency --------------------------------------------------------------------

WAGERING = {"kind": "fixed", "amount": 200_000, "trigger": "staff_grant", "requires_opt_in": False,
            "wagering_multiple": 10, "default_weight_percent": 100, "max_stake": 1_000}  # fmt: skip


def stakes(player, thread: int, count: int, amount: int, game: str):
    """One thread's `count` bets of `amount` on `game`, each in a round of its own."""

    def run() -> int:
        for n in range(count):
            ref = ExternalRef("provider:race-games", f"bet-{thread}-{n}", fingerprint("bet", {"amount": amount}))
            wallet.place_bet(player_id=player.pk, currency="EUR", amount=amount, ref=ref, round_id=f"r-{thread}-{n}",
                             game_id=game)  # fmt: skip
        return count

    return run


def test_eight_threads_betting_for_one_player_keep_the_wagering_progress_exact():
    # A bonus of 2,000.00 to wager 10 x; the player has no cash, so every stake is bonus money.
    player = verified_player()
    studio = games.save_provider(code="race-games", secret="race-secret")
    games.save_game(provider=studio, code="race-table", name="Race table", game_type="table")
    wagered = campaign("WAGER", weights=[services.Weight(game_type="table", percent=10)], **WAGERING)
    bonus = services.grant(player, wagered, trigger_ref="race")

    # Eight threads, 25 bets each: four on a slot (counted 100 %), four on a table game (10 %).
    results = race(*(stakes(player, t, 25, 999, "race-slot" if t % 2 else "race-table") for t in range(8)))

    assert results == [25] * 8
    bonus.refresh_from_db()
    assert bonus.wagering_done == 4 * 25 * 999 + 4 * 25 * (999 * 10 // 100)
    assert account_balance(player, AccountKind.BONUS) == 200_000 - 8 * 25 * 999
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BET).count() == 200
    assert_audit_clean()
