"""The crash room's page (apps/studio/templates/studio/crash.html and studio/crash.js) in Debian's
chromium, frame by frame, against a scripted socket that speaks the room's protocol
(docs/crash-room.md).

No server: the template is rendered here as views.play renders it, Playwright answers every
request of the page (the static files are read from the tree), the page's WebSocket is replaced
by a fake the test drives, and Playwright's clock runs the timers (countdown, backoff).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from apps.studio.models import Session
from tests.browser.chromium import chromium_browser, page_of
from tests.browser.test_realtime_client import FAKE_SOCKET, ScriptedSockets  # what both pages run on
from tests.support import ROOT

ORIGIN = "http://pam.test"
X = "\N{MULTIPLICATION SIGN}"  # the page shows 2.12x with the true sign
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
KEY = "ss_test-session-key"
STATIC = {
    "/static/studio/crash.js": ("text/javascript", ROOT / "apps" / "studio" / "static" / "studio" / "crash.js"),
    "/static/studio/crash.css": ("text/css", ROOT / "apps" / "studio" / "static" / "studio" / "crash.css"),
    "/static/css/site.css": ("text/css", ROOT / "static" / "css" / "site.css"),
}
pytestmark = pytest.mark.timeout(120)

# FAKE_SOCKET (tests/browser/test_realtime_client.py's): a WebSocket the test drives, `_open()`,
# `_frame(obj)`, `_closed(code)`; what the page sends is kept, parsed, in `sent`.


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def render_page(*, show_session_info: bool = True, balance: int = 10_000) -> str:
    session = Session(
        currency="EUR", game_code="pam-crash", show_session_info=show_session_info, autoplay_allowed=False
    )
    game = SimpleNamespace(code="pam-crash", name="PAM Crash", game_type="crash")
    return render_to_string(
        "studio/crash.html", {"game": game, "session": session, "session_key": KEY, "balance": balance}
    )


def snapshot(phase: str = "betting", *, number: int = 7, closes_in_s: float = 5, bets=None, you_bet=None, **round_):
    now = START + dt.timedelta(minutes=1)
    return {
        "type": "crash.snapshot",
        "round": {
            "number": number,
            "phase": phase,
            "betting_closes_at": iso(now + dt.timedelta(seconds=closes_in_s)),
            "started_at": None if phase == "betting" else iso(now),
            "multiplier_x100": round_.get("multiplier_x100", 100),
            "crash_x100": round_.get("crash_x100"),
        },
        "bets": bets or [],
        "commitment": "ab" * 32,
        "you": {
            "player": "Player 4f2a",
            "balance": 10_000,
            "bet": you_bet,
            "net_position": -250,
            "elapsed_seconds": 65,
            "show_session_info": True,
        },
        "server_time": iso(now),
    }


class Room(ScriptedSockets):
    """The page, its sockets and the clock, seen from the test."""

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    def attr(self, selector: str, name: str) -> str | None:
        return self.page.locator(selector).get_attribute(name)

    def socket_url(self, index: int = -1) -> str:
        return self.page.evaluate(f"window.sockets.at({index}).url")

    def connected(self, frame: dict | None = None) -> None:
        self.open()
        self.frame(frame or snapshot())


def open_room(page, html: str) -> Room:
    def answer(route) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/studio/play/pam-crash/":
            return route.fulfill(status=200, content_type="text/html", body=html)
        if path in STATIC:
            content_type, file = STATIC[path]
            return route.fulfill(status=200, content_type=content_type, body=file.read_text())
        return route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", answer)
    page.add_init_script(FAKE_SOCKET)
    # The page's clock stands still from before it loads: only run_for() moves it.
    page.clock.install(time=START)
    page.clock.pause_at(START + dt.timedelta(minutes=1))
    page.goto(f"{ORIGIN}/studio/play/pam-crash/?token=x")
    page.wait_for_function("window.crashRoom !== undefined", polling=50)
    return Room(page)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One chromium for the module (nothing here touches the database); each test has a fresh
    context of its own."""
    with chromium_browser() as running:
        yield running


@pytest.fixture
def room(browser) -> Iterator[Room]:
    html = render_page()
    with page_of(browser) as page:
        yield open_room(page, html)


def test_the_page_connects_with_its_session_key_and_applies_the_snapshot(room):
    assert room.attr("#crash-room", "data-session-key") == KEY
    assert room.socket_url() == f"ws://pam.test/ws/studio/crash/?session={KEY}"
    assert room.attr("#crash-status", "data-status") == "connecting"
    assert room.page.locator("#crash-bet").is_disabled()

    bets = [{"player": "Player 0001", "stake": 500, "cashout_x100": None, "win": None}]
    room.connected(snapshot(bets=bets))

    assert room.attr("#crash-status", "data-status") == "live"
    assert room.attr("#crash-phase", "data-phase") == "betting"
    assert room.text("#crash-round") == "7"
    assert room.text("#crash-countdown") == "Bets close in 5.0 s"
    assert room.text("#crash-balance") == "100.00"
    assert room.text("#crash-commitment") == "ab" * 32
    assert room.attr("#crash-bets li[data-player]", "data-player") == "Player 0001"
    assert room.page.locator("#crash-bet").is_enabled()
    assert room.page.locator("#crash-cashout").is_hidden()
    # The session bar: the snapshot's net position and time played, the time counting on.
    assert room.text("#crash-net") == "-2.50"
    assert room.text("#crash-elapsed") == "1:05"
    room.run_for(2000)
    assert room.text("#crash-elapsed") == "1:07"
    assert room.text("#crash-countdown") == "Bets close in 3.0 s"
    assert room.sent() == []  # a first connection needs no request: the server sent the snapshot


