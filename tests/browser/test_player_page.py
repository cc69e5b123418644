"""The player page in a real browser: Debian's chromium, driven by Playwright, against PAM served
by uvicorn on a real port, on this run's test database and Redis.

The balance changes without a reload after a bet made through the wallet API; after the server
side closes the socket (the server is stopped and a new one started on the same port), the page
reconnects, resumes from the version it holds (so a bet committed while it was cut off appears),
and goes on with live frames. And when WebSockets keep failing, the page polls and then goes back
to the socket.

Never a browser that Playwright downloads: `make test` installs Debian's chromium with apt-get
where it is missing, and this test fails (never skips) if it is not there.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.tests.factories import PASSWORD, make_player
from apps.common.idempotency import ExternalRef
from apps.games import services as games
from apps.wallet import services as wallet
from apps.wallet.api.signature import signature_of
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.support import ROOT, clean_env, free_port, stop, wait_for_http

UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
PROVIDER, SECRET = "browser-games", "browser-secret-0123456789"
START = 10_000  # the player's cash at the start, in minor units (100.00 EUR)

# transaction=True: the server is another process, so the data must be committed.
# serialized_rollback=True: the seeded rows (currencies, staff groups) are restored first.
# production_password_hashers: the server runs in its own process, with the settings' hashers.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


def _test_database_url() -> str:
    """The URL of the database pytest-django created for this run (not the developer's)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Server:
    """PAM under uvicorn on a fixed port, which a restart keeps (the page reconnects to it)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None
        self.env = clean_env(
            DATABASE_URL=_test_database_url(),
            REDIS_URL=os.environ["REDIS_URL"],
            PAM_ENV="dev",
            LOG_LEVEL="WARNING",
            # One key for both processes: without it each dev process makes its own, and the
            # session cookie of the first would not log the player in on the second.
            SECRET_KEY=secrets.token_urlsafe(50),
        )

    def start(self) -> None:
        args = [str(UVICORN), "pam.asgi:application", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [*args, "--workers", "1", "--lifespan", "off", "--no-access-log"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_http(f"{self.base_url}/healthz", self.process)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"the server did not start: {exc}\n{self.tail()}", pytrace=False)

    def stop(self) -> None:
        """Ends the process: every socket it held is closed on the server side."""
        if self.process is not None:
            stop(self.process)
            self.process = None

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    assert UVICORN.is_file(), f"{UVICORN} is missing: create the virtualenv first (make test does)"
    running = Server(tmp_path / "server.log")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def player() -> Player:
    """A funded player and the provider that bets for it, committed before the browser starts
    (Playwright's sync API runs an event loop in this thread, where the ORM refuses to run)."""
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = make_player(username=f"browser{uuid.uuid4().hex[:8]}")
    wallet.adjust_balance(player_id=player.pk, amount=START, reason="test funds", acting_user=None)
    return player


def place_bet(server: Server, player: Player, amount: int) -> dict:
    """A bet through the signed wallet API (shared/contracts/wallet-api.md), which must pass."""
    status, answer = call_bet(server, player, amount)
    assert status == 200, answer
    return answer


def call_bet(server: Server, player: Player, amount: int) -> tuple[int, dict]:
    """A bet through the signed wallet API: its HTTP status and its answer."""
    body = json.dumps(
        {
            "player_id": player.public_id,
            "currency": "EUR",
            "amount": amount,
            "transaction_id": f"tx-{uuid.uuid4().hex}",
            "round_id": f"round-{uuid.uuid4().hex[:8]}",
            "game_id": "slot-1",
        }
    ).encode()
    request = urllib.request.Request(
        f"{server.base_url}/api/wallet/v1/bet",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Provider": PROVIDER,
            "X-Signature": signature_of(SECRET, "bet", body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def in_a_thread(work) -> None:
    """Database work of the test's own, in a thread of its own: the ORM refuses this thread while
    Playwright's event loop runs in it."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the database work did not finish within 60 s"
    assert failures == []


def place_bet_in_the_database(player: Player, amount: int) -> None:
    """A bet committed while no server runs, through the service."""
    in_a_thread(
        lambda: wallet.place_bet(
            player_id=player.pk,
            currency="EUR",
            amount=amount,
            ref=ExternalRef(f"provider:{PROVIDER}", f"tx-{uuid.uuid4().hex}", "fingerprint"),
            round_id="round-offline",
            game_id="slot-1",
        )
    )


def log_in(page, server: Server, player: Player) -> None:
    page.goto(f"{server.base_url}/")
    assert page.url == f"{server.base_url}/login/?next=/"
    page.fill("input[name=username]", player.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    try:
        page.wait_for_url(f"{server.base_url}/")
    except playwright_api().Error:
        pytest.fail(f"login failed at {page.url}:\n{page.inner_text('body')}\n{server.tail()}", pytrace=False)


def test_balance_changes_live_and_after_the_server_closes_the_socket(server, player):
    expect = playwright_api().expect
    with chromium_page() as page:
        # Polling is cut off in this test, so what the page shows after the restart can only
        # have come through the socket; the frames the page sends are recorded.
        page.route("**/api/player/v1/wallet/events*", lambda route: route.abort())
        sent: list[dict] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
        log_in(page, server, player)
        balance, status = page.locator("#balance"), page.locator("#connection-status")
        expect(balance).to_have_text("100.00")
        expect(status).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        # A reload would drop this marker, so finding it at the end proves the page never reloaded.
        page.evaluate("window.__noReload = true")

        # A bet through the wallet API shows at once, with its row.
        assert place_bet(server, player, 250)["version"] == 2
        expect(balance).to_have_text("97.50", timeout=WAIT_MS)
        expect(page.locator('#transactions tr[data-version="2"] td').nth(2)).to_have_text("-2.50")

        # The server side closes the socket: the process ends. A bet is committed while the page
        # is cut off; a new server starts on the same port.
        server.stop()
        expect(status).not_to_have_attribute("data-status", "live", timeout=WAIT_MS)
        place_bet_in_the_database(player, 500)
        server.start()

        # The page reconnects and resumes from version 2: the missed bet is replayed from the
        # ledger (its row appears, which the hello alone could not produce).
        expect(status).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        expect(balance).to_have_text("92.50", timeout=WAIT_MS)
        expect(page.locator('#transactions tr[data-version="3"] td').nth(2)).to_have_text("-5.00")
        assert {"type": "resume", "since_version": 2} in sent

        # And a bet through the new server arrives live.
        assert place_bet(server, player, 125)["version"] == 4
        expect(balance).to_have_text("91.25", timeout=WAIT_MS)
        expect(page.locator("#cash")).to_have_text("91.25")
        assert page.locator("#transactions tr").count() == 4  # the funding and three bets, once each
        assert page.evaluate("window.__noReload") is True, "the page reloaded"


def test_page_polls_when_websockets_fail_and_goes_back_to_the_socket(server, player):
    expect = playwright_api().expect
    with chromium_page() as page:
        sockets = {"allowed": False}

        def route(ws) -> None:
            # Blocked: the page's socket opens and is closed at once, before any hello; every
            # attempt fails that way until the test lets them through to the server.
            if sockets["allowed"]:
                ws.connect_to_server()
            else:
                ws.close(code=1011, reason="blocked by the test")

        page.route_web_socket("**/ws/player/", route)
        log_in(page, server, player)
        balance, status = page.locator("#balance"), page.locator("#connection-status")
        page.evaluate("window.__noReload = true")

        expect(status).to_have_attribute("data-status", "polling", timeout=WAIT_MS)
        place_bet(server, player, 300)
        expect(balance).to_have_text("97.00", timeout=WAIT_MS)
        expect(page.locator('#transactions tr[data-version="2"] td').nth(2)).to_have_text("-3.00")

        sockets["allowed"] = True
        expect(status).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        place_bet(server, player, 100)
        expect(balance).to_have_text("96.00", timeout=WAIT_MS)
        assert page.locator("#transactions tr").count() == 3
        assert page.evaluate("window.__noReload") is True, "the page reloaded"


def test_a_reality_check_pauses_play_until_the_player_continues(server, player):
    expect = playwright_api().expect
    with chromium_page() as page:
        log_in(page, server, player)  # the login starts the play session
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)

        # The session's interval has passed: the next bet is taken and its commit sends the check.
        in_a_thread(lambda: Player.objects.filter(pk=player.pk).update(reality_check_due_at=timezone.now()))
        place_bet(server, player, 100)
        notice = page.locator('#notices li[data-kind="reality_check"]')
        expect(notice).to_contain_text("Acknowledge to continue playing", timeout=WAIT_MS)
        status, answer = call_bet(server, player, 100)
        assert (status, answer["error"]["code"]) == (403, "LIMIT_REACHED")

        notice.locator("button[data-action=acknowledge]").click()
        expect(notice).to_have_attribute("data-acknowledged", "true", timeout=WAIT_MS)
        assert place_bet(server, player, 100)["version"] == 3
        expect(page.locator("#balance")).to_have_text("98.00", timeout=WAIT_MS)
