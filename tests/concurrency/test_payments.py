"""The cashier under real concurrency: real threads, each with its own PostgreSQL connection,
released together by a barrier.

Every event is applied exactly once whatever arrives together (two deliveries of one event, two
success events, a success racing a failure, a payout's success racing its failure), and two
withdrawals cannot both take the same cash. Every wait has a timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.accounts.choices import StaffRole
from apps.accounts.models import User
from apps.accounts.tests.factories import make_staff
from apps.compliance import services as compliance
from apps.payments import services
from apps.payments.choices import DepositStatus, EventType, WithdrawalStatus
from apps.payments.models import CashierRefusal, DepositIntent, Withdrawal
from apps.payments.tests.factories import (
    a_provider,
    account_balance,
    assert_audit_clean,
    cash,
    event,
    post_webhook,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Transaction
from tests.concurrency.test_parallel_bets import connect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
WAIT = 30


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once on their own threads and connections; each one's result, or the
    exception it raised, in the calls' order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            connect()
            barrier.wait(timeout=WAIT)
            results[index] = call()
        except BaseException as exc:  # recorded for the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call), daemon=True) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
        assert not thread.is_alive(), "a racing call did not finish"
    return results


def answer_of(body: dict) -> Callable[[], str]:
    return lambda: post_webhook(body).json()["status"]


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def test_two_deliveries_of_one_event_racing_credit_once():
    player = verified_player()
    deposit = start_deposit(player, 5_000)
    body = event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)

    answers = race(answer_of(body), answer_of(body))

    assert sorted(answers) == ["applied", "duplicate"]
    assert cash(player) == 5_000
    assert Transaction.objects.filter(player=player, kind=TransactionKind.DEPOSIT).count() == 1
    assert DepositIntent.objects.get(pk=deposit.pk).status == DepositStatus.SUCCEEDED
    assert_audit_clean()


def test_two_success_events_of_one_deposit_racing_credit_once():
    player = verified_player()
    deposit = start_deposit(player, 5_000)

    answers = race(*(answer_of(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)) for _ in range(4)))

    assert sorted(answers) == ["applied", "ignored", "ignored", "ignored"]
    assert (cash(player), DepositIntent.objects.get(pk=deposit.pk).status) == (5_000, "succeeded")
    assert_audit_clean()


def test_a_success_racing_a_failure_ends_credited_once():
    player = verified_player()
    deposit = start_deposit(player, 5_000)

    race(
        answer_of(event(EventType.DEPOSIT_FAILED, deposit.public_id, 5_000)),
        answer_of(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)),
    )

    assert (cash(player), DepositIntent.objects.get(pk=deposit.pk).status) == (5_000, "succeeded")
    assert_audit_clean()


@pytest.mark.parametrize("reversal", [EventType.DEPOSIT_REFUNDED, EventType.DEPOSIT_CHARGEBACK])
def test_a_reversal_racing_the_success_it_came_before_moves_the_money_once_each_way(reversal):
    """Whichever commits first (the reversal waiting on the deposit, or the credit), both are
    applied and the deposit ends taken back: one credit, one reversal, the player's cash as it
    was, a chargeback's lock, no deadlock. A few rounds, to meet both orders."""
    chargeback = reversal == EventType.DEPOSIT_CHARGEBACK
    for _ in range(3):
        player = verified_player(1_000)
        deposit = start_deposit(player, 5_000)

        answers = race(
            answer_of(event(reversal, deposit.public_id, 5_000)),
            answer_of(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)),
        )

        assert answers == ["applied", "applied"]
        moved = Transaction.objects.filter(player=player).exclude(kind=TransactionKind.ADJUSTMENT)
        assert sorted(moved.values_list("kind", "amount")) == sorted(
            [(TransactionKind.DEPOSIT, 5_000), (TransactionKind.CHARGEBACK if chargeback else TransactionKind.REFUND,
                                                -5_000)]
        )  # fmt: skip
        status = DepositIntent.objects.get(pk=deposit.pk).status
        assert (status, cash(player)) == ("charged_back" if chargeback else "refunded", 1_000)
        assert player.__class__.objects.get(pk=player.pk).status == ("locked" if chargeback else "active")
    assert_audit_clean()


def test_two_deposits_started_together_cannot_pass_a_limit_together():
    player = verified_player()
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=8_000)

    outcomes = race(lambda: start_deposit(player, 5_000), lambda: start_deposit(player, 5_000))

    assert sorted(getattr(o, "code", "started") for o in outcomes) == ["LIMIT_REACHED", "started"]
    assert DepositIntent.objects.count() == 1


