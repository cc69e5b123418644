"""The sandbox PSP's hosted page without a live server: what it shows, and that it is off when
`PSP_SANDBOX_ENABLED` is (production's default), since its test cards credit real money."""

from __future__ import annotations

import pytest

from apps.payments.delivery import worker
from apps.payments.tests.factories import a_provider, start_deposit, verified_player

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