def test_a_round_bet_cash_out_crash_and_settlement(room):
    room.connected()
    room.page.fill("#crash-stake", "2.50")
    room.page.click("#crash-bet")

    [bet] = room.sent()
    assert (bet["type"], bet["stake"]) == ("bet", 250)
    assert bet["request_id"]
    assert room.page.locator("#crash-bet").is_disabled()  # one bet in flight at a time
    room.frame({"type": "crash.bet_accepted", "request_id": bet["request_id"], "number": 7, "balance": 9_750})
    room.frame({"type": "crash.bet", "number": 7, "player": "Player 4f2a", "stake": 250})
    room.frame({"type": "crash.bet", "number": 7, "player": "Player 0001", "stake": 100})

    assert room.text("#crash-balance") == "97.50"
    assert room.text("#crash-net") == "-5.00"
    assert room.page.locator("#crash-bet").is_disabled()  # one bet a round
    assert room.attr("#crash-bets li[data-you='true']", "data-stake") == "250"
    assert room.page.locator("#crash-bets li[data-player]").count() == 2

    room.frame({"type": "crash.started", "number": 7, "started_at": iso(START + dt.timedelta(minutes=1))})
    room.frame({"type": "crash.tick", "number": 7, "multiplier_x100": 123, "elapsed_ms": 3400})
    assert room.attr("#crash-phase", "data-phase") == "running"
    assert room.text("#crash-multiplier") == "1.23" + X
    assert room.attr("#crash-multiplier", "data-x100") == "123"
    assert room.page.locator("#crash-countdown").is_hidden()
    assert room.page.locator("#crash-cashout").is_visible()
    assert room.text("#crash-cashout") == "Cash out 3.07 EUR"  # 250 * 123 // 100

    room.page.click("#crash-cashout")
    cashout = room.sent()[-1]
    assert cashout["type"] == "cashout"
    assert cashout["request_id"] != bet["request_id"]
    room.frame({
        "type": "crash.cashed_out", "request_id": cashout["request_id"], "number": 7,
        "cashout_x100": 150, "win": 375, "balance": 10_125,
    })  # fmt: skip
    room.frame({"type": "crash.cashout", "number": 7, "player": "Player 4f2a", "cashout_x100": 150, "win": 375})
    assert room.text("#crash-balance") == "101.25"
    assert room.text("#crash-net") == "-1.25"
    assert room.page.locator("#crash-cashout").is_hidden()
    assert room.attr("#crash-bets li[data-you='true']", "data-win") == "375"

    room.frame({"type": "crash.crashed", "number": 7, "crash_x100": 212, "seed": "cd" * 32})
    assert room.attr("#crash-phase", "data-phase") == "crashed"
    assert room.page.locator("#crash-result").is_visible()
    assert room.text("#crash-point") == "2.12" + X
    assert room.text("#crash-seed") == "cd" * 32
    assert room.attr("#crash-verify-link", "href") == "/studio/crash/verify/?q=7"
    assert "won 3.75 EUR" in room.text("#crash-outcome")

    room.frame({
        "type": "crash.settled", "number": 7,
        "results": [
            {"player": "Player 4f2a", "stake": 250, "cashout_x100": 150, "win": 375},
            {"player": "Player 0001", "stake": 100, "cashout_x100": None, "win": 0},
        ],
    })  # fmt: skip
    assert room.attr("#crash-bets li[data-player='Player 0001']", "data-win") == "0"
    assert "lost" in room.text("#crash-bets li[data-player='Player 0001']")

    # The next round: the list empties, the Bet button comes back, the result goes.
    closes = START + dt.timedelta(minutes=1, seconds=5)
    room.frame({"type": "crash.betting", "number": 8, "betting_closes_at": iso(closes)})
    assert room.page.locator("#crash-message").text_content() == ""  # the last round's answer goes too
    assert room.text("#crash-round") == "8"
    assert room.page.locator("#crash-bets li").count() == 0
    assert room.page.locator("#crash-result").is_hidden()
    assert room.page.locator("#crash-bet").is_enabled()


