"""Four eyes, however a decision arrives: the staff member who requested an adjustment (or a
withdrawal) cannot approve it from a second browser session of their own, nor through the staff
API; another staff member with the permission can, and is recorded as the second approver. The
staff API takes staff sessions only, with CSRF, and refuses what a role may not do."""

import json
import secrets

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit as staff_audit
from apps.compliance.models import StaffAction
from apps.payments.models import Withdrawal
from apps.payments.tests.factories import a_provider, assert_audit_clean, request_withdrawal, verified_player
from apps.wallet import selectors
from apps.wallet.models import AdjustmentRequest, Transaction

pytestmark = pytest.mark.django_db

API = "/api/backoffice/v1/"
ADJUST = "/backoffice/wallet/account/adjust/{}/"
QUEUE = "/backoffice/wallet/adjustmentawaitingapproval/"
WITHDRAWAL_QUEUE = "/backoffice/payments/withdrawalawaitingapproval/"


def session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_session(user) -> Client:
    """A browser session that sends its CSRF token (the cookie's value in `X-CSRFToken`), as the
    back office's pages do."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.csrf = secrets.token_hex(16)  # a CSRF secret is 32 characters
    client.cookies[settings.CSRF_COOKIE_NAME] = client.csrf
    return client


def api_post(client: Client, path: str, body: dict | None = None, **headers):
    return client.post(
        API + path, json.dumps(body or {}), content_type="application/json",
        headers={"X-CSRFToken": getattr(client, "csrf", ""), **headers},
    )  # fmt: skip


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def assert_trails_clean() -> None:
    assert_audit_clean()
    assert staff_audit.run_audit() == {name: [] for name in staff_audit.CHECKS}


# --- the admin: a second tab of the same staff member ------------------------------------------


def test_admin_the_requester_cannot_approve_from_a_second_session_and_a_colleague_can():
    clerk, colleague, player = make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE), make_player()
    first_tab, second_tab = session(clerk), session(clerk)

    form = {"amount": "25000", "reason_code": "compensation", "reason": "outage", "idempotency_key": "a" * 32}
    requested = first_tab.post(ADJUST.format(player.pk), form)
    assert (requested.status_code, requested.url) == (302, QUEUE)
    pending = AdjustmentRequest.objects.get()
    assert pending.status == "pending"
    listed = second_tab.get(QUEUE)
    assert (listed.status_code, list(listed.context["cl"].result_list)) == (200, [pending])

    for action in ("approve", "reject"):
        refused = second_tab.post(QUEUE, {"action": action, "_selected_action": [pending.pk], "reason": "mine"})
        assert messages_of(refused)[-1] == f"adjustment {pending.pk}: FOUR_EYES_REQUIRED: {refused_message()}"
    assert (AdjustmentRequest.objects.get().status, Transaction.objects.count()) == ("pending", 0)

    approved = session(colleague).post(QUEUE, {"action": "approve", "_selected_action": [pending.pk]})
    assert messages_of(approved) == [f"adjustment {pending.pk}: approved"]
    pending.refresh_from_db()
    assert (pending.status, pending.requested_by, pending.decided_by) == ("approved", clerk, colleague)
    assert selectors.get_wallet_state(player.pk).cash == 25_000
    assert list(StaffAction.objects.order_by("pk").values_list("action", "actor")) == [
        ("wallet.adjustment.request", clerk.pk),
        ("wallet.adjustment.approve", colleague.pk),
        ("wallet.adjust", colleague.pk),
    ]
    assert session(colleague).get(QUEUE).context["cl"].result_list.count() == 0
    assert session(colleague).get(f"/backoffice/wallet/adjustmentrequest/{pending.pk}/change/").status_code == 200
    assert session(colleague).get("/backoffice/wallet/adjustmentrequest/").status_code == 200
    assert_trails_clean()


def refused_message() -> str:
    from apps.wallet.errors import FourEyesRequired

    return FourEyesRequired.default_message


def test_admin_below_the_threshold_posts_at_once():
    clerk, player = make_staff(StaffRole.FINANCE), make_player()
    form = {"amount": "9999", "reason_code": "goodwill", "reason": "birthday", "idempotency_key": "b" * 32}
    response = session(clerk).post(ADJUST.format(player.pk), form)
    tx = Transaction.objects.get()
    assert response.url == f"/backoffice/wallet/transaction/{tx.pk}/change/"
    assert AdjustmentRequest.objects.get().status == "approved"
    assert selectors.get_wallet_state(player.pk).cash == 9_999


def test_admin_support_and_compliance_see_no_adjustment_queue_and_cannot_decide():
    player, clerk = make_player(), make_staff(StaffRole.FINANCE)
    client = session(clerk)
    client.post(ADJUST.format(player.pk), {"amount": "25000", "reason_code": "test", "reason": "x",
                                            "idempotency_key": "c" * 32})  # fmt: skip
    pending = AdjustmentRequest.objects.get()
    for role in (StaffRole.SUPPORT, StaffRole.COMPLIANCE):
        other = session(make_staff(role))
        assert other.get(QUEUE).status_code == 403
        assert other.post(QUEUE, {"action": "approve", "_selected_action": [pending.pk]}).status_code == 403
    assert AdjustmentRequest.objects.get().status == "pending"


def test_admin_withdrawal_queue_four_eyes_from_a_second_session():
    a_provider()
    clerk, colleague = make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000, acting_user=clerk)
    approved_at_once = request_withdrawal(player, 1_000)
    later = request_withdrawal(player, 150_000)
    first_tab, second_tab = session(clerk), session(clerk)
    listed = first_tab.get(WITHDRAWAL_QUEUE)
    assert list(listed.context["cl"].result_list) == [waiting, later]  # what awaits approval, oldest first
    assert approved_at_once.status == "approved"

    refused = second_tab.post(WITHDRAWAL_QUEUE, {"action": "approve", "_selected_action": [waiting.pk]})
    assert messages_of(refused)[0].startswith(f"{waiting.public_id}: FOUR_EYES_REQUIRED")
    assert Withdrawal.objects.get(pk=waiting.pk).status == "awaiting_approval"

    session(colleague).post(WITHDRAWAL_QUEUE, {"action": "approve", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert (waiting.status, waiting.requested_by, waiting.approved_by) == ("approved", clerk, colleague)
    assert_trails_clean()


# --- the staff API ---------------------------------------------------------------------------------


def test_api_request_then_the_requester_is_refused_and_a_colleague_approves():
    clerk, colleague, player = make_staff(StaffRole.FINANCE), make_staff(StaffRole.ADMIN), make_player()
    own, second_tab = api_session(clerk), api_session(clerk)
    body = {"player_id": player.pk, "amount": 30_000, "reason_code": "correction", "reason": "PSP statement"}

    created = api_post(own, "adjustments", body, **{"Idempotency-Key": "req-1"})
    assert created.status_code == 201, created.json()
    answer = created.json()
    expected = {
        "status": "pending", "needs_approval": True, "amount": 30_000, "currency": "EUR",
        "requested_by": clerk.username, "decided_by": None, "transaction_id": None,
    }  # fmt: skip
    assert {name: answer[name] for name in expected} == expected
    again = api_post(own, "adjustments", body, **{"Idempotency-Key": "req-1"})
    assert (again.status_code, again.json()["id"]) == (201, answer["id"])

    for path in (f"adjustments/{answer['id']}/approve", f"adjustments/{answer['id']}/reject"):
        refused = api_post(second_tab, path, {"reason": "mine"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FOUR_EYES_REQUIRED"), path
    assert not Transaction.objects.exists()

    approved = api_post(api_session(colleague), f"adjustments/{answer['id']}/approve")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", colleague.username)
    assert approved.json()["transaction_id"] == str(Transaction.objects.get().pk)
    assert selectors.get_wallet_state(player.pk).cash == 30_000
    late = api_post(api_session(make_staff(StaffRole.FINANCE)), f"adjustments/{answer['id']}/reject", {"reason": "x"})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "ADJUSTMENT_NOT_PENDING")
    assert_trails_clean()


def test_api_below_the_threshold_posts_at_once_and_a_rejection_needs_a_reason():
    clerk, player = make_staff(StaffRole.FINANCE), make_player()
    small = api_post(api_session(clerk), "adjustments", {"player_id": player.pk, "amount": 500,
                     "reason_code": "goodwill", "reason": "sorry"}, **{"Idempotency-Key": "s"})  # fmt: skip
    assert (small.status_code, small.json()["status"]) == (201, "approved")
    assert small.json()["transaction_id"] == str(Transaction.objects.get().pk)

    big = api_post(api_session(clerk), "adjustments", {"player_id": player.pk, "amount": -10_000,
                   "reason_code": "chargeback_fee", "reason": "fee"}, **{"Idempotency-Key": "b"})  # fmt: skip
    colleague = api_session(make_staff(StaffRole.FINANCE))
    blank = api_post(colleague, f"adjustments/{big.json()['id']}/reject", {"reason": ""})
    assert (blank.status_code, blank.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    rejected = api_post(colleague, f"adjustments/{big.json()['id']}/reject", {"reason": "fee waived"})
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["decision_reason"]) == (
        200, "rejected", "fee waived",
    )  # fmt: skip
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"player_id": 1, "amount": 0, "reason_code": "test", "reason": "x"}, {"Idempotency-Key": "k"}, 400,
         "INVALID_REQUEST"),
        ({"player_id": 1, "amount": 5, "reason_code": "bribe", "reason": "x"}, {"Idempotency-Key": "k"}, 400,
         "INVALID_REQUEST"),
        ({"player_id": 1, "amount": 5, "reason_code": "test", "reason": "x"}, {}, 400, "INVALID_REQUEST"),
        ({"player_id": 999999, "amount": 5, "reason_code": "test", "reason": "x"}, {"Idempotency-Key": "k"}, 404,
         "UNKNOWN_PLAYER"),
    ],
)  # fmt: skip
def test_api_bad_requests_get_the_error_shape(body, headers, status, code):
    response = api_post(api_session(make_staff(StaffRole.FINANCE)), "adjustments", body, **headers)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not AdjustmentRequest.objects.exists()


def test_api_needs_a_staff_session_with_csrf_and_the_permission():
    player = make_player()
    body = {"player_id": player.pk, "amount": 5, "reason_code": "test", "reason": "x"}
    anonymous = api_post(Client(enforce_csrf_checks=True), "adjustments", body, **{"Idempotency-Key": "k"})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")

    no_token = Client(enforce_csrf_checks=True)
    no_token.force_login(make_staff(StaffRole.FINANCE))
    forged = api_post(no_token, "adjustments", body, **{"Idempotency-Key": "k"})
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "PERMISSION_DENIED")

    for role in (StaffRole.SUPPORT, StaffRole.COMPLIANCE):
        refused = api_post(api_session(make_staff(role)), "adjustments", body, **{"Idempotency-Key": "k"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "PERMISSION_DENIED"), role
    player_client = api_session(player.user)
    assert api_post(player_client, "adjustments", body, **{"Idempotency-Key": "k"}).status_code == 403
    assert not AdjustmentRequest.objects.exists()


def test_api_withdrawal_four_eyes_and_decisions():
    a_provider()
    clerk, colleague = make_staff(StaffRole.FINANCE), make_staff(StaffRole.FINANCE)
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000, acting_user=clerk)
    other = request_withdrawal(player, 150_000)

    refused = api_post(api_session(clerk), f"withdrawals/{waiting.public_id}/approve")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FOUR_EYES_REQUIRED")
    support = api_post(api_session(make_staff(StaffRole.SUPPORT)), f"withdrawals/{waiting.public_id}/approve")
    assert (support.status_code, support.json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    unknown = api_post(api_session(colleague), "withdrawals/wd_nope/approve")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "NOT_FOUND")

    approved = api_post(api_session(colleague), f"withdrawals/{waiting.public_id}/approve")
    assert (approved.status_code, approved.json()["status"], approved.json()["approved_by"]) == (
        200, "approved", colleague.username,
    )  # fmt: skip
    twice = api_post(api_session(colleague), f"withdrawals/{waiting.public_id}/reject", {"reason": "late"})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "WITHDRAWAL_NOT_AWAITING_APPROVAL")

    rejected = api_post(api_session(colleague), f"withdrawals/{other.public_id}/reject", {"reason": "docs"})
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["reason"]) == (200, "cancelled", "docs")
    actions = set(StaffAction.objects.values_list("action", flat=True))
    assert {"payments.withdrawal.approve", "payments.withdrawal.reject"} <= actions
    assert_trails_clean()
