"""services.credit and services.reserve_withdrawal: deposits and bonus grants against a named
system account (a payment provider's clearing account, the bonus pool), and a withdrawal's
reservation (cash to the player's pending-withdrawal account). What happens to the reservation
next, refunds and chargebacks: test_withdrawals_and_reversals.py."""

import pytest

from apps.accounts.choices import KycStatus
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player
from apps.wallet import services
from apps.wallet.choices import TransactionKind
from apps.wallet.errors import CurrencyMismatch, DuplicateTransaction, InsufficientFunds, UnknownPlayer
from apps.wallet.models import Account, Transaction
from apps.wallet.services import Posted
from apps.wallet.tests.factories import (
    a_ref,
    entries_of,
    funded_player,
    grant_bonus,
    ledger_rows,
    system_balance,
    wallet,
)

pytestmark = pytest.mark.django_db
CLEARING = "clearing:testpay"


def deposit(player, amount, ref=None, currency="EUR"):
    return services.credit(
        player_id=player.pk,
        currency=currency,
        amount=amount,
        kind=TransactionKind.DEPOSIT,
        ref=ref or a_ref("payment:testpay"),
        counter=CLEARING,
    )


def withdraw(player, amount, ref=None, currency="EUR"):
    """A withdrawal by a verified player (an unverified one is refused: compliance's KYC gate)."""
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)
    return services.reserve_withdrawal(
        player_id=player.pk, currency=currency, amount=amount, ref=ref or a_ref("payment:testpay")
    )


# --- credit --------------------------------------------------------------------------------------


def test_deposit_credits_cash_from_the_clearing_account(django_capture_on_commit_callbacks, posted):
    # given a player who never had money (no accounts yet)
    player = make_player()
    ref = a_ref("payment:testpay")
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = deposit(player, 5000, ref=ref)
    # then
    tx = Transaction.objects.get()
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=5000, version=1, replayed=False)
    assert (tx.kind, tx.amount, tx.origin, tx.external_id, tx.fingerprint) == (
        "deposit",
        5000,
        "payment:testpay",
        ref.external_id,
        ref.fingerprint,
    )
    assert (tx.balance_after, tx.wallet_version, tx.round_id, tx.game_id, tx.reason) == (5000, 1, "", "", "")
    assert wallet(player) == (5000, 0, 1)
    assert entries_of(tx.pk) == [("cash", 5000, 5000, 1), (CLEARING, -5000, None, None)]
    clearing = Account.objects.get(code=CLEARING, currency="EUR")
    assert (clearing.kind, clearing.player, clearing.balance) == ("clearing", None, 0)
    assert system_balance(CLEARING) == -5000
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "deposit",
            "amount": 5000,
            "version": 1,
            "balance": 5000,
            "cash": 5000,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_bonus_credit_goes_to_the_bonus_account_from_the_bonus_pool(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)

    with django_capture_on_commit_callbacks(execute=True):
        answer = grant_bonus(player, 500)

    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (answer.balance, answer.version) == (1500, 2)
    assert (tx.kind, tx.amount) == ("bonus", 500)
    assert wallet(player) == (1000, 500, 2)
    assert entries_of(tx.pk) == [("bonus", 500, 500, 1), ("bonus_pool", -500, None, None)]
    assert Account.objects.get(code="bonus_pool", currency="EUR").kind == "bonus_pool"
    assert Account.objects.get(player=player, kind="cash").balance == 1000
    assert [(event["kind"], event["cash"], event["bonus"], event["version"]) for event in posted] == [
        ("bonus", 1000, 500, 2)
    ]


def test_credit_replay_returns_the_first_answer_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = make_player()
    ref = a_ref("payment:testpay")
    first = deposit(player, 5000, ref=ref)
    deposit(player, 100)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = deposit(player, 5000, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=5000, version=1, replayed=True)
    assert ledger_rows() == before
    assert wallet(player) == (5100, 0, 2)
    assert callbacks == []
    assert posted == []


