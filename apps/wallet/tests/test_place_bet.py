"""services.place_bet: a stake debited cash first, then bonus, against the house; every refusal
moves nothing and sends nothing."""

import pytest
from django.db import OperationalError

from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player
from apps.compliance.errors import PlayerBlocked
from apps.wallet import services
from apps.wallet.errors import (
    CurrencyMismatch,
    DuplicateTransaction,
    InsufficientFunds,
    TransactionRolledBack,
    UnknownPlayer,
)
from apps.wallet.models import Account, Transaction
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
)

pytestmark = pytest.mark.django_db


def test_bet_debits_cash_and_credits_the_house(django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(1000)
    ref = a_ref()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = services.place_bet(
            player_id=player.pk, currency="EUR", amount=700, ref=ref, round_id="round-7", game_id="slot-9"
        )
    # then
    tx = Transaction.objects.get(origin=ORIGIN, external_id=ref.external_id)
    assert answer == Posted(
        transaction_id=str(tx.pk), player_id=str(player.pk), currency="EUR", balance=300, version=2, replayed=False
    )
    assert wallet(player) == (300, 0, 2)
    assert (tx.kind, tx.player_id, tx.currency_id, tx.amount) == ("bet", player.pk, "EUR", -700)
    assert (tx.fingerprint, tx.round_id, tx.game_id) == (ref.fingerprint, "round-7", "slot-9")
    assert (tx.balance_after, tx.wallet_version) == (300, 2)
    assert (tx.reverses, tx.reverses_external_id, tx.reason, tx.acting_user) == (None, "", "", None)
    assert entries_of(tx.pk) == [("cash", -700, 300, 2), ("house", 700, None, None)]
    assert system_balance("house") == 700
    assert Account.objects.get(code="house", currency="EUR").balance == 0  # derived, never stored
    assert Account.objects.get(player=player, kind="bonus").version == 0
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "bet",
            "amount": -700,
            "version": 2,
            "balance": 300,
            "cash": 300,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "slot-9",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_bet_of_the_whole_balance_leaves_zero():
    player = funded_player(1000)

    answer = bet(player, 1000)

    assert (answer.balance, answer.version) == (0, 2)
    assert wallet(player) == (0, 0, 2)


def test_bet_spends_cash_first_then_bonus(posted, django_capture_on_commit_callbacks):
    # given 300 cash (version 1) and 500 bonus (version 2)
    player = funded_player(300)
    grant_bonus(player, 500)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer = bet(player, 400)
    # then the cash is used up and the rest comes from the bonus
    assert (answer.balance, answer.version) == (400, 3)
    assert wallet(player) == (0, 400, 3)
    assert entries_of(answer.transaction_id) == [
        ("cash", -300, 0, 3),
        ("bonus", -100, 400, 2),
        ("house", 400, None, None),
    ]
    assert Transaction.objects.get(pk=answer.transaction_id).amount == -400
    assert Account.objects.get(player=player, kind="bonus").version == 2
    assert [(event["kind"], event["cash"], event["bonus"], event["balance"]) for event in posted] == [
        ("bet", 0, 400, 400)
    ]


def test_bet_within_the_cash_leaves_the_bonus_untouched():
    player = funded_player(300)
    grant_bonus(player, 500)

    answer = bet(player, 300)

    assert wallet(player) == (0, 500, 3)
    assert entries_of(answer.transaction_id) == [("cash", -300, 0, 3), ("house", 300, None, None)]
    assert Account.objects.get(player=player, kind="bonus").version == 1


def test_bet_paid_only_from_bonus_still_moves_the_wallet_version():
    player = make_player()
    grant_bonus(player, 500)

    answer = bet(player, 200)

    assert wallet(player) == (0, 300, 2)
    assert entries_of(answer.transaction_id) == [("bonus", -200, 300, 2), ("house", 200, None, None)]


def test_bet_over_the_playable_balance_is_refused_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    # given 500 cash and 100 bonus
    player = funded_player(500)
    grant_bonus(player, 100)
    before = ledger_rows()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InsufficientFunds) as refused:
        bet(player, 601)
    # then
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert refused.value.extra == {"balance": 600, "currency": "EUR"}
    assert Transaction.objects.count() == 2
    assert ledger_rows() == before
    assert wallet(player) == (500, 100, 2)
    assert callbacks == []
    assert posted == []


def test_first_bet_of_a_player_without_money_is_refused_and_opens_no_account(django_capture_on_commit_callbacks):
    player = make_player()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InsufficientFunds) as refused:
        bet(player, 1)

    assert refused.value.extra == {"balance": 0, "currency": "EUR"}
    assert Account.objects.filter(player=player).exists() is False
    assert Transaction.objects.exists() is False
    assert callbacks == []


def test_bet_in_another_currency_is_refused(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(CurrencyMismatch) as refused:
        services.place_bet(player_id=player.pk, currency="USD", amount=10, ref=a_ref(), round_id="r", game_id="g")

    assert refused.value.code == "CURRENCY_MISMATCH"
    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_bet_for_an_unknown_player_is_refused(django_capture_on_commit_callbacks):
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(UnknownPlayer) as refused:
        services.place_bet(player_id=missing, currency="EUR", amount=10, ref=a_ref(), round_id="r", game_id="g")

    assert refused.value.code == "UNKNOWN_PLAYER"
    assert refused.value.extra == {}
    assert ledger_rows() == before
    assert callbacks == []


@pytest.mark.parametrize("status", [PlayerStatus.LOCKED, PlayerStatus.FROZEN, PlayerStatus.CLOSED])
def test_bet_of_a_blocked_player_is_refused_and_moves_nothing(status, django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(1000)
    Player.objects.filter(pk=player.pk).update(status=status)
    before = ledger_rows()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(PlayerBlocked) as refused:
        bet(player, 10)
    # then
    assert refused.value.code == "PLAYER_BLOCKED"
    assert refused.value.message == f"The player's account is {status.value}."
    assert ledger_rows() == before
    assert wallet(player) == (1000, 0, 1)
    assert callbacks == []
    assert posted == []


def test_refusal_of_a_blocked_player_carries_the_balance_and_currency():
    """The contract: an error answer carries `balance` and `currency` wherever the player is known."""
    player = funded_player(1000)
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.FROZEN)

    with pytest.raises(PlayerBlocked) as refused:
        bet(player, 10)

    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}


