"""The ledger in the back office: read-only, and adjustments only through the service."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.wallet import selectors
from apps.wallet.models import Transaction

pytestmark = pytest.mark.django_db


def form(amount: str, reason: str, key: str, code: str = "test") -> dict:
    return {"amount": amount, "reason_code": code, "reason": reason, "idempotency_key": key * 32}


def adjust_url(player) -> str:
    return f"/backoffice/wallet/account/adjust/{player.pk}/"


def test_finance_adjusts_a_balance_once_even_if_the_form_is_sent_twice(client):
    finance, player = make_staff(StaffRole.FINANCE), make_player()
    client.force_login(finance)
    form = {"amount": "2500", "reason_code": "goodwill", "reason": "after outage", "idempotency_key": "k" * 32}

    first = client.post(adjust_url(player), form)
    again = client.post(adjust_url(player), form)

    assert first.status_code == again.status_code == 302
    tx = Transaction.objects.get()
    assert (tx.kind, tx.amount, tx.reason, tx.acting_user) == ("adjustment", 2500, "goodwill: after outage", finance)
    assert selectors.get_wallet_state(player.pk).cash == 2500


def test_adjustment_that_would_go_negative_is_refused_in_the_form(client):
    client.force_login(make_staff(StaffRole.FINANCE))
    player = make_player()
    response = client.post(adjust_url(player), form("-1", "x", "a", "correction"))
    assert response.status_code == 200
    assert b"INSUFFICIENT_FUNDS" in response.content
    assert not Transaction.objects.exists()


def test_support_may_not_adjust(client):
    client.force_login(make_staff(StaffRole.SUPPORT))
    player = make_player()
    assert client.get(adjust_url(player)).status_code == 403
    refused = client.post(adjust_url(player), form("5", "x", "b"))
    assert refused.status_code == 403
    assert not Transaction.objects.exists()


def test_ledger_rows_are_read_only_in_the_admin(client):
    admin, player = make_staff(StaffRole.ADMIN), make_player()
    client.force_login(admin)
    client.post(adjust_url(player), form("100", "seed", "c"))
    tx = Transaction.objects.get()

    page = client.get(f"/backoffice/wallet/transaction/{tx.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/backoffice/wallet/transaction/{tx.pk}/change/", {"amount": "999"}).status_code == 403
    assert client.get(f"/backoffice/wallet/transaction/{tx.pk}/delete/").status_code == 403
    assert client.get("/backoffice/wallet/transaction/add/").status_code == 403
    assert client.get("/backoffice/wallet/account/").status_code == 200
    assert client.get("/backoffice/wallet/entry/").status_code == 200
    Transaction.objects.get(pk=tx.pk, amount=100)
