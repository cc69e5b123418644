"""The sandbox PSP's hosted page without a live server: what it shows, and that it is off when
`PSP_SANDBOX_ENABLED` is (production's default), since its test cards credit real money."""

from __future__ import annotations

import pytest

from apps.common.errors import InvalidRequest
from apps.payments import services
from apps.payments.adapters.sandbox import CARD_DECLINED
from apps.payments.delivery import worker
from apps.payments.models import DepositIntent, WebhookEvent
from apps.payments.tests.factories import a_provider, assert_audit_clean, cash, start_deposit, verified_player

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def test_the_page_shows_the_deposit_and_the_test_cards(client):
    deposit = start_deposit(verified_player(), 5_000)

    page = client.get(f"/sandbox-psp/checkout/{deposit.public_id}")

    assert page.status_code == 200
    for shown in (
        deposit.public_id,
        "<strong>50.00 EUR</strong>",
        "4242 4242 4242 4242",
        "4000 0000 0000 0002",
        "4000 0000 0000 3220",
    ):
        assert shown.encode() in page.content


def test_the_page_is_off_when_the_sandbox_is(client, settings):
    settings.PSP_SANDBOX_ENABLED = False
    deposit = start_deposit(verified_player(), 5_000)
    sent = dict(worker.outcomes)

    assert client.get(f"/sandbox-psp/checkout/{deposit.public_id}").status_code == 404
    assert (
        client.post(f"/sandbox-psp/checkout/{deposit.public_id}", {"card_number": "4242424242424242"}).status_code
        == 404
    )
    assert worker.outcomes == sent


def test_an_unknown_deposit_has_no_page(client):
    assert client.get("/sandbox-psp/checkout/dep_nothing").status_code == 404


def test_a_card_paid_in_process_is_the_webhook_the_page_would_have_sent_applied_once():
    player = verified_player()
    paid, declined = start_deposit(player, 5_000), start_deposit(player, 7_000)

    assert services.pay_in_sandbox(deposit=paid) == "applied"
    assert services.pay_in_sandbox(deposit=declined, card=CARD_DECLINED) == "applied"
    assert services.pay_in_sandbox(deposit=paid) == "ignored"  # another event for a deposit credited already

    assert cash(player) == 5_000
    statuses = dict(DepositIntent.objects.values_list("public_id", "status"))
    assert statuses == {paid.public_id: "succeeded", declined.public_id: "failed"}
    assert sorted(WebhookEvent.objects.values_list("type", "verdict")) == [
        ("deposit.failed", "applied"), ("deposit.succeeded", "applied"), ("deposit.succeeded", "ignored"),
    ]  # fmt: skip
    assert_audit_clean()


def test_no_card_is_paid_in_process_when_the_sandbox_is_off(settings):
    deposit = start_deposit(verified_player(), 5_000)
    settings.PSP_SANDBOX_ENABLED = False

    with pytest.raises(InvalidRequest):
        services.pay_in_sandbox(deposit=deposit)

    assert DepositIntent.objects.get(pk=deposit.pk).status == "pending"
    assert not WebhookEvent.objects.exists()
