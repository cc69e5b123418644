"""Withdrawals (contracts/payments.md): reserved at once, approved by themselves within the
brand's threshold unless a risk rule flags them, staff decisions with four eyes, payouts paid or
returned by the PSP's events, the ledger's audit clean after each."""

from __future__ import annotations

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.models import Brand
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import services as compliance
from apps.compliance.errors import PlayerBlocked
from apps.compliance.models import StaffAction
from apps.payments import errors, services
from apps.payments.choices import EventType
from apps.payments.models import BrandPaymentSettings, WebhookEvent, Withdrawal
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
from apps.wallet import errors as wallet_errors
from apps.wallet.choices import AccountKind, TransactionKind, clearing_code
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import bet, ledger_rows, system_balance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def status_of(withdrawal: Withdrawal) -> str:
    return Withdrawal.objects.get(pk=withdrawal.pk).status


def pending(player) -> int:
    return account_balance(player, AccountKind.PENDING_WITHDRAWAL)


def test_a_withdrawal_within_the_threshold_is_reserved_and_approved_at_once():
    player = verified_player(10_000)

    withdrawal = request_withdrawal(player, 4_000)

    assert (withdrawal.status, withdrawal.initial_status, withdrawal.risk_flags) == ("approved", "approved", [])
    assert (cash(player), pending(player)) == (6_000, 4_000)
    assert Transaction.objects.get(player=player, kind=TransactionKind.WITHDRAWAL).external_id == (
        f"withdrawal:{withdrawal.public_id}"
    )
    assert_audit_clean()


def test_reserved_money_cannot_be_bet():
    player = verified_player(10_000)
    request_withdrawal(player, 4_000)
    before = ledger_rows()

    with pytest.raises(wallet_errors.InsufficientFunds):
        bet(player, 6_001)

    assert ledger_rows() == before
    bet(player, 6_000)  # what is left is playable
    assert (cash(player), pending(player)) == (0, 4_000)


def test_above_the_brands_threshold_it_awaits_approval():
    player = verified_player(500_000)

    at_threshold = request_withdrawal(player, 100_000)
    above = request_withdrawal(player, 100_001)

    assert (at_threshold.status, above.status) == ("approved", "awaiting_approval")
    assert (cash(player), pending(player)) == (299_999, 200_001)


def test_without_settings_the_threshold_is_1000_in_the_players_currency():
    player = verified_player(5_000, currency="JPY")  # no minor unit: 1,000 yen

    assert request_withdrawal(player, 1_001).status == "awaiting_approval"
    assert request_withdrawal(player, 1_000).status == "approved"


def test_the_threshold_is_the_brands_own():
    player = verified_player(500_000)
    BrandPaymentSettings.objects.create(brand=Brand.objects.get(pk=player.brand_id), auto_approve_up_to=1_000)

    assert request_withdrawal(player, 1_001).status == "awaiting_approval"
    assert request_withdrawal(player, 1_000).status == "approved"


def test_a_withdrawal_soon_after_a_deposit_with_little_wagering_awaits_approval():
    player = verified_player()
    deposit = start_deposit(player, 50_000)
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 50_000))
    bet(player, 10_000)

    withdrawal = request_withdrawal(player, 40_000)

    assert (withdrawal.status, withdrawal.risk_flags) == ("awaiting_approval", ["little_wagering_since_deposit"])


def test_a_player_whose_deposit_was_reversed_awaits_approval():
    player = verified_player(20_000)
    deposit = start_deposit(player, 5_000)
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000))
    bet(player, 5_000)  # wagered: only the reversal rule fires
    post_webhook(event(EventType.DEPOSIT_REFUNDED, deposit.public_id, 5_000))

    withdrawal = request_withdrawal(player, 1_000)

    assert (withdrawal.status, withdrawal.risk_flags) == ("awaiting_approval", ["reversed_deposit"])


def test_an_unverified_player_cannot_withdraw_and_nothing_is_left_behind():
    player = verified_player(10_000)
    from apps.accounts import services as accounts

    accounts.set_kyc_status(player_id=player.pk, kyc_status="unverified", reason="test")
    before = ledger_rows()

    with pytest.raises(PlayerBlocked) as refusal:
        request_withdrawal(player, 1_000)

    assert (refusal.value.code, refusal.value.status) == ("PLAYER_BLOCKED", 403)
    assert (ledger_rows(), Withdrawal.objects.count()) == (before, 0)


