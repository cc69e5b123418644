"""What follows a withdrawal's reservation (its payout, or the money back), and a deposit taken
back by the payment provider (a refund or a chargeback), as the ledger records them.

Worked through with a player who deposits 100.00 and then plays, so every entry is visible.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts.choices import KycStatus, PlayerStatus
from apps.accounts.models import Player
from apps.compliance.errors import PlayerBlocked
from apps.wallet import audit, services
from apps.wallet.choices import TransactionKind
from apps.wallet.errors import InsufficientFunds
from apps.wallet.models import Account, Transaction
from apps.wallet.services import Posted
from apps.wallet.tests.factories import a_ref, bet, entries_of, funded_player, ledger_rows, system_balance

pytestmark = pytest.mark.django_db
CLEARING = "clearing:testpay"


def verified(amount: int) -> Player:
    player = funded_player(amount)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED)
    return player


def deposit(player, amount, ref=None):
    return services.credit(player_id=player.pk, currency="EUR", amount=amount, kind=TransactionKind.DEPOSIT,
                           ref=ref or a_ref("payment:testpay"), counter=CLEARING)  # fmt: skip


def reserve(player, amount, ref=None):
    return services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=amount, ref=ref or a_ref())


def reverse(player, amount, kind, ref=None):
    return services.reverse_deposit(player_id=player.pk, currency="EUR", amount=amount, ref=ref or a_ref(),
                                    counter=CLEARING, kind=kind)  # fmt: skip


def balances(player) -> dict[str, int]:
    return dict(Account.objects.filter(player=player).values_list("kind", "balance"))


def assert_audit_clean():
    assert {name: found for name, found in audit.run_audit().items() if found} == {}


# --- the reservation's two endings ---------------------------------------------------------------


def test_a_paid_withdrawal_leaves_for_the_clearing_account_and_the_playable_balance_stays(
    posted, django_capture_on_commit_callbacks
):
    player = verified(10_000)
    reserve(player, 4_000)
    ref = a_ref("payment:testpay")

    with django_capture_on_commit_callbacks(execute=True):
        answer = services.pay_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=ref, counter=CLEARING)

    tx = Transaction.objects.get(external_id=ref.external_id)
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=6_000, version=3)
    assert (tx.kind, tx.amount) == ("withdrawal_paid", 0)  # the playable balance did not move
    assert entries_of(tx.pk) == [("pending_withdrawal", -4_000, 0, 2), (CLEARING, 4_000, None, None)]
    assert balances(player) == {"cash": 6_000, "bonus": 0, "pending_withdrawal": 0}
    assert system_balance(CLEARING) == 4_000
    assert [(event["kind"], event["amount"], event["version"]) for event in posted][-1] == ("withdrawal_paid", 0, 3)
    assert_audit_clean()


def test_a_returned_withdrawal_is_playable_again():
    player = verified(10_000)
    reserve(player, 4_000)

    answer = services.return_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=a_ref())

    assert (answer.balance, answer.version) == (10_000, 3)
    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (tx.kind, tx.amount) == ("withdrawal_returned", 4_000)
    assert balances(player) == {"cash": 10_000, "bonus": 0, "pending_withdrawal": 0}
    assert system_balance(CLEARING) == 0
    assert_audit_clean()


def test_reserved_money_cannot_be_bet():
    player = verified(10_000)
    reserve(player, 9_000)
    before = ledger_rows()

    with pytest.raises(InsufficientFunds) as refused:
        bet(player, 1_001)

    assert refused.value.extra == {"balance": 1_000, "currency": "EUR"}
    assert ledger_rows() == before
    assert bet(player, 1_000).balance == 0


@pytest.mark.parametrize("release", ["pay", "return"])
def test_releasing_more_than_is_pending_is_refused_and_moves_nothing(release):
    player = verified(10_000)
    reserve(player, 1_000)
    before = ledger_rows()

    if release == "pay":
        with pytest.raises(InsufficientFunds):
            services.pay_withdrawal(player_id=player.pk, currency="EUR", amount=1_001, ref=a_ref(), counter=CLEARING)
    else:
        with pytest.raises(InsufficientFunds):
            services.return_withdrawal(player_id=player.pk, currency="EUR", amount=1_001, ref=a_ref())

    assert ledger_rows() == before


def test_a_payout_replayed_moves_once():
    player = verified(10_000)
    reserve(player, 4_000)
    ref = a_ref("payment:testpay")
    first = services.pay_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=ref, counter=CLEARING)

    again = services.pay_withdrawal(player_id=player.pk, currency="EUR", amount=4_000, ref=ref, counter=CLEARING)

    assert again == Posted(**{**first.__dict__, "replayed": True})
    assert system_balance(CLEARING) == 4_000


def test_a_frozen_player_cannot_withdraw_but_a_locked_one_can():
    player = verified(10_000)
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.FROZEN)
    with pytest.raises(PlayerBlocked):
        reserve(player, 1_000)

    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.LOCKED)
    assert reserve(player, 1_000).balance == 9_000


# --- refunds and chargebacks ---------------------------------------------------------------------


def test_a_refund_the_cash_covers_takes_it_from_cash_and_records_no_debt():
    player = funded_player(0)
    deposit(player, 10_000)

    answer = reverse(player, 10_000, TransactionKind.REFUND)

    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (tx.kind, tx.amount, answer.balance) == ("refund", -10_000, 0)
    assert entries_of(tx.pk) == [("cash", -10_000, 0, 2), (CLEARING, 10_000, None, None)]
    assert "debt" not in balances(player)
    assert system_balance(CLEARING) == 0
    assert_audit_clean()


def test_a_refund_after_the_money_was_played_records_the_rest_as_debt_and_nothing_goes_negative():
    # given 100.00 deposited, 70.00 of it lost
    player = funded_player(0)
    deposit(player, 10_000)
    bet(player, 7_000)
    # when the PSP takes the 100.00 back
    answer = reverse(player, 10_000, TransactionKind.REFUND)
    # then the 30.00 left goes, and the player owes 70.00
    tx = Transaction.objects.get(pk=answer.transaction_id)
    assert (tx.amount, answer.balance, answer.version) == (-3_000, 0, 3)
    assert entries_of(tx.pk) == [("cash", -3_000, 0, 3), ("debt", -7_000, 7_000, 1), (CLEARING, 10_000, None, None)]
    assert balances(player) == {"cash": 0, "bonus": 0, "debt": 7_000}
    assert system_balance(CLEARING) == 0  # the PSP has its money back
    assert_audit_clean()


def test_a_chargeback_locks_the_account_in_its_own_transaction_then_bets_are_refused(
    django_capture_on_commit_callbacks,
):
    from apps.compliance.signals import account_locked

    player = funded_player(0)
    deposit(player, 10_000)
    told = []

    def receiver(sender, **payload):
        told.append((payload["player_id"], payload["message"]))

    account_locked.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            reverse(player, 4_000, TransactionKind.CHARGEBACK)
    finally:
        account_locked.disconnect(receiver)

    # the player's open sockets are told why, then closed (the real-time app's receiver)
    assert told == [(str(player.pk), "A deposit was charged back. Your account is locked: contact support.")]

    player.refresh_from_db()
    assert player.status == PlayerStatus.LOCKED
    assert balances(player)["cash"] == 6_000
    with pytest.raises(PlayerBlocked):
        bet(player, 100)
    assert_audit_clean()


def test_a_deposit_repays_the_debt_first_in_a_transaction_of_its_own(posted, django_capture_on_commit_callbacks):
    player = funded_player(0)
    deposit(player, 10_000)
    bet(player, 7_000)
    reverse(player, 10_000, TransactionKind.REFUND)  # owes 70.00

    with django_capture_on_commit_callbacks(execute=True):
        answer = deposit(player, 5_000)

    assert (answer.balance, answer.version) == (5_000, 4)  # the deposit's own answer
    repaid = Transaction.objects.get(player=player, kind=TransactionKind.DEBT_REPAID)
    assert (repaid.amount, repaid.wallet_version, repaid.balance_after) == (-5_000, 5, 0)
    assert entries_of(repaid.pk) == [("cash", -5_000, 0, 5), ("debt", 5_000, 2_000, 2)]
    assert balances(player) == {"cash": 0, "bonus": 0, "debt": 2_000}
    assert [event["kind"] for event in posted][-2:] == ["deposit", "debt_repaid"]
    # the next deposit repays the rest and keeps what is left
    deposit(player, 5_000)
    assert balances(player) == {"cash": 3_000, "bonus": 0, "debt": 0}
    assert_audit_clean()


def test_a_deposit_reversed_before_it_was_credited_is_both_in_one_call_as_two_calls_write_them(
    posted, django_capture_on_commit_callbacks
):
    """`credit_reversed_deposit` against `credit` then `reverse_deposit`, for two players who owe
    70.00 each: the same transactions, entries, balances and versions, each one posted."""

    def owing(player):
        deposit(player, 10_000)
        bet(player, 7_000)
        reverse(player, 10_000, TransactionKind.REFUND)

    def written(player) -> list[tuple]:
        rows = Transaction.objects.filter(player=player).order_by("wallet_version", "pk")
        return [(tx.kind, tx.amount, tx.balance_after, tx.wallet_version, entries_of(tx.pk)) for tx in rows]

    in_two, in_one = funded_player(0), funded_player(0)
    owing(in_two), owing(in_one)
    deposit(in_two, 5_000, ref=a_ref("payment:testpay"))
    reverse(in_two, 5_000, TransactionKind.CHARGEBACK, ref=a_ref("payment:testpay"))
    before = len(posted)

    with django_capture_on_commit_callbacks(execute=True):
        answer = services.credit_reversed_deposit(
            player_id=in_one.pk, currency="EUR", amount=5_000, ref=a_ref("payment:testpay"), counter=CLEARING,
            reversal_ref=a_ref("payment:testpay"), reversal_kind=TransactionKind.CHARGEBACK,
        )  # fmt: skip

    assert written(in_one) == written(in_two)
    assert [event["kind"] for event in posted[before:]] == ["deposit", "debt_repaid", "chargeback"]
    assert (answer.balance, answer.version, answer.replayed) == (5_000, 4, False)  # the credit's own answer
    assert balances(in_one) == {"cash": 0, "bonus": 0, "debt": 7_000}
    assert Player.objects.get(pk=in_one.pk).status == PlayerStatus.LOCKED
    assert_audit_clean()


def test_a_deposit_reversed_before_it_was_credited_replayed_moves_nothing():
    player = funded_player(0)
    call = {
        "player_id": player.pk, "currency": "EUR", "amount": 5_000, "ref": a_ref("payment:testpay"),
        "counter": CLEARING, "reversal_ref": a_ref("payment:testpay"),
        "reversal_kind": TransactionKind.REFUND,
    }  # fmt: skip
    first = services.credit_reversed_deposit(**call)
    before = ledger_rows()

    again = services.credit_reversed_deposit(**call)

    assert (again.transaction_id, again.replayed, ledger_rows()) == (first.transaction_id, True, before)
    assert_audit_clean()


@pytest.mark.parametrize("kind", ["debt", "pending_withdrawal"])
def test_the_database_refuses_a_negative_debt_or_pending_balance(kind):
    player = funded_player(0)
    deposit(player, 10_000)
    bet(player, 7_000)
    reverse(player, 10_000, TransactionKind.REFUND)
    Player.objects.filter(pk=player.pk).update(kyc_status=KycStatus.VERIFIED, status=PlayerStatus.ACTIVE)
    deposit(player, 9_000)
    reserve(player, 1_000)

    sql = "UPDATE wallet_account SET balance = -1 WHERE player_id = %s AND kind = %s"
    with (
        pytest.raises(IntegrityError, match="player_account_balance_not_negative"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [player.pk, kind])


def test_the_audit_reads_a_debt_account_by_its_sign_and_names_a_wrong_one():
    player = funded_player(0)
    deposit(player, 10_000)
    bet(player, 7_000)
    reverse(player, 10_000, TransactionKind.REFUND)
    assert audit.balances_not_sum_of_entries() == []

    Account.objects.filter(player=player, kind="debt").update(balance=6_999)

    debt = Account.objects.get(player=player, kind="debt")
    assert audit.balances_not_sum_of_entries() == [
        f"debt account {debt.pk} of player {player.pk}: stored balance 6999 but its entries sum to 7000"
    ]


# --- the caller's record, committed with the movement ----------------------------------------------


def test_commit_with_runs_in_the_movements_transaction_and_never_on_a_replay():
    player = verified(10_000)
    ref = a_ref()
    seen = []

    def record(tx):
        seen.append((tx.kind, tx.amount, connection.in_atomic_block))

    reserve_first = services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=1_000, ref=ref,
                                                commit_with=record)  # fmt: skip
    again = services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=1_000, ref=ref, commit_with=record)

    assert seen == [("withdrawal", -1_000, True)]
    assert (reserve_first.replayed, again.replayed) == (False, True)


def test_a_refusal_from_commit_with_rolls_the_movement_back_with_what_it_wrote():
    player = verified(10_000)
    before = ledger_rows()

    def refuse(tx):
        Player.objects.filter(pk=player.pk).update(country="SE")  # written, then rolled back
        raise InsufficientFunds("the caller's own refusal")

    with pytest.raises(InsufficientFunds) as refused:
        services.reserve_withdrawal(player_id=player.pk, currency="EUR", amount=1_000, ref=a_ref(), commit_with=refuse)

    assert refused.value.extra == {"balance": 10_000, "currency": "EUR"}
    assert ledger_rows() == before
    assert Player.objects.get(pk=player.pk).country != "SE"
