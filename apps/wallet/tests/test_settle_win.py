"""services.settle_win: a win credited from the house, to cash and bonus in the proportion the
round's standing bets were paid; owed even to a blocked player; a zero win is recorded but moves
nothing."""

import pytest

from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player
from apps.wallet import services
from apps.wallet.errors import CurrencyMismatch, DuplicateTransaction, TransactionRolledBack, UnknownPlayer
from apps.wallet.models import Entry, Transaction
from apps.wallet.services import Posted
from apps.wallet.tests.factories import (
    ORIGIN,
    a_ref,
    bet,
    entries_of,
    funded_player,
    grant_bonus,
    ledger_rows,
    rollback,
    system_balance,
    wallet,
    win,
)

pytestmark = pytest.mark.django_db


def test_win_credits_cash_and_debits_the_house(django_capture_on_commit_callbacks, posted):
    # given a bet of 300 in round-7
    player = funded_player(1000)
    bet(player, 300, round_id="round-7")
    ref = a_ref()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = services.settle_win(
            player_id=player.pk, currency="EUR", amount=500, ref=ref, round_id="round-7", game_id="slot-9"
        )
    # then
    tx = Transaction.objects.get(origin=ORIGIN, external_id=ref.external_id)
    assert answer == Posted(
        transaction_id=str(tx.pk), player_id=str(player.pk), currency="EUR", balance=1200, version=3, replayed=False
    )
    assert wallet(player) == (1200, 0, 3)
    assert (tx.kind, tx.amount, tx.round_id, tx.game_id, tx.fingerprint) == (
        "win",
        500,
        "round-7",
        "slot-9",
        ref.fingerprint,
    )
    assert (tx.balance_after, tx.wallet_version, tx.reverses, tx.reverses_external_id) == (1200, 3, None, "")
    assert entries_of(tx.pk) == [("cash", 500, 1200, 3), ("house", -500, None, None)]
    assert system_balance("house") == -200
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "win",
            "amount": 500,
            "version": 3,
            "balance": 1200,
            "cash": 1200,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "slot-9",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_a_win_on_a_bet_paid_with_bonus_is_bonus_money():
    player = make_player()
    grant_bonus(player, 500)
    bet(player, 200)  # no cash: all of it from bonus

    answer = win(player, 1000)

    assert wallet(player) == (0, 1300, 3)
    assert entries_of(answer.transaction_id) == [("bonus", 1000, 1300, 3), ("house", -1000, None, None)]


def test_a_win_splits_between_cash_and_bonus_as_the_bet_was_paid():
    # given 30 of cash and 500 of bonus, and a bet of 100: 30 from cash, then 70 from bonus
    player = funded_player(30)
    grant_bonus(player, 500)
    bet(player, 100)
    assert wallet(player) == (0, 430, 3)

    # when the round wins 200: 30 % of it is cash, 70 % bonus
    answer = win(player, 200)

    assert wallet(player) == (60, 570, 4)
    assert entries_of(answer.transaction_id) == [
        ("cash", 60, 60, 4), ("bonus", 140, 570, 3), ("house", -200, None, None)]  # fmt: skip


def test_many_wins_in_one_batch_split_each_as_its_own_bet_was_paid():
    """`settle_wins` finds each round's bonus share on its own player's bonus account: a split
    bet, an all-bonus bet and a cash bet beside a bonus balance, settled together."""
    split, on_bonus, on_cash = funded_player(30), make_player(username="all-bonus"), funded_player(100)
    grant_bonus(split, 500)
    grant_bonus(on_bonus, 500)
    grant_bonus(on_cash, 500)
    bet(split, 100, round_id="r-split")  # 30 from cash, 70 from bonus
    bet(on_bonus, 200, round_id="r-bonus")  # all from bonus
    bet(on_cash, 100, round_id="r-cash")  # all from cash

    answers = services.settle_wins(currency="EUR", wins=[
        services.Win(player_id=split.pk, amount=200, ref=a_ref(), round_id="r-split"),
        services.Win(player_id=on_bonus.pk, amount=1000, ref=a_ref(), round_id="r-bonus"),
        services.Win(player_id=on_cash.pk, amount=300, ref=a_ref(), round_id="r-cash"),
    ])  # fmt: skip

    assert [wallet(player)[:2] for player in (split, on_bonus, on_cash)] == [(60, 570), (0, 1300), (300, 500)]
    assert entries_of(answers[0].transaction_id)[:2] == [("cash", 60, 60, 4), ("bonus", 140, 570, 3)]


def test_the_odd_minor_unit_of_a_split_win_goes_to_cash():
    player = funded_player(1)
    grant_bonus(player, 2)
    bet(player, 3)  # 1 from cash, 2 from bonus

    win(player, 10)  # bonus 10 * 2 // 3 = 6, cash the other 4

    assert wallet(player)[:2] == (4, 6)


def test_a_rolled_back_bet_of_the_round_does_not_count_towards_the_split():
    player = funded_player(100)
    grant_bonus(player, 500)
    bet(player, 100, ref=a_ref(external_id="cash-bet"), round_id="round-5")  # all cash
    bonus_bet = a_ref(external_id="bonus-bet")
    bet(player, 50, ref=bonus_bet, round_id="round-5")  # all bonus
    rollback(player, bonus_bet.external_id, round_id="round-5")

    win(player, 300, round_id="round-5")

    assert wallet(player)[:2] == (300, 500)  # the standing bet was cash: so is the win