def test_a_refusal_is_shown_with_its_code_and_a_bad_stake_is_never_sent(room):
    room.connected()
    for typed in ("abc", "0", "1.234", "-1", ""):
        room.page.fill("#crash-stake", typed)
        room.page.click("#crash-bet")
        assert room.attr("#crash-message", "data-code") == "INVALID_STAKE", typed
        assert room.attr("#crash-stake", "aria-invalid") == "true"
    assert room.sent() == []

    room.page.fill("#crash-stake", "1,5")
    room.page.click("#crash-bet")
    [bet] = room.sent()
    assert bet["stake"] == 150
    room.frame({"type": "crash.refused", "request_id": bet["request_id"], "code": "INSUFFICIENT_FUNDS", "message": "x"})
    assert room.attr("#crash-message", "data-code") == "INSUFFICIENT_FUNDS"
    assert "balance is too low" in room.text("#crash-message")
    assert room.page.locator("#crash-bet").is_enabled()  # nothing staked: another try is allowed

    room.run_for(5000)  # the window closes on the server's clock
    assert room.text("#crash-countdown") == "Bets closed"
    assert room.page.locator("#crash-bet").is_disabled()


def test_frames_of_a_round_never_seen_ask_for_a_snapshot_and_old_ones_are_ignored(room):
    room.connected()
    room.frame({"type": "crash.bet", "number": 6, "player": "Player 0001", "stake": 100})  # an old round
    assert room.page.locator("#crash-bets li").count() == 0
    assert room.sent() == []

    room.frame({"type": "crash.tick", "number": 9, "multiplier_x100": 300, "elapsed_ms": 1})  # 8 was missed
    assert room.sent() == [{"type": "snapshot"}]
    room.frame({"type": "crash.tick", "number": 9, "multiplier_x100": 301, "elapsed_ms": 2})
    assert room.sent() == [{"type": "snapshot"}]  # at most one a second

    late = snapshot("running", number=9, multiplier_x100=301, you_bet={"stake": 400, "cashout_x100": None, "win": None})
    room.frame(late)
    assert room.text("#crash-round") == "9"
    assert room.text("#crash-multiplier") == "3.01" + X
    assert room.page.locator("#crash-cashout").is_visible()  # the snapshot's own bet


def test_it_reconnects_with_backoff_and_asks_for_a_snapshot(room):
    room.connected()
    room.close(1006)
    assert room.attr("#crash-status", "data-status") == "reconnecting"
    assert room.page.locator("#crash-bet").is_disabled()
    assert room.sockets() == 1

    room.run_for(1000)  # the first retry is within 0.5 to 1 s
    assert room.sockets() == 2
    room.open()
    assert room.sent() == [{"type": "snapshot"}]
    room.frame(snapshot("running", multiplier_x100=180))
    assert room.attr("#crash-status", "data-status") == "live"
    assert room.text("#crash-multiplier") == "1.80" + X

    # A socket that never gives a snapshot is given up after 10 s and tried again.
    room.close(1012)
    room.run_for(1000)
    room.open()
    room.run_for(10_000)
    assert room.sockets() == 3
    assert room.attr("#crash-status", "data-status") == "reconnecting"
    room.run_for(2000)
    assert room.sockets() >= 4


def test_a_session_the_room_refuses_stops_the_page(room):
    room.close(4403)
    room.run_for(60_000)
    assert room.sockets() == 1
    assert room.attr("#crash-status", "data-status") == "stopped"
    assert "open the game again" in room.text("#crash-status")


def test_a_room_that_cannot_be_reached_says_so_after_three_tries(room):
    # A session refused at the handshake reaches the page as a plain failure (1006), as does a
    # server that is down: after three in a row the player is told what may help.
    for attempt in range(3):
        assert room.sockets() == attempt + 1
        room.close(1006)
        room.run_for(4000)
    assert room.attr("#crash-status", "data-status") == "unreachable"
    assert "open the game again" in room.text("#crash-status")

    room.connected()  # and a later success clears it
    assert room.attr("#crash-status", "data-status") == "live"


def test_the_multiplier_is_announced_at_a_sane_rate(room):
    room.connected(snapshot("running"))
    announced = []
    for n in range(50):  # five seconds of ticks
        room.frame({"type": "crash.tick", "number": 7, "multiplier_x100": 100 + n, "elapsed_ms": n * 100})
        announced.append(room.text("#crash-announce"))
        room.run_for(100)
    assert room.attr("#crash-announce", "aria-live") == "polite"
    assert room.attr("#crash-multiplier", "aria-hidden") == "true"
    assert len(set(announced)) <= 3  # the snapshot's line, then at most one every 3 s


def test_without_session_info_there_is_no_session_bar(browser):
    html = render_page(show_session_info=False)
    assert 'id="crash-session"' not in html
    assert f'data-session-key="{KEY}"' in html
    with page_of(browser) as page:
        room = open_room(page, html)
        room.connected()
        assert room.page.locator("#crash-session").count() == 0
        assert room.attr("#crash-phase", "data-phase") == "betting"


def test_the_page_passes_axe(room):
    from axe_playwright_python.sync_playwright import Axe

    room.connected(snapshot(bets=[{"player": "Player 0001", "stake": 500, "cashout_x100": None, "win": None}]))
    room.page.clock.resume()  # axe-core waits on timers of its own
    result = Axe().run(room.page)
    assert result.violations_count == 0, json.dumps(result.response["violations"], indent=1)[:4000]
