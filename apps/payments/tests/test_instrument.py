"""A deposit's payment instrument: the sandbox PSP's webhook carries the card's fingerprint (a
keyed hash, in the sandbox's own `metadata`), payments stores it on the deposit with the credit
and sends `payments.deposit_instrument_seen` in the same transaction; the card number is never
stored anywhere."""

from __future__ import annotations

import json

import pytest

from apps.common.models import OutboxEvent
from apps.payments.adapters import sandbox
from apps.payments.choices import DepositStatus, EventType
from apps.payments.models import DepositIntent, WebhookEvent
from apps.payments.tests.factories import a_provider, assert_audit_clean, event, post_webhook, start_deposit
from apps.payments.tests.factories import verified_player as a_player

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def instrument_events() -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(name="payments.deposit_instrument_seen").order_by("pk")]


def stored_text() -> str:
    """Every row a deposit's webhook writes, as text: where a card number would show if kept."""
    rows = [*DepositIntent.objects.values(), *WebhookEvent.objects.values(), *OutboxEvent.objects.values()]
    return json.dumps(rows, default=str)


def test_a_paid_deposit_stores_the_cards_fingerprint_and_sends_it_with_the_credit():
    player = a_player()
    deposit = start_deposit(player, 5_000)
    body = sandbox.deposit_event(deposit, sandbox.CARD_SUCCEEDS)

    assert post_webhook(body).json() == {"status": "applied"}

    deposit.refresh_from_db()
    fingerprint = sandbox.card_fingerprint(sandbox.CARD_SUCCEEDS)
    assert len(fingerprint) == 64
    assert (deposit.status, deposit.instrument_fingerprint) == (DepositStatus.SUCCEEDED, fingerprint)
    assert [(e["player_id"], e["deposit_id"], e["fingerprint"]) for e in instrument_events()] == [
        (str(player.pk), deposit.public_id, fingerprint)]  # fmt: skip
    assert sandbox.CARD_SUCCEEDS not in stored_text()
    assert_audit_clean()


def test_one_card_has_one_fingerprint_and_another_card_another():
    first, second, third = (start_deposit(a_player(), 1_000) for _ in range(3))
    for deposit, card in ((first, sandbox.CARD_SUCCEEDS), (second, sandbox.CARD_SUCCEEDS),
                          (third, sandbox.CARD_SUCCEEDS_LATE)):  # fmt: skip
        post_webhook(sandbox.deposit_event(deposit, card))

    prints = [DepositIntent.objects.get(pk=d.pk).instrument_fingerprint for d in (first, second, third)]
    assert prints[0] == prints[1] != prints[2]
    assert all(prints)


def test_a_redelivered_success_sends_the_instrument_once():
    deposit = start_deposit(a_player(), 5_000)
    body = sandbox.deposit_event(deposit, sandbox.CARD_SUCCEEDS)

    answers = [post_webhook(body).json()["status"] for _ in range(2)]

    assert answers == ["applied", "duplicate"]
    assert len(instrument_events()) == 1


def test_a_declined_card_and_a_psp_without_a_fingerprint_store_none_and_send_nothing():
    declined = start_deposit(a_player(), 5_000)
    plain = start_deposit(a_player(), 5_000)

    post_webhook(sandbox.deposit_event(declined, sandbox.CARD_DECLINED))
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, plain.public_id, 5_000))  # the contract's body alone

    assert [DepositIntent.objects.get(pk=d.pk).instrument_fingerprint for d in (declined, plain)] == ["", ""]
    assert instrument_events() == []
    assert sandbox.CARD_DECLINED not in stored_text()


def test_a_malformed_fingerprint_is_not_stored():
    deposit = start_deposit(a_player(), 5_000)
    body = sandbox.deposit_event(deposit, sandbox.CARD_SUCCEEDS)
    body["metadata"]["instrument_fingerprint"] = sandbox.CARD_SUCCEEDS  # a PSP that sends the number itself

    assert post_webhook(body).json() == {"status": "applied"}

    assert DepositIntent.objects.get(pk=deposit.pk).instrument_fingerprint == ""
    assert instrument_events() == []