def test_a_win_without_a_bet_is_cash_even_for_a_player_with_bonus_money():
    player = make_player()
    grant_bonus(player, 500)

    win(player, 40, round_id="free-round")

    assert wallet(player)[:2] == (40, 500)


@pytest.mark.parametrize("status", [PlayerStatus.LOCKED, PlayerStatus.FROZEN, PlayerStatus.CLOSED])
def test_win_is_paid_to_a_blocked_player(status, django_capture_on_commit_callbacks, posted):
    # given a bet, then the player is blocked before the round ends
    player = funded_player(1000)
    bet(player, 300)
    Player.objects.filter(pk=player.pk).update(status=status)
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = win(player, 800)
    # then the money owed is paid
    assert (answer.balance, answer.version, answer.replayed) == (1500, 3, False)
    assert wallet(player) == (1500, 0, 3)
    assert len(callbacks) == 1
    assert [(event["kind"], event["amount"], event["balance"]) for event in posted] == [("win", 800, 1500)]


def test_win_without_a_bet_is_paid():
    """A provider's free round: a win in a round with no bet."""
    player = funded_player(1000)

    answer = win(player, 250, round_id="free-round")

    assert (answer.balance, answer.version) == (1250, 2)


def test_zero_win_is_recorded_but_moves_nothing(django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(1000)
    bet(player, 300)
    entries_before = Entry.objects.count()
    ref = a_ref()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = win(player, 0, ref=ref)
    # then its id is taken, with the current balance and an unchanged version
    tx = Transaction.objects.get(origin=ORIGIN, external_id=ref.external_id)
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=700, version=2, replayed=False)
    assert (tx.kind, tx.amount, tx.balance_after, tx.wallet_version) == ("win", 0, 700, 2)
    assert entries_of(tx.pk) == []
    assert Entry.objects.count() == entries_before
    assert wallet(player) == (700, 0, 2)
    assert callbacks == []
    assert posted == []


def test_zero_win_id_is_taken():
    player = funded_player(1000)
    ref = a_ref()
    first = win(player, 0, ref=ref)

    again = win(player, 0, ref=ref)
    with pytest.raises(DuplicateTransaction):
        win(player, 50, ref=a_ref(external_id=ref.external_id, body={"amount": 50}))

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=1000, version=1, replayed=True)
    assert wallet(player) == (1000, 0, 1)


def test_replay_returns_the_first_answer_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    ref = a_ref()
    first = win(player, 500, ref=ref)
    bet(player, 100)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = win(player, 500, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=1500, version=2, replayed=True)
    assert ledger_rows() == before
    assert wallet(player) == (1400, 0, 3)
    assert callbacks == []
    assert posted == []


def test_same_id_with_another_body_is_a_duplicate_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    ref = a_ref()
    win(player, 500, ref=ref)
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateTransaction) as refused,
    ):
        win(player, 5000, ref=a_ref(external_id=ref.external_id, body={"amount": 5000}))

    assert refused.value.extra == {"balance": 1500, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_win_in_a_round_whose_bets_were_all_rolled_back_is_refused(django_capture_on_commit_callbacks, posted):
    # given two bets of round-7, both rolled back
    player = funded_player(1000)
    first, second = a_ref(), a_ref()
    bet(player, 100, ref=first, round_id="round-7")
    bet(player, 200, ref=second, round_id="round-7")
    rollback(player, first.external_id, round_id="round-7")
    rollback(player, second.external_id, round_id="round-7")
    before = ledger_rows()
    # when
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(TransactionRolledBack) as refused,
    ):
        win(player, 500, round_id="round-7")
    # then
    assert refused.value.code == "TRANSACTION_ROLLED_BACK"
    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before
    assert Transaction.objects.filter(kind="win").exists() is False
    assert callbacks == []
    assert posted == []


def test_win_in_a_round_with_one_bet_standing_is_paid():
    player = funded_player(1000)
    first = a_ref()
    bet(player, 100, ref=first, round_id="round-7")
    bet(player, 200, round_id="round-7")
    rollback(player, first.external_id, round_id="round-7")

    answer = win(player, 500, round_id="round-7")

    assert (answer.balance, answer.version) == (1300, 5)


def test_win_in_a_round_whose_only_bet_was_rolled_back_before_it_arrived_is_refused():
    player = funded_player(1000)
    rollback(player, "never-seen-bet", round_id="round-7")

    with pytest.raises(TransactionRolledBack):
        win(player, 500, round_id="round-7")

    assert wallet(player) == (1000, 0, 1)


def test_win_in_another_currency_is_refused():
    player = funded_player(1000)
    before = ledger_rows()

    with pytest.raises(CurrencyMismatch) as refused:
        services.settle_win(player_id=player.pk, currency="GBP", amount=10, ref=a_ref(), round_id="r", game_id="g")

    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before


def test_win_for_an_unknown_player_is_refused():
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = ledger_rows()

    with pytest.raises(UnknownPlayer):
        services.settle_win(player_id=missing, currency="EUR", amount=10, ref=a_ref(), round_id="r", game_id="g")

    assert ledger_rows() == before


def test_negative_win_is_a_programming_error():
    player = funded_player(1000)

    with pytest.raises(ValueError, match="non-negative"):
        win(player, -1)

    assert Transaction.objects.count() == 1