def test_two_withdrawals_racing_for_the_same_cash_cannot_both_succeed():
    player = verified_player(10_000)

    outcomes = race(lambda: request_withdrawal(player, 8_000), lambda: request_withdrawal(player, 8_000))

    made = [o for o in outcomes if isinstance(o, Withdrawal)]
    refused = [o for o in outcomes if not isinstance(o, Withdrawal)]
    assert (len(made), [getattr(r, "code", r) for r in refused]) == (1, ["INSUFFICIENT_FUNDS"])
    assert (cash(player), account_balance(player, AccountKind.PENDING_WITHDRAWAL)) == (2_000, 8_000)
    assert Withdrawal.objects.count() == 1  # the refused request left nothing behind
    assert_audit_clean()


def test_a_payouts_success_racing_its_failure_applies_one_of_them():
    player = verified_player(10_000)
    withdrawal = request_withdrawal(player, 5_000)
    assert withdrawal.status == WithdrawalStatus.APPROVED

    answers = race(
        answer_of(event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, 5_000)),
        answer_of(event(EventType.PAYOUT_FAILED, withdrawal.public_id, 5_000)),
    )

    assert sorted(answers) == ["applied", "ignored"]
    status = Withdrawal.objects.get(pk=withdrawal.pk).status
    expected_cash = {WithdrawalStatus.PAID: 5_000, WithdrawalStatus.FAILED: 10_000}[status]
    assert (cash(player), account_balance(player, AccountKind.PENDING_WITHDRAWAL)) == (expected_cash, 0)
    assert_audit_clean()


def test_a_cancellation_racing_an_approval_leaves_one_outcome():
    player = verified_player(500_000)
    withdrawal = request_withdrawal(player, 200_000)  # over the threshold: awaiting approval
    staff: User = make_staff(StaffRole.FINANCE)

    outcomes = race(
        lambda: services.cancel_withdrawal(player=player, withdrawal_id=withdrawal.public_id),
        lambda: services.approve_withdrawal(withdrawal_id=withdrawal.pk, acting_user=staff),
    )

    status = Withdrawal.objects.get(pk=withdrawal.pk).status
    codes = sorted(getattr(o, "code", "ok") for o in outcomes)
    assert status in (WithdrawalStatus.CANCELLED, WithdrawalStatus.APPROVED)
    assert codes in (["WITHDRAWAL_NOT_AWAITING_APPROVAL", "ok"], ["WITHDRAWAL_NOT_CANCELLABLE", "ok"])
    pending = {WithdrawalStatus.CANCELLED: 0, WithdrawalStatus.APPROVED: 200_000}[status]
    assert account_balance(player, AccountKind.PENDING_WITHDRAWAL) == pending
    assert_audit_clean()


def test_one_idempotency_key_racing_in_twice_makes_one_withdrawal_and_reserves_once():
    player = verified_player(10_000)

    outcomes = race(*[lambda: request_withdrawal(player, 4_000, key="same-key")] * 3)

    assert all(isinstance(o, Withdrawal) for o in outcomes), outcomes
    withdrawal = Withdrawal.objects.get()
    assert {(o.pk, o.public_id) for o in outcomes} == {(withdrawal.pk, withdrawal.public_id)}
    assert withdrawal.status == WithdrawalStatus.APPROVED
    assert (cash(player), account_balance(player, AccountKind.PENDING_WITHDRAWAL)) == (6_000, 4_000)
    assert Transaction.objects.filter(player=player, kind=TransactionKind.WITHDRAWAL).count() == 1
    assert_audit_clean()


def test_one_idempotency_key_racing_in_twice_makes_one_deposit():
    player = verified_player()

    outcomes = race(*[lambda: start_deposit(player, 5_000, key="same-key")] * 3)

    assert all(isinstance(o, DepositIntent) for o in outcomes), outcomes
    intent = DepositIntent.objects.get()
    assert {(o.public_id, o.redirect_url) for o in outcomes} == {(intent.public_id, intent.redirect_url)}
    assert cash(player) == 0


def test_one_key_racing_in_against_a_limit_that_admits_it_once_answers_the_deposit_every_time():
    # The first start makes the deposit, which then counts against the limit: one of the others,
    # judged afresh, would be refused and keep that refusal under the key. Under the start's lock
    # they find the deposit instead.
    player = verified_player()
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=5_000)

    outcomes = race(*[lambda: start_deposit(player, 5_000, key="same-key")] * 4)

    assert all(isinstance(o, DepositIntent) for o in outcomes), outcomes
    assert {o.public_id for o in outcomes} == {DepositIntent.objects.get().public_id}
    assert not CashierRefusal.objects.exists()


def test_one_key_racing_in_for_a_withdrawal_it_cannot_have_keeps_one_refusal_and_moves_nothing():
    player = verified_player(1_000)

    outcomes = race(*[lambda: request_withdrawal(player, 4_000, key="same-key")] * 3)

    assert {getattr(o, "code", o) for o in outcomes} == {"INSUFFICIENT_FUNDS"}, outcomes
    kept = CashierRefusal.objects.get()
    assert (kept.idempotency_key, kept.status, kept.code) == ("same-key", 402, "INSUFFICIENT_FUNDS")
    assert (Withdrawal.objects.count(), cash(player)) == (0, 1_000)
    assert_audit_clean()