def test_a_self_excluded_player_can_withdraw():
    player = verified_player(10_000)
    compliance.self_exclude(player=player, period="6m")

    withdrawal = request_withdrawal(player, 10_000)

    assert (withdrawal.status, cash(player), pending(player)) == ("approved", 0, 10_000)
    assert_audit_clean()


def test_only_cash_can_be_withdrawn():
    player = verified_player(1_000)
    with pytest.raises(wallet_errors.InsufficientFunds):
        request_withdrawal(player, 1_001)
    assert Withdrawal.objects.count() == 0


def test_the_same_key_and_body_give_the_first_withdrawal_and_another_body_is_a_conflict():
    player = verified_player(10_000)
    first = request_withdrawal(player, 1_000, key="k-1")

    again = request_withdrawal(player, 1_000, key="k-1")
    with pytest.raises(wallet_errors.DuplicateTransaction):
        request_withdrawal(player, 2_000, key="k-1")

    assert again.pk == first.pk
    assert (cash(player), pending(player)) == (9_000, 1_000)


# --- payouts ----------------------------------------------------------------------------------------


def test_payout_succeeded_marks_it_paid_and_the_money_leaves_for_the_psp():
    player = verified_player(10_000)
    withdrawal = request_withdrawal(player, 4_000)

    answer = post_webhook(event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, 4_000))

    assert (answer.json(), status_of(withdrawal)) == ({"status": "applied"}, "paid")
    assert (cash(player), pending(player), system_balance(clearing_code("sandbox"))) == (6_000, 0, 4_000)
    assert_audit_clean()


@pytest.mark.parametrize(("amount", "currency"), [(3_500, "EUR"), (4_000, "USD")])
def test_a_payout_reported_in_another_amount_or_currency_pays_what_was_reserved_and_flags_it(amount, currency):
    """The PSP says it paid this withdrawal: the money reserved for it leaves, and staff reconcile
    the difference with the PSP."""
    player = verified_player(10_000)
    withdrawal = request_withdrawal(player, 4_000)
    body = event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, amount, currency=currency)

    answer = post_webhook(body)

    assert (answer.json(), status_of(withdrawal)) == ({"status": "applied"}, "paid")
    assert (cash(player), pending(player), system_balance(clearing_code("sandbox"))) == (6_000, 0, 4_000)
    paid = Withdrawal.objects.get(pk=withdrawal.pk)
    assert paid.flagged_for_staff
    assert paid.flag_reason == (
        f"event {body['event_id']}: the PSP reported paying {amount} {currency}, the withdrawal is 4000 EUR"
    )
    assert_audit_clean()


def test_a_payout_reported_as_it_was_asked_is_not_flagged():
    player = verified_player(10_000)
    withdrawal = request_withdrawal(player, 4_000)

    post_webhook(event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, 4_000))

    assert not Withdrawal.objects.get(pk=withdrawal.pk).flagged_for_staff


def test_payout_failed_returns_the_money_to_cash():
    player = verified_player(10_000)
    withdrawal = request_withdrawal(player, 4_000)

    answer = post_webhook(event(EventType.PAYOUT_FAILED, withdrawal.public_id, 4_000))

    assert (answer.json(), status_of(withdrawal)) == ({"status": "applied"}, "failed")
    assert (cash(player), pending(player)) == (10_000, 0)
    assert Withdrawal.objects.get(pk=withdrawal.pk).reason.startswith("the PSP could not pay it")
    assert_audit_clean()


def test_a_payout_event_for_a_paid_or_failed_withdrawal_is_ignored():
    player = verified_player(10_000)
    paid = request_withdrawal(player, 1_000)
    failed = request_withdrawal(player, 1_000)
    post_webhook(event(EventType.PAYOUT_SUCCEEDED, paid.public_id, 1_000))
    post_webhook(event(EventType.PAYOUT_FAILED, failed.public_id, 1_000))
    before = ledger_rows()

    answers = [
        post_webhook(event(kind, w.public_id, 1_000)).json()
        for w in (paid, failed)
        for kind in (EventType.PAYOUT_SUCCEEDED, EventType.PAYOUT_FAILED)
    ]

    assert answers == [{"status": "ignored"}] * 4
    assert ledger_rows() == before
    assert (status_of(paid), status_of(failed)) == ("paid", "failed")
    assert_audit_clean()


