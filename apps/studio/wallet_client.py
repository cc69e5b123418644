"""The studio's client of the seamless wallet API (contracts/wallet-api.md): signed HTTP calls with
the studio's own provider credentials, exactly as an external provider makes them.

Every call is idempotent on the wallet's side (its `transaction_id`), so a call that got no answer
(a timeout, a dropped connection, a 5xx) is sent again with the very same bytes: the wallet moves
the money once and answers the retry with the first call's answer. What the wallet refuses (a 4xx)
is an answer, not a failure, and is returned to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)

ATTEMPTS = 3  # sends of one call before it is given up (the round stays open for recovery)
RETRY_DELAY = 0.2  # seconds before the second send, doubling after
TIMEOUT = httpx.Timeout(10.0, connect=2.0)


class WalletUnavailable(Exception):
    """No answer from the wallet after every attempt: the call may or may not have moved money,
    so the caller keeps the round open for recovery (which sends the same call again)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def code(self) -> str:
        """The error code of a refusal ("" on success)."""
        error = self.body.get("error")
        return error.get("code", "") if isinstance(error, dict) else ""


def signature(secret: str, operation: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), operation.encode() + b"\n" + raw, hashlib.sha256).hexdigest()


def _request(operation: str, body: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Provider": settings.STUDIO_PROVIDER_CODE,
        "X-Signature": signature(settings.STUDIO_PROVIDER_SECRET, operation, raw),
    }
    return f"{settings.STUDIO_WALLET_URL.rstrip('/')}/api/wallet/v1/{operation}", raw, headers


def _answer(response: httpx.Response) -> Answer | None:
    """The wallet's answer, or None when the call must be sent again (5xx, or not the wallet's JSON)."""
    if response.status_code >= 500:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return Answer(response.status_code, body) if isinstance(body, dict) else None


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings of every client: httpx's defaults (its CA bundle, verification on), made once
    per process. A client made without one builds its own, and loading the CA bundle costs 10 to
    100 ms of CPU: paid by every round and every launch, which make a client each (`scoped`)."""
    return httpx.create_ssl_context()


class WalletClient:
    """One pooled connection set per event loop (httpx's async client is bound to its loop)."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(timeout=TIMEOUT, transport=transport, verify=_tls())

    async def call(self, operation: str, body: dict[str, Any]) -> Answer:
        url, raw, headers = _request(operation, body)
        delay = RETRY_DELAY
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = _answer(await self._http.post(url, content=raw, headers=headers))
            except httpx.HTTPError as exc:
                answer = None
                logger.info("studio.wallet_call_failed", operation=operation, attempt=attempt, error=repr(exc))
            if answer is not None:
                return answer
            if attempt < ATTEMPTS:
                await asyncio.sleep(delay)
                delay *= 2
        raise WalletUnavailable(f"{operation}: no answer from the wallet after {ATTEMPTS} attempts")

    async def aclose(self) -> None:
        await self._http.aclose()


_clients: dict[int, WalletClient] = {}


def client() -> WalletClient:
    """The running loop's client (made on first use)."""
    loop = asyncio.get_running_loop()
    found = _clients.get(id(loop))
    if found is None:
        found = _clients[id(loop)] = WalletClient()
    return found


@contextlib.asynccontextmanager
async def scoped() -> AsyncIterator[WalletClient]:
    """A client for one piece of work (a round, a launch), closed when it is done. PAM serves HTTP
    through Django's WSGI handler (pam/asgi.py), where each async view runs in an event loop of its
    own that ends with the request: a client kept per loop would keep that loop's connections open
    for good."""
    wallet = WalletClient()
    try:
        yield wallet
    finally:
        await wallet.aclose()


def call_sync(operation: str, body: dict[str, Any]) -> Answer:
    """The same call from sync code (management commands, the recovery sweep)."""
    url, raw, headers = _request(operation, body)
    with httpx.Client(timeout=TIMEOUT, verify=_tls()) as http:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = _answer(http.post(url, content=raw, headers=headers))
            except httpx.HTTPError as exc:
                answer = None
                logger.info("studio.wallet_call_failed", operation=operation, attempt=attempt, error=repr(exc))
            if answer is not None:
                return answer
    raise WalletUnavailable(f"{operation}: no answer from the wallet after {ATTEMPTS} attempts")
