"""The studio's rounds end to end over real HTTP: pytest-django's live server (on this run's test
database) serves both the studio's pages and API and the wallet API the studio calls, with a small
front server in between that counts the studio's wallet calls and, when told, loses them: it drops
a call (the wallet never sees it) or swallows its answer (the wallet moved the money, the studio
hears nothing), as a crash or a network fault would."""

from __future__ import annotations

import http.server
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from django.conf import settings

from apps.common import launch
from apps.games.services import issue_launch_token, save_provider
from apps.studio import wallet_client
from apps.wallet.models import Transaction
from tests.support import serve_in_thread

KEY = re.compile(r'data-session-key="([^"]+)"')


class Front(http.server.ThreadingHTTPServer):
    """Between the studio and the wallet: forwards every call, counting it by operation; the
    operations in `drop` are answered 503 without reaching the wallet, those in `swallow` reach it
    and are answered 503 all the same."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        self.target = target
        self.calls: Counter[str] = Counter()
        self.drop: set[str] = set()
        self.swallow: set[str] = set()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: Front
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        operation = self.path.rsplit("/", 1)[-1]
        with self.server._lock:
            self.server.calls[operation] += 1
        if operation in self.server.drop:
            self._answer(503, b'{"error": "dropped"}')
            return
        headers = {name: self.headers[name] for name in ("Content-Type", "X-Provider", "X-Signature")}
        request = urllib.request.Request(self.server.target + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                status, content = answer.status, answer.read()
        except urllib.error.HTTPError as refusal:
            status, content = refusal.code, refusal.read()
        if operation in self.server.swallow:
            self._answer(503, b'{"error": "swallowed"}')
            return
        self._answer(status, content)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@dataclass
class Studio:
    url: str  # the live server: the studio's pages and API, and the wallet API
    front: Front
    provider: object

    def launch_url(
        self,
        player,
        game_code: str = "pam-slot",
        *,
        min_cycle_ms: int = 0,
        autoplay: bool = True,
        session_info: bool = True,
    ) -> str:
        """The signed launch URL that PAM's launch service would hand the player's browser."""
        token = issue_launch_token(player=player, provider=self.provider)
        params = {
            "token": token,
            "jurisdiction": "mt",
            "min_cycle_ms": str(min_cycle_ms),
            "autoplay": "1" if autoplay else "0",
            "session_info": "1" if session_info else "0",
        }
        query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, game_code, params)
        return f"{self.url}/studio/play/{game_code}/?{query}"

    def launch(self, player, game_code: str = "pam-slot", **rules) -> httpx.Response:
        return httpx.get(self.launch_url(player, game_code, **rules), timeout=30)

    def session(self, player, game_code: str = "pam-slot", **rules) -> str:
        """A launched session's key, as the game's page holds it."""
        page = self.launch(player, game_code, **rules)
        assert page.status_code == 200, page.text
        return KEY.search(page.text).group(1)

    def round(self, key: str, body: dict, client: httpx.Client | None = None) -> httpx.Response:
        post = (client or httpx).post
        return post(f"{self.url}/studio/api/sessions/{key}/rounds", json=body, timeout=60)


@pytest.fixture
def studio(live_server, settings, monkeypatch):
    monkeypatch.setattr(wallet_client, "RETRY_DELAY", 0)
    front = Front(live_server.url)
    thread = serve_in_thread(front)
    settings.STUDIO_WALLET_URL = front.url
    provider = save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    try:
        yield Studio(live_server.url.replace("localhost", "127.0.0.1"), front, provider)
    finally:
        front.shutdown()
        front.server_close()
        thread.join(timeout=10)


def ledger(round_id: str) -> list[tuple[str, int]]:
    """The wallet's transactions for a round: (kind, amount), in order."""
    rows = Transaction.objects.filter(round_id=round_id).order_by("pk").values_list("kind", "amount")
    return list(rows)