def test_blocked_player_is_refused_before_the_balance_is_checked():
    player = funded_player(10)
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.LOCKED)

    with pytest.raises(PlayerBlocked):
        bet(player, 11)


def test_replay_returns_the_first_answer_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    # given a bet, then another bet
    player = funded_player(1000)
    ref = a_ref()
    first = bet(player, 300, ref=ref)
    bet(player, 200)
    before = ledger_rows()
    # when the first is sent again
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = bet(player, 300, ref=ref)
    # then it gets the first answer, flagged as a replay, and nothing moves
    assert again == Posted(
        transaction_id=first.transaction_id,
        player_id=str(player.pk),
        currency="EUR",
        balance=700,
        version=2,
        replayed=True,
    )
    assert first.replayed is False
    assert ledger_rows() == before
    assert wallet(player) == (500, 0, 3)
    assert callbacks == []
    assert posted == []


def test_same_id_with_another_body_is_a_duplicate_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    ref = a_ref()
    bet(player, 300, ref=ref)
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateTransaction) as refused,
    ):
        bet(player, 400, ref=a_ref(external_id=ref.external_id, body={"amount": 400}))

    assert refused.value.code == "DUPLICATE_TRANSACTION"
    assert refused.value.extra == {"balance": 700, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_same_id_and_body_for_another_player_is_a_duplicate():
    first, other = funded_player(1000), funded_player(1000)
    ref = a_ref()
    bet(first, 300, ref=ref)

    with pytest.raises(DuplicateTransaction) as refused:
        bet(other, 300, ref=ref)

    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert wallet(other) == (1000, 0, 1)
    assert Transaction.objects.filter(external_id=ref.external_id).count() == 1


def test_same_id_from_another_origin_is_another_bet():
    player = funded_player(1000)
    ref = a_ref("provider:one")
    bet(player, 300, ref=ref)

    answer = bet(player, 300, ref=a_ref("provider:two", external_id=ref.external_id))

    assert (answer.balance, answer.version, answer.replayed) == (400, 3, False)
    assert Transaction.objects.filter(external_id=ref.external_id).count() == 2


def test_bet_named_by_an_earlier_rollback_is_refused_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    # given a rollback that arrived before its bet
    player = funded_player(1000)
    ref = a_ref()
    rollback(player, ref.external_id)
    before = ledger_rows()
    # when the bet arrives
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(TransactionRolledBack) as refused,
    ):
        bet(player, 300, ref=ref)
    # then
    assert refused.value.code == "TRANSACTION_ROLLED_BACK"
    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before
    assert wallet(player) == (1000, 0, 1)
    assert Transaction.objects.filter(kind="bet").exists() is False
    assert callbacks == []
    assert posted == []


def test_replay_of_a_bet_rolled_back_since_is_still_a_replay():
    player = funded_player(1000)
    ref = a_ref()
    first = bet(player, 300, ref=ref)
    rollback(player, ref.external_id)
    before = ledger_rows()

    again = bet(player, 300, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=700, version=2, replayed=True)
    assert ledger_rows() == before
    assert wallet(player) == (1000, 0, 3)


@pytest.mark.parametrize("amount", [0, -1])
def test_bet_of_no_positive_amount_is_a_programming_error(amount):
    player = funded_player(1000)

    with pytest.raises(ValueError, match="positive"):
        bet(player, amount)

    assert Transaction.objects.count() == 1


def test_replay_of_a_bet_after_the_player_was_blocked_is_still_a_replay():
    player = funded_player(1000)
    ref = a_ref()
    first = bet(player, 300, ref=ref)
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.FROZEN)

    again = bet(player, 300, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=700, version=2, replayed=True)
    assert wallet(player) == (700, 0, 2)


def test_a_refused_bet_is_judged_afresh_when_sent_again():
    # given a bet refused for want of money
    player = funded_player(100)
    ref = a_ref()
    with pytest.raises(InsufficientFunds):
        bet(player, 300, ref=ref)
    # when the player tops up and the provider sends the same call again
    services.adjust_balance(player_id=player.pk, amount=500, reason="top-up", acting_user=None)
    answer = bet(player, 300, ref=ref)
    # then it is accepted: the refusal recorded nothing
    assert (answer.balance, answer.version, answer.replayed) == (300, 3, False)
    assert Transaction.objects.filter(external_id=ref.external_id).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bet_that_failed_while_creating_the_house_account_does_not_break_later_bets(monkeypatch):
    """The first bet in a currency creates the house account inside its money transaction. If that
    transaction then fails (here: the ledger write loses its connection) the account is rolled
    back with it, and later bets must not post to the id of a row that never committed."""
    player = funded_player(1000)

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patched:
        patched.setattr(services, "_write", connection_lost)
        with pytest.raises(OperationalError):
            bet(player, 100)
    assert Account.objects.filter(code="house").exists() is False

    answer = bet(player, 100)

    assert (answer.balance, answer.version) == (900, 2)
    assert system_balance("house") == 100
