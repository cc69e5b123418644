"""Payments test data and the PSP's side of a webhook, built through the services and the HTTP
endpoint the product uses."""

from __future__ import annotations

import json
import secrets
import time

from django.test import Client
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.choices import KycStatus
from apps.accounts.models import Player
from apps.common.timestamps import iso_utc
from apps.payments import services
from apps.payments.models import DepositIntent, PaymentProvider, Withdrawal
from apps.payments.signature import signed_headers
from apps.wallet import selectors as wallet_selectors
from apps.wallet.audit import run_audit
from apps.wallet.models import Account
from apps.wallet.tests.factories import funded_player

SECRET = "whsec-test-0123456789abcdef"
PROVIDER = "sandbox"
WEBHOOK = "/api/payments/v1/webhooks/{provider}"


def a_provider(code: str = PROVIDER, secret: str = SECRET, **fields) -> PaymentProvider:
    provider = services.save_provider(code=code, webhook_secret=secret)
    if fields:
        PaymentProvider.objects.filter(pk=provider.pk).update(**fields)
        provider.refresh_from_db()
    return provider


def verified_player(cash: int = 0, currency: str = "EUR", **overrides) -> Player:
    """A KYC-verified player with `cash` minor units (an operator adjustment)."""
    player = funded_player(cash, currency=currency, **overrides)
    accounts.set_kyc_status(player_id=player.pk, kyc_status=KycStatus.VERIFIED, reason="test")
    player.refresh_from_db()
    return player


def start_deposit(player: Player, amount: int, provider: str = PROVIDER, key: str | None = None) -> DepositIntent:
    started = services.start_deposit(
        player=player, amount=amount, currency=player.currency_id, provider_code=provider,
        idempotency_key=key or secrets.token_hex(8),
    )  # fmt: skip
    return started.payment


def request_withdrawal(player: Player, amount: int, provider: str = PROVIDER, **kwargs) -> Withdrawal:
    started = services.request_withdrawal(
        player=player, amount=amount, currency=player.currency_id, provider_code=provider,
        idempotency_key=kwargs.pop("key", None) or secrets.token_hex(8), **kwargs,
    )  # fmt: skip
    return started.payment


def event(kind: str, reference: str, amount: int, currency: str = "EUR", event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or f"evt_{secrets.token_hex(8)}",
        "type": kind,
        "reference": reference,
        "amount": amount,
        "currency": currency,
        "occurred_at": iso_utc(timezone.now()),
    }


def post_webhook(
    body: dict | bytes,
    *,
    provider: str = PROVIDER,
    secret: str = SECRET,
    timestamp: int | None = None,
    headers: dict | None = None,
    client: Client | None = None,
):
    """Deliver `body` as the PSP does: signed, over the test client (a real request through
    Django's stack). `headers` replace the signed ones (forgeries)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signed = signed_headers(secret, raw, int(time.time()) if timestamp is None else timestamp)
    sent = {**signed, **(headers or {})}
    return (client or Client()).post(
        WEBHOOK.format(provider=provider),
        data=raw,
        content_type="application/json",
        headers={name: value for name, value in sent.items() if value is not None},
    )


def cash(player: Player) -> int:
    return wallet_selectors.get_wallet_state(player.pk).cash


def account_balance(player: Player, kind: str) -> int:
    """The stored balance of one of the player's ledger accounts (0 if it was never opened)."""
    account = Account.objects.filter(player=player, kind=kind).first()
    return 0 if account is None else account.balance


def assert_audit_clean() -> None:
    assert {name: found for name, found in run_audit().items() if found} == {}