def test_a_payout_event_for_a_withdrawal_not_approved_is_ignored():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    before = ledger_rows()

    answer = post_webhook(event(EventType.PAYOUT_SUCCEEDED, waiting.public_id, 200_000))

    assert (answer.json(), ledger_rows(), status_of(waiting)) == ({"status": "ignored"}, before, "awaiting_approval")
    assert WebhookEvent.objects.get().reason == "the withdrawal is awaiting_approval, not approved"


# --- staff decisions and the player's cancellation ------------------------------------------------------


def test_staff_approve_a_waiting_withdrawal_and_it_is_recorded():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    finance = make_staff(StaffRole.FINANCE)

    approved = services.approve_withdrawal(withdrawal_id=waiting.pk, acting_user=finance)

    assert (approved.status, approved.approved_by, approved.last_touched_by) == ("approved", finance, finance)
    record = StaffAction.objects.get(action=services.WITHDRAWAL_APPROVE)
    assert (record.actor, record.target_id, record.before, record.after) == (
        finance, str(waiting.pk), {"status": "awaiting_approval"}, {"status": "approved"},
    )  # fmt: skip


def test_four_eyes_whoever_requested_it_cannot_approve_it():
    player = verified_player(500_000)
    clerk = make_staff(StaffRole.FINANCE)
    waiting = request_withdrawal(player, 200_000, acting_user=clerk)

    with pytest.raises(errors.FourEyesRequired) as refusal:
        services.approve_withdrawal(withdrawal_id=waiting.pk, acting_user=clerk)

    assert (refusal.value.code, status_of(waiting)) == ("FOUR_EYES_REQUIRED", "awaiting_approval")
    assert not StaffAction.objects.filter(action=services.WITHDRAWAL_APPROVE).exists()
    other = make_staff(StaffRole.FINANCE)
    assert services.approve_withdrawal(withdrawal_id=waiting.pk, acting_user=other).status == "approved"


def test_four_eyes_the_player_themself_cannot_approve():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    with pytest.raises(errors.FourEyesRequired):
        services.approve_withdrawal(withdrawal_id=waiting.pk, acting_user=player.user)


def test_staff_reject_a_withdrawal_the_money_goes_back_and_it_is_recorded():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    compliance_officer = make_staff(StaffRole.FINANCE)

    rejected = services.reject_withdrawal(withdrawal_id=waiting.pk, acting_user=compliance_officer, reason="docs")

    assert (rejected.status, rejected.reason, cash(player), pending(player)) == ("cancelled", "docs", 500_000, 0)
    record = StaffAction.objects.get(action=services.WITHDRAWAL_REJECT)
    assert (record.reason, record.after) == ("docs", {"status": "cancelled"})
    assert_audit_clean()


def test_an_approved_withdrawal_cannot_be_approved_or_rejected_again():
    player = verified_player(10_000)
    approved = request_withdrawal(player, 1_000)
    staff = make_staff(StaffRole.FINANCE)
    with pytest.raises(errors.WithdrawalNotAwaitingApproval):
        services.approve_withdrawal(withdrawal_id=approved.pk, acting_user=staff)
    with pytest.raises(errors.WithdrawalNotAwaitingApproval):
        services.reject_withdrawal(withdrawal_id=approved.pk, acting_user=staff, reason="no")


def test_the_player_cancels_a_waiting_withdrawal_and_gets_the_money_back():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)

    cancelled = services.cancel_withdrawal(player=player, withdrawal_id=waiting.public_id)

    assert (cancelled.status, cash(player), pending(player)) == ("cancelled", 500_000, 0)
    assert Transaction.objects.filter(player=player, kind=TransactionKind.WITHDRAWAL_RETURNED).count() == 1
    assert_audit_clean()


def test_an_approved_withdrawal_cannot_be_cancelled():
    player = verified_player(10_000)
    approved = request_withdrawal(player, 1_000)
    before = ledger_rows()

    with pytest.raises(errors.WithdrawalNotCancellable):
        services.cancel_withdrawal(player=player, withdrawal_id=approved.public_id)

    assert (ledger_rows(), status_of(approved)) == (before, "approved")


