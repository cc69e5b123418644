"""Adjustment approvals under real concurrency (threads with their own PostgreSQL connections,
released together): an approval sent twice at once posts once, two approvers or an approval and
a rejection racing leave exactly one decision, and the ledger and the staff trail verify."""

from __future__ import annotations

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit as staff_audit
from apps.compliance.models import StaffAction
from apps.payments.tests.factories import assert_audit_clean
from apps.wallet import errors, selectors, services
from apps.wallet.models import AdjustmentRequest, Transaction
from tests.concurrency.test_payments import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def pending_adjustment(amount: int = 50_000):
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    request = services.request_adjustment(
        player_id=player.pk, amount=amount, reason_code="compensation", reason="outage", acting_user=clerk,
        idempotency_key=f"race-{player.pk}",
    )  # fmt: skip
    return player, request


def approve(request, user):
    return lambda: services.approve_adjustment(request_id=request.pk, acting_user=user)


def assert_clean() -> None:
    assert_audit_clean()
    assert staff_audit.run_audit() == {name: [] for name in staff_audit.CHECKS}


def test_a_double_approval_at_once_posts_once():
    player, request = pending_adjustment()
    approver = make_staff(StaffRole.FINANCE)

    results = race(approve(request, approver), approve(request, approver), approve(request, approver))

    assert [type(r).__name__ for r in results] == ["AdjustmentRequest"] * 3, results
    assert {(r.status, r.decided_by_id, r.transaction_id) for r in results} == {
        ("approved", approver.pk, Transaction.objects.get().pk)
    }
    assert selectors.get_wallet_state(player.pk).cash == 50_000
    assert StaffAction.objects.filter(action="wallet.adjustment.approve").count() == 1
    assert_clean()


def test_two_approvers_at_once_one_decides():
    player, request = pending_adjustment()
    first, second = make_staff(StaffRole.FINANCE), make_staff(StaffRole.ADMIN)

    results = race(approve(request, first), approve(request, second))

    decided = [r for r in results if isinstance(r, AdjustmentRequest)]
    refused = [r for r in results if isinstance(r, errors.AdjustmentNotPending)]
    assert (len(decided), len(refused)) == (1, 1), results
    assert AdjustmentRequest.objects.get().decided_by_id == decided[0].decided_by_id
    assert Transaction.objects.count() == 1
    assert selectors.get_wallet_state(player.pk).cash == 50_000
    assert_clean()


def test_an_approval_racing_a_rejection_one_wins_and_money_follows_it():
    player, request = pending_adjustment()
    approver, rejecter = make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)

    results = race(
        approve(request, approver),
        lambda: services.reject_adjustment(request_id=request.pk, acting_user=rejecter, reason="no"),
    )

    assert sum(isinstance(r, AdjustmentRequest) for r in results) == 1, results
    assert sum(isinstance(r, errors.AdjustmentNotPending) for r in results) == 1, results
    final = AdjustmentRequest.objects.get()
    expected_cash = 50_000 if final.status == "approved" else 0
    assert (Transaction.objects.count(), selectors.get_wallet_state(player.pk).cash) == (
        int(final.status == "approved"), expected_cash,
    )  # fmt: skip
    assert_clean()


def test_the_requester_in_two_tabs_at_once_is_refused_in_both():
    _, request = pending_adjustment()
    clerk = request.requested_by

    results = race(approve(request, clerk), approve(request, clerk))

    assert all(isinstance(r, errors.FourEyesRequired) for r in results), results
    assert (AdjustmentRequest.objects.get().status, Transaction.objects.count()) == ("pending", 0)
