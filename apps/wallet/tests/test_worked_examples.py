"""Worked examples of the books, step by step (in the manner of Hordak's tests): every account's
balance after each step, and the whole ledger summing to zero."""

import pytest
from django.db.models import Sum

from apps.accounts.tests.factories import make_player
from apps.wallet import services
from apps.wallet.audit import CHECKS, run_audit
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import a_ref, bet, grant_bonus, rollback, system_balance, wallet, win

pytestmark = pytest.mark.django_db


def books(player) -> dict[str, int]:
    """Every account's balance: the player's as stored; the system accounts' (house, TestPay's
    clearing account, bonus pool) as their entries sum."""
    cash, bonus, _ = wallet(player)
    return {
        "cash": cash,
        "bonus": bonus,
        "house": system_balance("house"),
        "clearing": system_balance("clearing:testpay"),
        "pool": system_balance("bonus_pool"),
    }


def test_a_deposit_three_bets_a_win_and_a_rollback():
    player = make_player()
    third = a_ref()

    # 1. The player deposits 50.00 through TestPay: the clearing account owes it.
    services.credit(
        player_id=player.pk,
        currency="EUR",
        amount=5000,
        kind=TransactionKind.DEPOSIT,
        ref=a_ref("payment:testpay"),
        counter="clearing:testpay",
    )
    assert books(player) == {"cash": 5000, "bonus": 0, "house": 0, "clearing": -5000, "pool": 0}
    # 2. A 10.00 bonus is granted from the bonus pool.
    grant_bonus(player, 1000)
    assert books(player) == {"cash": 5000, "bonus": 1000, "house": 0, "clearing": -5000, "pool": -1000}
    # 3. First bet, 20.00 in round r1: all from cash, to the house.
    bet(player, 2000, round_id="r1")
    assert books(player) == {"cash": 3000, "bonus": 1000, "house": 2000, "clearing": -5000, "pool": -1000}
    # 4. Second bet, 25.00 in round r2.
    bet(player, 2500, round_id="r2")
    assert books(player) == {"cash": 500, "bonus": 1000, "house": 4500, "clearing": -5000, "pool": -1000}
    # 5. Round r1 wins 60.00: the house pays it into cash.
    win(player, 6000, round_id="r1")
    assert books(player) == {"cash": 6500, "bonus": 1000, "house": -1500, "clearing": -5000, "pool": -1000}
    # 6. Third bet, 70.00 in round r3: 65.00 of cash, then 5.00 of bonus.
    bet(player, 7000, ref=third, round_id="r3")
    assert books(player) == {"cash": 0, "bonus": 500, "house": 5500, "clearing": -5000, "pool": -1000}
    # 7. The provider rolls the third bet back: 65.00 back to cash and 5.00 back to bonus.
    answer = rollback(player, third.external_id, round_id="r3")

    # Seven transactions moved money, so the wallet is at version 7 with 75.00 playable.
    assert (answer.balance, answer.version) == (7500, 7)
    assert wallet(player) == (6500, 1000, 7)
    # The house is 15.00 down (45.00 staked and kept, 60.00 paid out); the books sum to zero.
    assert books(player) == {"cash": 6500, "bonus": 1000, "house": -1500, "clearing": -5000, "pool": -1000}
    assert sum(books(player).values()) == 0
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 0
    assert set(Account.objects.filter(player__isnull=True).values_list("balance", flat=True)) == {0}
    assert list(Transaction.objects.order_by("pk").values_list("kind", "amount", "wallet_version")) == [
        ("deposit", 5000, 1),
        ("bonus", 1000, 2),
        ("bet", -2000, 3),
        ("bet", -2500, 4),
        ("win", 6000, 5),
        ("bet", -7000, 6),
        ("rollback", 7000, 7),
    ]
    assert Entry.objects.count() == 2 + 2 + 2 + 2 + 2 + 3 + 3
    assert run_audit() == {name: [] for name in CHECKS}