def test_another_players_withdrawal_is_not_found():
    owner = verified_player(10_000)
    withdrawal = request_withdrawal(owner, 1_000)
    stranger = make_player()
    with pytest.raises(errors.NotFound):
        services.cancel_withdrawal(player=stranger, withdrawal_id=withdrawal.public_id)


# --- the money and the withdrawal's status commit together ---------------------------------------------


def fail_once(monkeypatch, target, name: str) -> list:
    """Make `target.name` raise once, as a process dying there would, then behave again."""
    real, calls = getattr(target, name), []

    def failing(*args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise RuntimeError("the process died")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def test_a_request_that_fails_before_its_decision_reserves_nothing_and_its_retry_reserves_once(monkeypatch):
    player = verified_player(10_000)
    fail_once(monkeypatch, services.risk, "risk_flags")  # runs inside the reservation's transaction

    with pytest.raises(RuntimeError):
        request_withdrawal(player, 4_000, key="k-1")

    assert (cash(player), pending(player)) == (10_000, 0)
    assert list(Withdrawal.objects.values_list("status", flat=True)) == ["requested"]  # not shown to the player

    retried = request_withdrawal(player, 4_000, key="k-1")

    assert (retried.status, cash(player), pending(player)) == ("approved", 6_000, 4_000)
    assert Transaction.objects.filter(player=player, kind=TransactionKind.WITHDRAWAL).count() == 1
    assert_audit_clean()


def test_a_rejection_whose_staff_action_fails_returns_no_money_and_can_be_done_again(monkeypatch):
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    finance = make_staff(StaffRole.FINANCE)
    fail_once(monkeypatch, services.staff_trail, "record_staff_action")

    with pytest.raises(RuntimeError):
        services.reject_withdrawal(withdrawal_id=waiting.pk, acting_user=finance, reason="docs")

    assert (status_of(waiting), cash(player), pending(player)) == ("awaiting_approval", 300_000, 200_000)
    assert not StaffAction.objects.filter(action=services.WITHDRAWAL_REJECT).exists()

    rejected = services.reject_withdrawal(withdrawal_id=waiting.pk, acting_user=finance, reason="docs")

    assert (rejected.status, cash(player), pending(player)) == ("cancelled", 500_000, 0)
    assert StaffAction.objects.filter(action=services.WITHDRAWAL_REJECT).count() == 1
    assert Transaction.objects.filter(player=player, kind=TransactionKind.WITHDRAWAL_RETURNED).count() == 1
    assert_audit_clean()


def test_a_cancellation_after_a_rejection_is_refused_and_returns_nothing_twice():
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    services.reject_withdrawal(withdrawal_id=waiting.pk, acting_user=make_staff(StaffRole.FINANCE), reason="docs")
    before = ledger_rows()

    with pytest.raises(errors.WithdrawalNotCancellable):
        services.cancel_withdrawal(player=player, withdrawal_id=waiting.public_id)

    assert (ledger_rows(), status_of(waiting), cash(player)) == (before, "cancelled", 500_000)


@pytest.mark.parametrize("autopay", [True, False])
def test_the_sandbox_asks_itself_to_pay_an_approved_withdrawal_unless_autopay_is_off(
    settings, monkeypatch, django_capture_on_commit_callbacks, autopay
):
    from apps.payments.delivery import worker

    settings.PSP_SANDBOX_AUTOPAY = autopay
    sent = []
    monkeypatch.setattr(worker, "enqueue", lambda **delivery: sent.append(delivery["event"]))
    player = verified_player(500_000)

    with django_capture_on_commit_callbacks(execute=True):
        approved = request_withdrawal(player, 1_000)
        waiting = request_withdrawal(player, 100_001)  # above the 1,000.00 threshold: staff decide

    assert (approved.status, waiting.status) == ("approved", "awaiting_approval")
    payouts = [(e["type"], e["reference"], e["amount"], e["currency"]) for e in sent]
    assert payouts == ([(EventType.PAYOUT_SUCCEEDED, approved.public_id, 1_000, "EUR")] if autopay else [])
    # Nothing is paid until the PSP's webhook says so.
    assert (status_of(approved), pending(player), cash(player)) == ("approved", 101_001, 398_999)
