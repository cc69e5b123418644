"""The studio's wallet client: signed like any provider's call, and sent again with the very same
bytes when no answer came (the wallet's idempotency makes that safe)."""

import json
import ssl

import httpx
import pytest
from django.test import override_settings

from apps.studio import wallet_client
from apps.studio.wallet_client import WalletClient, WalletUnavailable

pytestmark = pytest.mark.usefixtures("no_retry_delay")


@pytest.fixture
def no_retry_delay(monkeypatch):
    monkeypatch.setattr(wallet_client, "RETRY_DELAY", 0)


@override_settings(STUDIO_PROVIDER_CODE="studio-x", STUDIO_PROVIDER_SECRET="s3cret", STUDIO_WALLET_URL="http://w/")
async def test_a_call_is_signed_and_resent_identically_until_answered():
    seen: list[httpx.Request] = []
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(200, text="not json"),
            httpx.Response(402, json={"error": {"code": "INSUFFICIENT_FUNDS"}}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    client = WalletClient(transport=httpx.MockTransport(handler))
    answer = await client.call("bet", {"player_id": "7", "amount": 100})
    await client.aclose()

    assert (answer.status, answer.code, answer.ok) == (402, "INSUFFICIENT_FUNDS", False)
    assert len(seen) == 3
    assert len({r.content for r in seen}) == 1
    request = seen[0]
    assert str(request.url) == "http://w/api/wallet/v1/bet"
    assert request.headers["X-Provider"] == "studio-x"
    assert request.headers["X-Signature"] == wallet_client.signature("s3cret", "bet", request.content)
    assert json.loads(request.content) == {"player_id": "7", "amount": 100}


async def test_no_answer_after_every_attempt_is_raised():
    client = WalletClient(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    with pytest.raises(WalletUnavailable):
        await client.call("win", {"amount": 0})
    await client.aclose()


async def test_clients_share_one_tls_context_made_once(monkeypatch):
    # Each round and each launch makes a client (`scoped`); building TLS settings loads the CA
    # bundle, 10 to 100 ms of CPU, so they are made once per process and shared.
    wallet_client._tls()
    made = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: made.append(1) or real(*a, **k))

    for _ in range(3):
        async with wallet_client.scoped():
            pass

    assert made == []
    assert wallet_client._tls() is wallet_client._tls()
    assert wallet_client._tls().verify_mode == ssl.CERT_REQUIRED  # httpx's default: verified