def test_credit_with_a_used_id_and_another_body_is_a_duplicate(django_capture_on_commit_callbacks, posted):
    player = make_player()
    ref = a_ref("payment:testpay")
    deposit(player, 5000, ref=ref)
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateTransaction) as refused,
    ):
        deposit(player, 6000, ref=a_ref("payment:testpay", external_id=ref.external_id, body={"amount": 6000}))

    assert refused.value.extra == {"balance": 5000, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_credit_in_another_currency_is_refused_and_opens_no_account():
    player = make_player()

    with pytest.raises(CurrencyMismatch) as refused:
        deposit(player, 5000, currency="USD")

    assert refused.value.extra == {"balance": 0, "currency": "EUR"}
    assert Account.objects.exists() is False
    assert Transaction.objects.exists() is False


def test_credit_to_an_unknown_player_is_refused():
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000

    with pytest.raises(UnknownPlayer):
        services.credit(
            player_id=missing, currency="EUR", amount=1, kind=TransactionKind.DEPOSIT, ref=a_ref(), counter=CLEARING
        )

    assert Account.objects.exists() is False
    assert Transaction.objects.exists() is False


@pytest.mark.parametrize("amount", [0, -5])
def test_credit_of_no_positive_amount_is_a_programming_error(amount):
    player = make_player()

    with pytest.raises(ValueError, match="positive"):
        deposit(player, amount)

    assert Transaction.objects.exists() is False


# --- withdrawal (the reservation) -------------------------------------------------------------


def test_withdrawal_moves_cash_to_the_pending_withdrawal_account(django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(5000)
    ref = a_ref("payment:testpay")
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = withdraw(player, 2000, ref=ref)
    # then
    tx = Transaction.objects.get(external_id=ref.external_id)
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=3000, version=2, replayed=False)
    assert (tx.kind, tx.amount, tx.origin, tx.balance_after, tx.wallet_version) == (
        "withdrawal",
        -2000,
        "payment:testpay",
        3000,
        2,
    )
    assert wallet(player) == (3000, 0, 2)
    assert entries_of(tx.pk) == [("cash", -2000, 3000, 2), ("pending_withdrawal", 2000, 2000, 1)]
    assert system_balance(CLEARING) == 0  # nothing has left the player yet
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "withdrawal",
            "amount": -2000,
            "version": 2,
            "balance": 3000,
            "cash": 3000,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_withdrawal_of_the_whole_cash_leaves_zero():
    player = funded_player(5000)

    answer = withdraw(player, 5000)

    assert (answer.balance, answer.version) == (0, 2)


def test_withdrawal_beyond_the_cash_is_refused_even_with_bonus(django_capture_on_commit_callbacks, posted):
    # given 1000 cash and 500 bonus: bonus money can't be withdrawn
    player = funded_player(1000)
    grant_bonus(player, 500)
    before = ledger_rows()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InsufficientFunds) as refused:
        withdraw(player, 1001)
    # then
    assert refused.value.extra == {"balance": 1500, "currency": "EUR"}
    assert ledger_rows() == before
    assert Transaction.objects.count() == 2
    assert wallet(player) == (1000, 500, 2)
    assert callbacks == []
    assert posted == []


def test_withdrawal_replay_returns_the_first_answer_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(5000)
    ref = a_ref("payment:testpay")
    first = withdraw(player, 2000, ref=ref)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = withdraw(player, 2000, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=3000, version=2, replayed=True)
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_withdrawal_with_a_used_id_and_another_body_is_a_duplicate():
    player = funded_player(5000)
    ref = a_ref("payment:testpay")
    withdraw(player, 2000, ref=ref)
    before = ledger_rows()

    with pytest.raises(DuplicateTransaction) as refused:
        withdraw(player, 2500, ref=a_ref("payment:testpay", external_id=ref.external_id, body={"amount": 2500}))

    assert refused.value.extra == {"balance": 3000, "currency": "EUR"}
    assert ledger_rows() == before


def test_withdrawal_in_another_currency_is_refused():
    player = funded_player(5000)
    before = ledger_rows()

    with pytest.raises(CurrencyMismatch) as refused:
        withdraw(player, 100, currency="USD")

    assert refused.value.extra == {"balance": 5000, "currency": "EUR"}
    assert ledger_rows() == before


def test_withdrawal_of_an_unknown_player_is_refused():
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = ledger_rows()

    with pytest.raises(UnknownPlayer):
        services.reserve_withdrawal(player_id=missing, currency="EUR", amount=1, ref=a_ref())

    assert ledger_rows() == before


@pytest.mark.parametrize("amount", [0, -5])
def test_withdrawal_of_no_positive_amount_is_a_programming_error(amount):
    player = funded_player(5000)

    with pytest.raises(ValueError, match="positive"):
        withdraw(player, amount)

    assert Transaction.objects.count() == 1


def test_a_wallet_in_another_currency_uses_that_currencys_system_accounts():
    player = make_player(currency="USD")

    answer = deposit(player, 700, currency="USD")

    assert (answer.currency, answer.balance) == ("USD", 700)
    assert system_balance(CLEARING, "USD") == -700
    assert system_balance(CLEARING, "EUR") == 0
    assert Account.objects.get(player=player, kind="cash").currency_id == "USD"
