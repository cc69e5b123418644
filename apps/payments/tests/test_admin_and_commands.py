"""The back office's approval queue (finance decides, four eyes, through the services) and the
sandbox set-up commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.accounts.choices import KycStatus, StaffRole
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_staff
from apps.compliance.models import StaffAction
from apps.payments import services
from apps.payments.models import PaymentProvider, Withdrawal
from apps.payments.tests.factories import a_provider, cash, request_withdrawal, verified_player

pytestmark = pytest.mark.django_db

QUEUE = "/backoffice/payments/withdrawalawaitingapproval/"


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def act(client, action: str, withdrawal: Withdrawal, reason: str = ""):
    form = {"action": action, "_selected_action": [withdrawal.pk], "reason": reason}
    return client.post(QUEUE, form, follow=True)


def test_the_queue_lists_only_withdrawals_awaiting_approval(client):
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    approved = request_withdrawal(player, 1_000)
    client.force_login(make_staff(StaffRole.FINANCE))

    page = client.get(QUEUE)

    assert page.status_code == 200
    assert waiting.public_id.encode() in page.content
    assert approved.public_id.encode() not in page.content


def test_finance_approves_from_the_queue_through_the_service(client):
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    finance = make_staff(StaffRole.FINANCE)
    client.force_login(finance)

    act(client, "approve", waiting)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.approved_by) == ("approved", finance)
    assert StaffAction.objects.filter(action=services.WITHDRAWAL_APPROVE, actor=finance).count() == 1
    assert not StaffAction.objects.filter(action__startswith="admin.action").exists()  # the service recorded it


def test_the_queue_refuses_self_approval_with_the_code(client):
    player = verified_player(500_000)
    clerk = make_staff(StaffRole.FINANCE)
    waiting = request_withdrawal(player, 200_000, acting_user=clerk)
    client.force_login(clerk)

    page = act(client, "approve", waiting)

    assert b"FOUR_EYES_REQUIRED" in page.content
    assert Withdrawal.objects.get(pk=waiting.pk).status == "awaiting_approval"


def test_finance_rejects_with_a_reason_and_the_money_goes_back(client):
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    client.force_login(make_staff(StaffRole.FINANCE))

    without = act(client, "reject", waiting)
    assert b"A rejection needs a reason." in without.content
    act(client, "reject", waiting, reason="source of funds unclear")

    waiting.refresh_from_db()
    assert (waiting.status, waiting.reason, cash(player)) == ("cancelled", "source of funds unclear", 500_000)


def test_support_sees_withdrawals_but_cannot_decide(client):
    player = verified_player(500_000)
    waiting = request_withdrawal(player, 200_000)
    client.force_login(make_staff(StaffRole.SUPPORT))

    assert client.get("/backoffice/payments/withdrawal/").status_code == 200
    assert client.get(QUEUE).status_code == 403
    act(client, "approve", waiting)
    assert Withdrawal.objects.get(pk=waiting.pk).status == "awaiting_approval"


def test_deposits_and_webhook_records_are_read_only(client):
    client.force_login(make_staff(StaffRole.ADMIN))
    assert client.get("/backoffice/payments/depositintent/add/").status_code == 403
    assert client.get("/backoffice/payments/webhookevent/add/").status_code == 403


def test_payment_provider_command_creates_then_updates_and_prints_the_code():
    out = io.StringIO()
    call_command("payment_provider", "acme-psp", "--webhook-secret", "first-secret-0123", stdout=out)
    call_command("payment_provider", "acme-psp", "--webhook-secret", "second-secret-0123", stdout=out)

    assert out.getvalue().splitlines()[-1] == "acme-psp"
    provider = PaymentProvider.objects.get(code="acme-psp")
    assert (provider.webhook_secret, provider.adapter, provider.enabled) == ("second-secret-0123", "sandbox", True)


def test_ensure_sandbox_provider_creates_it_once_with_a_generated_secret():
    PaymentProvider.objects.all().delete()

    first = services.ensure_sandbox_provider()
    again = services.ensure_sandbox_provider()

    assert (first.pk, first.code, again.webhook_secret) == (again.pk, "sandbox", first.webhook_secret)
    assert len(first.webhook_secret) >= 32


def test_create_player_with_kyc_verified():
    out = io.StringIO()
    call_command("create_player", "kim", "--password", "correct-horse-battery-9", "--kyc", "verified", stdout=out)

    player = Player.objects.get(user__username="kim")
    assert (out.getvalue().splitlines()[-1], player.kyc_status) == (player.public_id, KycStatus.VERIFIED)
    assert StaffAction.objects.get(action="player.kyc").after == {"kyc_status": "verified"}


def test_a_providers_webhook_secret_is_redacted_in_the_staff_trail(client):
    admin = make_staff(StaffRole.ADMIN)
    client.force_login(admin)
    form = {"code": "acme-psp", "name": "Acme", "adapter": "sandbox", "webhook_secret": "s3cret-0123456789",
            "min_deposit": "100", "max_deposit": "100000", "enabled": "on"}  # fmt: skip

    answer = client.post("/backoffice/payments/paymentprovider/add/", form)

    assert answer.status_code == 302
    assert PaymentProvider.objects.get(code="acme-psp").webhook_secret == "s3cret-0123456789"
    record = StaffAction.objects.get(action="admin.add", target_type="payments.paymentprovider")
    assert (record.actor, record.after["webhook_secret"], record.after["code"]) == (admin, "[redacted]", "acme-psp")


def test_a_verified_player_of_create_players_default_brand_withdraws_up_to_1000_by_itself():
    from apps.payments.tests.factories import a_provider, request_withdrawal
    from apps.wallet import services as wallet

    a_provider()
    out = io.StringIO()
    call_command("create_player", "sam", "--password", "correct-horse-battery-9", "--kyc", "verified", stdout=out)
    player = Player.objects.select_related("brand").get(user__username="sam")
    wallet.adjust_balance(player_id=player.pk, amount=300_000, reason="test funding", acting_user=None)

    within, above = request_withdrawal(player, 100_000), request_withdrawal(player, 100_001)

    assert (player.brand.code, player.kyc_status) == ("sandbox", KycStatus.VERIFIED)
    assert (within.status, above.status) == ("approved", "awaiting_approval")
