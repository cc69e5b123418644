"""Staff adjustments with reason codes: below the currency's threshold they post at once; at or
above it they wait for a different staff member, who approves (posting it, recorded as the second
approver) or rejects; the requester can do neither. Every step is a staff action, and the ledger
and the trail verify."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit as staff_audit
from apps.compliance.models import StaffAction
from apps.wallet import errors, selectors, services
from apps.wallet.audit import run_audit
from apps.wallet.models import AdjustmentRequest, Transaction

pytestmark = pytest.mark.django_db

THRESHOLD = 10_000  # the EUR default: 100.00


def request(player, amount: int, staff, key: str = "key-1", code: str = "goodwill", reason: str = "outage"):
    return services.request_adjustment(
        player_id=player.pk, amount=amount, reason_code=code, reason=reason, acting_user=staff, idempotency_key=key
    )


def assert_clean() -> None:
    assert {name: found for name, found in run_audit().items() if found} == {}
    assert staff_audit.run_audit() == {name: [] for name in staff_audit.CHECKS}


def test_below_the_threshold_it_posts_at_once_with_its_reason_code():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)

    adjustment = request(player, THRESHOLD - 1, clerk, code="compensation", reason="game error round 7")

    assert (adjustment.status, adjustment.needs_approval, adjustment.decided_by) == ("approved", False, None)
    tx = Transaction.objects.get(pk=adjustment.transaction_id)
    assert (tx.kind, tx.amount, tx.acting_user, tx.reason) == (
        "adjustment", THRESHOLD - 1, clerk, "compensation: game error round 7",
    )  # fmt: skip
    assert selectors.get_wallet_state(player.pk).cash == THRESHOLD - 1
    assert list(StaffAction.objects.values_list("action", "actor")) == [("wallet.adjust", clerk.pk)]
    assert_clean()


def test_at_the_threshold_it_waits_and_a_second_staff_member_approves_it():
    player, clerk, approver = make_player(), make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)

    pending = request(player, THRESHOLD, clerk)
    assert (pending.status, pending.needs_approval, pending.transaction) == ("pending", True, None)
    assert selectors.get_wallet_state(player.pk).cash == 0
    assert [r.pk for r in selectors.list_pending_adjustments()] == [pending.pk]

    approved = services.approve_adjustment(request_id=pending.pk, acting_user=approver)

    assert (approved.status, approved.requested_by, approved.decided_by) == ("approved", clerk, approver)
    assert approved.decided_at is not None
    tx = Transaction.objects.get()
    assert (approved.transaction_id, tx.amount, tx.acting_user) == (tx.pk, THRESHOLD, approver)
    assert selectors.get_wallet_state(player.pk).cash == THRESHOLD
    assert selectors.list_pending_adjustments() == []
    records = list(StaffAction.objects.order_by("pk").values_list("action", "actor", "target_type", "reason"))
    assert records == [
        ("wallet.adjustment.request", clerk.pk, "wallet.adjustmentrequest", "outage"),
        ("wallet.adjustment.approve", approver.pk, "wallet.adjustmentrequest", ""),
        ("wallet.adjust", approver.pk, "wallet.account", "goodwill: outage"),
    ]
    assert_clean()


def test_a_debit_at_the_threshold_needs_four_eyes_too():
    player = make_player()
    services.adjust_balance(player_id=player.pk, amount=50_000, reason="seed", acting_user=None)
    assert request(player, -THRESHOLD, make_staff(StaffRole.FINANCE)).status == "pending"


def test_the_requester_can_neither_approve_nor_reject_their_own():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    pending = request(player, 20_000, clerk)

    with pytest.raises(errors.FourEyesRequired) as refused:
        services.approve_adjustment(request_id=pending.pk, acting_user=clerk)
    assert refused.value.code == "FOUR_EYES_REQUIRED"
    with pytest.raises(errors.FourEyesRequired):
        services.reject_adjustment(request_id=pending.pk, acting_user=clerk, reason="changed my mind")

    assert AdjustmentRequest.objects.get().status == "pending"
    assert not Transaction.objects.exists()
    assert list(StaffAction.objects.values_list("action", flat=True)) == ["wallet.adjustment.request"]


def test_a_rejection_moves_no_money_and_needs_a_reason():
    player, clerk, approver = make_player(), make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)
    pending = request(player, 20_000, clerk)
    with pytest.raises(errors.InvalidAdjustment):
        services.reject_adjustment(request_id=pending.pk, acting_user=approver, reason="  ")

    rejected = services.reject_adjustment(request_id=pending.pk, acting_user=approver, reason="no ticket")

    assert (rejected.status, rejected.decided_by, rejected.decision_reason) == ("rejected", approver, "no ticket")
    assert not Transaction.objects.exists()
    record = StaffAction.objects.get(action="wallet.adjustment.reject")
    assert (record.actor, record.reason, record.after) == (approver, "no ticket", {"status": "rejected"})
    with pytest.raises(errors.AdjustmentNotPending):
        services.approve_adjustment(request_id=pending.pk, acting_user=approver)
    assert_clean()


def test_an_approval_sent_twice_posts_once_and_another_approver_is_refused():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    approver, late = make_staff(StaffRole.FINANCE), make_staff(StaffRole.ADMIN)
    pending = request(player, 20_000, clerk)

    first = services.approve_adjustment(request_id=pending.pk, acting_user=approver)
    again = services.approve_adjustment(request_id=pending.pk, acting_user=approver)
    assert (again.pk, again.decided_by, again.transaction_id) == (first.pk, approver, first.transaction_id)
    with pytest.raises(errors.AdjustmentNotPending):
        services.approve_adjustment(request_id=pending.pk, acting_user=late)

    assert first.status == "approved"
    assert Transaction.objects.count() == 1
    assert StaffAction.objects.filter(action="wallet.adjustment.approve").count() == 1
    assert_clean()


def test_the_same_key_is_one_request_and_another_body_with_it_is_refused():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    first = request(player, 20_000, clerk, key="dup")
    assert request(player, 20_000, clerk, key="dup").pk == first.pk
    below = request(player, 500, clerk, key="small")
    assert request(player, 500, clerk, key="small").pk == below.pk
    with pytest.raises(errors.DuplicateTransaction):
        request(player, 30_000, clerk, key="dup")
    assert AdjustmentRequest.objects.count() == 2
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "code", "reason"),
    [(0, "goodwill", "x"), (100, "bribe", "x"), (100, "goodwill", " "), (10**13, "test", "x")],
)
def test_bad_requests_are_refused_with_a_stable_code(amount, code, reason):
    with pytest.raises(errors.InvalidAdjustment) as refused:
        request(make_player(), amount, make_staff(StaffRole.FINANCE), code=code, reason=reason)
    assert refused.value.code == "INVALID_ADJUSTMENT"
    assert not AdjustmentRequest.objects.exists()


def test_a_currency_without_a_threshold_always_needs_four_eyes(settings):
    settings.ADJUSTMENT_FOUR_EYES_THRESHOLDS = {"USD": 10_000}
    assert services.four_eyes_threshold("EUR") == 0
    assert request(make_player(), 1, make_staff(StaffRole.FINANCE)).status == "pending"


def test_an_approved_debit_beyond_the_cash_is_refused_and_stays_pending():
    player, clerk, approver = make_player(), make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)
    pending = request(player, -20_000, clerk)
    with pytest.raises(errors.InsufficientFunds):
        services.approve_adjustment(request_id=pending.pk, acting_user=approver)
    assert AdjustmentRequest.objects.get().status == "pending"
    assert not StaffAction.objects.filter(action="wallet.adjustment.approve").exists()


def test_no_one_adjusts_or_approves_their_own_player_account():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    with pytest.raises(errors.FourEyesRequired):
        request(player, 500, player.user)
    pending = request(player, 20_000, clerk)
    with pytest.raises(errors.FourEyesRequired):
        services.approve_adjustment(request_id=pending.pk, acting_user=player.user)
    with pytest.raises(errors.FourEyesRequired):
        services.reject_adjustment(request_id=pending.pk, acting_user=player.user, reason="mine")
    assert (AdjustmentRequest.objects.get().status, Transaction.objects.count()) == ("pending", 0)
