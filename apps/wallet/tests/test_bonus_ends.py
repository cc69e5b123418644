"""The wallet's side of a bonus's end: `release_bonus` moves the player's bonus money to cash (a
conversion) or back to the bonus pool, as a transaction of its own kind; and a win or refund whose
share would be bonus money, arriving after the bonus ended, goes where the bonus's money went."""

import pytest

from apps.accounts.choices import BonusState
from apps.accounts.services import set_bonus_state
from apps.wallet import services
from apps.wallet.choices import BONUS_POOL, TransactionKind
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import (
    a_ref,
    bet,
    entries_of,
    funded_player,
    grant_bonus,
    rollback,
    system_balance,
    wallet,
    win,
)

pytestmark = pytest.mark.django_db


def release(player, kind, amount_of=lambda wallet: wallet.bonus.balance, ref=None):
    return services.release_bonus(
        player_id=player.pk, currency="EUR", kind=kind, ref=ref or a_ref(), amount_of=amount_of
    )


def test_a_conversion_moves_the_bonus_money_to_cash_and_keeps_the_balance():
    player = funded_player(100)
    grant_bonus(player, 400)

    answer = release(player, TransactionKind.BONUS_CONVERTED)

    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (tx.kind, tx.amount, tx.balance_after) == ("bonus_converted", 0, 500)
    assert wallet(player) == (500, 0, 3)
    assert entries_of(tx.pk) == [("bonus", -400, 0, 2), ("cash", 400, 500, 3)]


@pytest.mark.parametrize(
    "kind", [TransactionKind.BONUS_EXPIRED, TransactionKind.BONUS_FORFEITED, TransactionKind.BONUS_CANCELLED]
)
def test_the_other_ends_return_the_bonus_money_to_the_pool(kind):
    player = funded_player(100)
    grant_bonus(player, 400)
    pool_before = system_balance(BONUS_POOL)

    answer = release(player, kind)

    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (tx.kind, tx.amount, tx.balance_after) == (kind, -400, 100)
    assert wallet(player) == (100, 0, 3)
    assert system_balance(BONUS_POOL) == pool_before + 400


def test_an_end_with_nothing_left_is_recorded_and_moves_nothing():
    player = funded_player(100)
    ref = a_ref()

    answer = release(player, TransactionKind.BONUS_EXPIRED, ref=ref)

    assert Transaction.objects.get(pk=answer.transaction_id).kind == "bonus_expired"
    assert wallet(player) == (100, 0, 1)
    assert release(player, TransactionKind.BONUS_EXPIRED, ref=ref).replayed


def test_an_end_cannot_take_more_than_the_bonus_balance():
    player = funded_player(100)
    grant_bonus(player, 40)

    with pytest.raises(ValueError, match="at most the bonus balance"):
        release(player, TransactionKind.BONUS_EXPIRED, amount_of=lambda wallet: 41)
    assert wallet(player) == (100, 40, 2)


def test_only_the_bonus_end_kinds_end_a_bonus():
    player = funded_player(100)
    with pytest.raises(ValueError, match="does not end a bonus"):
        release(player, TransactionKind.ADJUSTMENT)


def test_a_late_win_share_after_a_conversion_is_cash():
    # given a bet paid from bonus, then the bonus converted (nothing left) with the round open
    player = funded_player(0)
    grant_bonus(player, 100)
    bet(player, 100)
    release(player, TransactionKind.BONUS_CONVERTED)
    set_bonus_state(player_id=player.pk, state=BonusState.CONVERTED)

    answer = win(player, 300)

    # grant, bet (the conversion found nothing left: no version), win
    assert wallet(player) == (300, 0, 3)
    assert entries_of(answer.transaction_id) == [("cash", 300, 300, 3), ("house", -300, None, None)]


def test_a_late_win_share_after_an_expiry_goes_back_to_the_pool():
    # given 50 cash and 100 bonus, a bet of 150 (50 cash, 100 bonus), then the bonus expired
    player = funded_player(50)
    grant_bonus(player, 100)
    bet(player, 150)
    release(player, TransactionKind.BONUS_EXPIRED)
    set_bonus_state(player_id=player.pk, state=BonusState.RETURNED)
    pool_before = system_balance(BONUS_POOL)

    answer = win(player, 300)  # a third of it is cash, two thirds were bonus money

    assert wallet(player) == (100, 0, 4)
    assert entries_of(answer.transaction_id) == [
        ("cash", 100, 100, 4), ("bonus_pool", 200, None, None), ("house", -300, None, None)]  # fmt: skip
    assert system_balance(BONUS_POOL) == pool_before + 200


def test_a_late_refund_after_a_forfeiture_returns_the_bonus_part_to_the_pool():
    player = funded_player(50)
    grant_bonus(player, 100)
    placed = a_ref()
    bet(player, 150, ref=placed)
    release(player, TransactionKind.BONUS_FORFEITED)
    set_bonus_state(player_id=player.pk, state=BonusState.RETURNED)
    pool_before = system_balance(BONUS_POOL)

    answer = rollback(player, placed.external_id)

    assert wallet(player) == (50, 0, 4)
    assert entries_of(answer.transaction_id) == [
        ("cash", 50, 50, 4), ("bonus_pool", 100, None, None), ("house", -150, None, None)]  # fmt: skip
    assert system_balance(BONUS_POOL) == pool_before + 100


def test_a_late_share_whose_whole_win_returns_to_the_pool_sends_no_frame(django_capture_on_commit_callbacks):
    player = funded_player(0)
    grant_bonus(player, 100)
    bet(player, 100)
    release(player, TransactionKind.BONUS_EXPIRED)
    set_bonus_state(player_id=player.pk, state=BonusState.RETURNED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = win(player, 300)

    assert wallet(player) == (0, 0, 2)  # grant, bet: the expiry and the win moved nothing of the player's
    assert answer.version == 2
    assert callbacks == []
