"""The interface a payment provider's adapter implements, and the webhook event it yields.

An adapter speaks to one kind of PSP: it starts a deposit (the URL of the PSP's hosted payment
page the player is sent to), starts the payout of an approved withdrawal, and turns a webhook
request into an authentic, parsed `WebhookEvent`, or refuses it. It never moves money or writes
PAM's records: services.py does, from what the adapter returns. The default
`verify_and_parse_webhook` is the contract's (contracts/payments.md: HMAC-SHA256 of
`timestamp.body`, a 300 s window, the contract's JSON body); a PSP with its own scheme
overrides it and maps its events to the same `WebhookEvent`.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.common.money import MAX_AMOUNT
from apps.payments import errors
from apps.payments.signature import check_signature

if TYPE_CHECKING:
    from apps.payments.models import DepositIntent, PaymentProvider, Withdrawal


@dataclass(frozen=True)
class WebhookEvent:
    """An authentic event of the PSP, in the contract's terms."""

    event_id: str
    type: str
    reference: str
    amount: int
    currency: str
    occurred_at: dt.datetime
    body: dict


class PaymentAdapter(ABC):
    def __init__(self, provider: PaymentProvider) -> None:
        self.provider = provider

    @abstractmethod
    def start_deposit(self, intent: DepositIntent) -> str:
        """The URL of the PSP's hosted payment page for `intent` (the player is sent there)."""

    @abstractmethod
    def start_payout(self, withdrawal: Withdrawal) -> None:
        """Ask the PSP to pay an approved `withdrawal`; its outcome arrives as a payout webhook.
        Called after the approval has committed; must not block for long."""

    def instrument_fingerprint(self, event: WebhookEvent) -> str:
        """The fingerprint of the payment instrument (card, account) a deposit event was paid
        with: a keyed hash the PSP computes, never the number itself; "" when the PSP gives none.
        The contract has no field for it: each adapter reads its PSP's own place for it."""
        return ""

    def verify_and_parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> WebhookEvent:
        """The authentic event in `raw_body`. Raises InvalidSignature (checked before anything
        is parsed) or InvalidWebhook (authentic, but not an event of the contract)."""
        check_signature(headers, self.provider.webhook_secret, raw_body)
        return parse_event(raw_body)


def _text(body: dict, name: str, max_length: int = 100) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or not value.isprintable():
        raise errors.InvalidWebhook(f"`{name}` must be a string of 1 to {max_length} printable characters.")
    return value


def parse_event(raw_body: bytes) -> WebhookEvent:
    """The contract's body: `event_id`, `type`, `reference`, `amount`, `currency`, `occurred_at`
    (other fields are kept, not read). Raises InvalidWebhook for any other shape; a `type` other
    than the contract's is not checked here (`services.receive_webhook` ignores it)."""
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidWebhook("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise errors.InvalidWebhook("The body is not a JSON object.")
    # A type the contract does not name passes, in an event of the contract's shape: the service
    # answers it `ignored` (a PSP that adds a kind of news must not retry it forever).
    kind = _text(body, "type", 32)
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise errors.InvalidWebhook("`amount` must be a positive integer of minor units.")
    currency = _text(body, "currency", 3)
    if len(currency) != 3 or not currency.isascii() or not currency.isupper():
        raise errors.InvalidWebhook("`currency` must be an ISO 4217 code.")
    try:
        occurred_at = dt.datetime.fromisoformat(_text(body, "occurred_at", 40).replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidWebhook("`occurred_at` must be an ISO 8601 time.") from None
    if occurred_at.tzinfo is None:
        raise errors.InvalidWebhook("`occurred_at` must say its offset (UTC).")
    return WebhookEvent(
        event_id=_text(body, "event_id"),
        type=kind,
        reference=_text(body, "reference"),
        amount=amount,
        currency=currency,
        occurred_at=occurred_at,
        body=body,
    )
