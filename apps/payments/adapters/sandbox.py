"""PAM's own PSP for trying the cashier without a real one: a hosted payment page under
`/sandbox-psp/` (sandbox_views.py) with test cards, and signed webhooks delivered over HTTP by
the delivery worker (delivery.py), late, retried, as a real PSP sends them.

Test cards (any expiry, any CVC):
- 4242 4242 4242 4242 succeeds: `deposit.succeeded` is sent at once;
- 4000 0000 0000 0002 is declined: `deposit.failed`;
- 4000 0000 0000 3220 succeeds late: `deposit.succeeded` is sent `PSP_SANDBOX_LATE_SECONDS`
  after the player is back on the site.
A deposit event carries the card's fingerprint in the sandbox's own `metadata` (the contract has no
field for it): `{"metadata": {"instrument_fingerprint": "<64 hex>"}}`, the HMAC-SHA256 of the card
number under the server's `IDENTITY_HASH_KEY` (`card_fingerprint`). The number itself is never
sent, stored or logged: the hosted page's form is the only place it exists.
Approved withdrawals are paid by themselves (`payout.succeeded`) unless `PSP_SANDBOX_AUTOPAY` is
false; then payout events come only from outside (tests post them). `PSP_SANDBOX_ENABLED` (off
in production by default) turns the hosted page and the automatic payouts off: a test card
credits real ledger money.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.common.identity import identity_hash
from apps.common.timestamps import iso_utc
from apps.payments.adapters.base import PaymentAdapter, WebhookEvent
from apps.payments.choices import EventType
from apps.payments.delivery import Outcome, worker

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_SUCCEEDS_LATE = "4000000000003220"
TEST_CARDS = {
    CARD_SUCCEEDS: "succeeds",
    CARD_DECLINED: "is declined",
    CARD_SUCCEEDS_LATE: "succeeds late (the webhook follows the player back to the site)",
}


def webhook_url(provider_code: str, base_url: str | None = None) -> str:
    """Where the sandbox sends its webhooks: `PSP_SANDBOX_WEBHOOK_URL` (with `{provider}`
    replaced), else the webhook endpoint on `base_url` (the server the hosted page was served
    by), else on `PSP_SANDBOX_PAM_BASE_URL`."""
    if settings.PSP_SANDBOX_WEBHOOK_URL:
        return settings.PSP_SANDBOX_WEBHOOK_URL.replace("{provider}", provider_code)
    path = reverse("payments-webhook", kwargs={"provider": provider_code})
    return (base_url or settings.PSP_SANDBOX_PAM_BASE_URL).rstrip("/") + path


def return_url(deposit_id: str) -> str:
    """Where the hosted page sends the player back to (the site's cashier page)."""
    return settings.PSP_SANDBOX_RETURN_URL.replace("{deposit_id}", quote(deposit_id))


def event(kind: str, reference: str, amount: int, currency: str) -> dict:
    return {
        "event_id": f"evt_{secrets.token_hex(12)}",
        "type": kind,
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "occurred_at": iso_utc(timezone.now()),
    }


METADATA = "metadata"
FINGERPRINT = "instrument_fingerprint"
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def card_fingerprint(card: str) -> str:
    """What the sandbox PSP tells PAM of a card: a keyed hash of its number, the same for every
    payment with that card and of no use to anyone without the key."""
    return identity_hash("sandbox-psp.card", card)


def deposit_event(intent, card: str) -> dict:
    """The webhook body the card calls for: succeeded or declined, with the card's fingerprint."""
    kind = EventType.DEPOSIT_FAILED if card == CARD_DECLINED else EventType.DEPOSIT_SUCCEEDED
    body = event(kind, intent.public_id, intent.amount, intent.currency_id)
    body[METADATA] = {FINGERPRINT: card_fingerprint(card)}
    return body


class SandboxAdapter(PaymentAdapter):
    def start_deposit(self, intent) -> str:
        return reverse("sandbox-psp-checkout", kwargs={"deposit_id": intent.public_id})

    def start_payout(self, withdrawal) -> None:
        if not (settings.PSP_SANDBOX_ENABLED and settings.PSP_SANDBOX_AUTOPAY):
            return
        self.send(
            event(EventType.PAYOUT_SUCCEEDED, withdrawal.public_id, withdrawal.amount, withdrawal.currency_id),
            delay=settings.PSP_SANDBOX_LATE_SECONDS,
        )

    def pay_with_card(self, intent, card: str, base_url: str | None = None) -> Outcome:
        """What the hosted page does on submit: the webhook the card calls for, sent by the
        worker (at once, or late)."""
        delay = settings.PSP_SANDBOX_LATE_SECONDS if card == CARD_SUCCEEDS_LATE else 0.0
        return self.send(deposit_event(intent, card), base_url, delay)

    def instrument_fingerprint(self, event: WebhookEvent) -> str:
        metadata = event.body.get(METADATA)
        fingerprint = metadata.get(FINGERPRINT) if isinstance(metadata, dict) else None
        return fingerprint if isinstance(fingerprint, str) and _FINGERPRINT.match(fingerprint) else ""

    def send(self, body: dict, base_url: str | None = None, delay: float = 0.0) -> Outcome:
        url = webhook_url(self.provider.code, base_url)
        return worker.enqueue(url=url, secret=self.provider.webhook_secret, event=body, delay=delay)
