"""services.adjust_balance: an operator's signed correction of a player's cash, against the
adjustments account, with its reason and the staff member who made it."""

import re

import pytest

from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player, make_staff
from apps.wallet import services
from apps.wallet.errors import DuplicateTransaction, InsufficientFunds, UnknownPlayer
from apps.wallet.models import Account, Transaction
from apps.wallet.services import Posted
from apps.wallet.tests.factories import entries_of, funded_player, grant_bonus, ledger_rows, system_balance, wallet

pytestmark = pytest.mark.django_db


def test_adjustment_credits_cash_from_the_adjustments_account(django_capture_on_commit_callbacks, posted):
    # given
    player, finance = make_player(), make_staff(StaffRole.FINANCE)
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = services.adjust_balance(
            player_id=player.pk, amount=2500, reason="goodwill after outage", acting_user=finance
        )
    # then
    tx = Transaction.objects.get()
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=2500, version=1, replayed=False)
    assert wallet(player) == (2500, 0, 1)
    assert (tx.kind, tx.amount, tx.origin, tx.reason, tx.acting_user) == (
        "adjustment",
        2500,
        "operator",
        "goodwill after outage",
        finance,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", tx.external_id)
    assert (tx.round_id, tx.game_id, tx.reverses, tx.balance_after, tx.wallet_version) == ("", "", None, 2500, 1)
    assert entries_of(tx.pk) == [("cash", 2500, 2500, 1), ("adjustments", -2500, None, None)]
    assert Account.objects.get(code="adjustments", currency="EUR").kind == "adjustments"
    assert system_balance("adjustments") == -2500
    assert system_balance("house") == 0
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "adjustment",
            "amount": 2500,
            "version": 1,
            "balance": 2500,
            "cash": 2500,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_negative_adjustment_debits_cash_down_to_zero():
    player = funded_player(1000)

    answer = services.adjust_balance(player_id=player.pk, amount=-1000, reason="chargeback", acting_user=None)

    assert (answer.balance, answer.version) == (0, 2)
    assert wallet(player) == (0, 0, 2)
    assert entries_of(answer.transaction_id) == [("cash", -1000, 0, 2), ("adjustments", 1000, None, None)]
    assert system_balance("adjustments") == 0


def test_adjustment_below_zero_cash_is_refused_even_with_bonus(django_capture_on_commit_callbacks, posted):
    # given 100 cash and 500 bonus
    player = funded_player(100)
    grant_bonus(player, 500)
    before = ledger_rows()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InsufficientFunds) as refused:
        services.adjust_balance(player_id=player.pk, amount=-101, reason="chargeback", acting_user=None)
    # then
    assert refused.value.message == "The adjustment would make the cash balance negative."
    assert refused.value.extra == {"balance": 600, "currency": "EUR"}
    assert ledger_rows() == before
    assert Transaction.objects.count() == 2
    assert callbacks == []
    assert posted == []


def test_adjustment_of_a_blocked_player_is_allowed():
    player = make_player()
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.FROZEN)

    answer = services.adjust_balance(player_id=player.pk, amount=100, reason="refund", acting_user=None)

    assert (answer.balance, answer.version) == (100, 1)


def test_resubmitted_adjustment_moves_money_once(django_capture_on_commit_callbacks, posted):
    player = make_player()
    first = services.adjust_balance(
        player_id=player.pk, amount=700, reason="refund", acting_user=None, external_id="k1"
    )
    services.adjust_balance(player_id=player.pk, amount=50, reason="other", acting_user=None)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.adjust_balance(
            player_id=player.pk, amount=700, reason="refund", acting_user=None, external_id="k1"
        )

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=700, version=1, replayed=True)
    assert ledger_rows() == before
    assert wallet(player) == (750, 0, 2)
    assert callbacks == []
    assert posted == []


def test_adjustment_without_an_id_is_a_new_one_each_time():
    player = make_player()

    first = services.adjust_balance(player_id=player.pk, amount=700, reason="refund", acting_user=None)
    second = services.adjust_balance(player_id=player.pk, amount=700, reason="refund", acting_user=None)

    assert first.transaction_id != second.transaction_id
    assert wallet(player) == (1400, 0, 2)


def test_same_id_with_another_amount_is_a_duplicate_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = make_player()
    services.adjust_balance(player_id=player.pk, amount=700, reason="refund", acting_user=None, external_id="k1")
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateTransaction) as refused,
    ):
        services.adjust_balance(player_id=player.pk, amount=800, reason="refund", acting_user=None, external_id="k1")

    assert refused.value.extra == {"balance": 700, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_same_id_for_another_player_is_a_duplicate():
    first, other = make_player(), make_player()
    services.adjust_balance(player_id=first.pk, amount=700, reason="refund", acting_user=None, external_id="k1")

    with pytest.raises(DuplicateTransaction):
        services.adjust_balance(player_id=other.pk, amount=700, reason="refund", acting_user=None, external_id="k1")

    assert Transaction.objects.count() == 1
    assert Account.objects.filter(player=other).exists() is False


def test_adjustment_of_an_unknown_player_is_refused():
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = ledger_rows()

    with pytest.raises(UnknownPlayer):
        services.adjust_balance(player_id=missing, amount=100, reason="refund", acting_user=None)

    assert ledger_rows() == before


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [(100, "", "needs a reason"), (100, "   ", "needs a reason"), (0, "refund", "must not be 0")],
)
def test_adjustment_without_reason_or_amount_is_a_programming_error(amount, reason, message):
    player = make_player()

    with pytest.raises(ValueError, match=message):
        services.adjust_balance(player_id=player.pk, amount=amount, reason=reason, acting_user=None)

    assert Transaction.objects.exists() is False
    assert Account.objects.exists() is False
