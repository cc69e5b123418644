"""The studio's wallet client: signed like any provider's call, and sent again with the very same
bytes when no answer came (the wallet's idempotency makes that safe)."""

import json

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
