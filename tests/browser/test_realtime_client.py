"""static/js/pam-realtime.js on its own, in Debian's chromium: the client side of
contracts/realtime.md, frame by frame, against a scripted WebSocket and scripted polling answers.

No server: Playwright answers every request of the page (the module is read from the tree), the
page's WebSocket is replaced by a fake the test drives, and Playwright's clock runs the timers, so
backoff and polling are checked without waiting for them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from tests.browser.chromium import chromium_browser, page_of
from tests.support import ROOT

ORIGIN = "http://pam.test"
CLIENT = ROOT / "static" / "js" / "pam-realtime.js"
pytestmark = pytest.mark.timeout(120)

PAGE = """<!doctype html><html><body><script type="module">
import { connectWallet, backoffDelay } from "/static/js/pam-realtime.js";
window.log = { states: [], transactions: [], notices: [], statuses: [] };
window.backoffDelay = backoffDelay;
window.start = (options = {}) => {
  window.client = connectWallet({
    ...options,
    onState: (state) => log.states.push(state.version),
    onTransaction: (transaction, frame) => log.transactions.push(frame.version),
    onNotice: (frame) => log.notices.push(frame.kind),
    onStatus: (status) => log.statuses.push(status),
  });
};
window.ready = true;
</script></body></html>"""

# A WebSocket the test drives: `_open()`, `_frame(obj)`, `_closed(code)`; what the client sends
# is kept, parsed, in `sent`. Every socket the client makes is in `window.sockets`, in order.
FAKE_SOCKET = """
window.sockets = [];
class FakeSocket {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; window.sockets.push(this); }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code = 1000) { this._closed(code); }
  _open() { this.readyState = 1; if (this.onopen) this.onopen({}); }
  _frame(frame) { if (this.onmessage) this.onmessage({ data: JSON.stringify(frame) }); }
  _closed(code) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (this.onclose) this.onclose({ code });
  }
}
window.WebSocket = FakeSocket;
"""


def state(version: int, balance: int = 1000) -> dict:
    return {"version": version, "balance": balance, "cash": balance, "bonus": 0, "currency": "EUR"}


def hello(version: int, balance: int = 1000) -> dict:
    return {"type": "hello", "player_id": "7", **state(version, balance)}


def updated(version: int, balance: int = 1000) -> dict:
    transaction = {
        "id": f"t{version}",
        "kind": "bet",
        "amount": -1,
        "game_id": "g",
        "created_at": "2026-01-01T00:00:00Z",
    }
    return {"type": "wallet.updated", **state(version, balance), "transaction": transaction}


class ScriptedSockets:
    """A page's FAKE_SOCKETs and its clock, driven by the test."""

    def __init__(self, page) -> None:
        self.page = page

    def sockets(self) -> int:
        return self.page.evaluate("window.sockets.length")

    def open(self, index: int = -1) -> None:
        self.page.evaluate(f"window.sockets.at({index})._open()")

    def frame(self, frame: dict, index: int = -1) -> None:
        self.page.evaluate(f"frame => window.sockets.at({index})._frame(frame)", frame)

    def close(self, code: int, index: int = -1) -> None:
        self.page.evaluate(f"code => window.sockets.at({index})._closed(code)", code)

    def sent(self, index: int = -1) -> list[dict]:
        return self.page.evaluate(f"window.sockets.at({index}).sent")

    def run_for(self, ms: int) -> None:
        self.page.clock.run_for(ms)


class Client(ScriptedSockets):
    """The page, its sockets and the polling answers, seen from the test."""

    def __init__(self, page) -> None:
        super().__init__(page)
        self.polls: list[str] = []  # the paths polled, in order
        self.answers: dict[str, tuple[int, dict]] = {}  # path -> (status, body) for the next polls

    def start(self, **options) -> None:
        self.page.evaluate("options => window.start(options)", options)

    def log(self, name: str) -> list:
        return self.page.evaluate(f"window.log.{name}")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One chromium for the module (nothing here touches the database); each test has a fresh
    context of its own."""
    with chromium_browser() as running:
        yield running


@pytest.fixture
def client(browser) -> Iterator[Client]:
    with page_of(browser) as page:
        driver = Client(page)

        def answer(route) -> None:
            path = route.request.url.removeprefix(ORIGIN)
            if path == "/":
                return route.fulfill(status=200, content_type="text/html", body=PAGE)
            if path == "/static/js/pam-realtime.js":
                return route.fulfill(status=200, content_type="text/javascript", body=CLIENT.read_text())
            if path.startswith("/api/player/v1/"):
                driver.polls.append(path.removeprefix("/api/player/v1"))
                key = path.removeprefix("/api/player/v1").split("?")[0]
                status, body = driver.answers.get(key, (503, {}))
                return route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
            return route.fulfill(status=404, body="")

        page.route(f"{ORIGIN}/**", answer)
        page.add_init_script(FAKE_SOCKET)
        # The page's clock stands still from here on: only run_for() moves it.
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        page.clock.install(time=start)
        page.goto(f"{ORIGIN}/")
        page.wait_for_function("window.ready === true")
        page.clock.pause_at(start + dt.timedelta(minutes=1))
        yield driver


def test_backoff_doubles_from_one_second_to_thirty_with_jitter(client):
    delays = client.page.evaluate(
        "[1, 2, 3, 5, 6, 7, 20].map(n => [backoffDelay(n, () => 0), backoffDelay(n, () => 1)])"
    )

    # Drawn between half the ceiling and the ceiling; the ceiling doubles from 1 s up to 30 s.
    assert delays == [
        [500, 1000],
        [1000, 2000],
        [2000, 4000],
        [8000, 16000],
        [15000, 30000],
        [15000, 30000],
        [15000, 30000],
    ]


def test_frames_apply_in_version_order_and_a_gap_sends_resume(client):
    client.start()
    client.open()
    client.frame(hello(5))
    client.frame(updated(6))
    client.frame(updated(6))  # a duplicate: ignored
    client.frame(updated(4))  # an old one: ignored
    assert client.log("states") == [5, 6]
    assert client.log("transactions") == [6]
    assert client.sent() == []  # the first hello of a client holding nothing needs no resume

    client.frame(updated(8))  # 7 is missing: 8 is not applied, resume from 6 is sent

    assert client.sent() == [{"type": "resume", "since_version": 6}]
    assert client.log("states") == [5, 6]
    client.frame(updated(7))  # the replay, then the live 8 again: each applied once
    client.frame(updated(8))
    client.frame(updated(8))
    assert client.log("transactions") == [6, 7, 8]
    assert client.log("statuses") == ["connecting", "live"]


def test_heartbeat_above_the_held_version_sends_resume(client):
    client.start()
    client.open()
    client.frame(hello(3))

    client.frame({"type": "heartbeat", "version": 3})
    client.frame({"type": "heartbeat", "version": 5})

    assert client.sent() == [{"type": "resume", "since_version": 3}]


def test_resync_replaces_the_state_and_notice_goes_to_its_callback(client):
    client.start()
    client.open()
    client.frame(hello(3))

    client.frame({"type": "resync", **state(600, 42), "reason": "gap_too_old"})
    client.frame(updated(599))  # older than the snapshot: ignored
    client.frame(updated(601))
    client.frame({"type": "notice", "kind": "reality_check", "message": "You have played 1 hour.", "data": {}})

    assert client.log("states") == [3, 600, 601]
    assert client.log("transactions") == [601]
    assert client.log("notices") == ["reality_check"]
    assert client.page.evaluate("window.client.version") == 601


def test_reconnects_after_a_drop_and_resumes_from_the_held_version(client):
    client.start()
    client.open()
    client.frame(hello(5))

    client.close(1006)
    assert client.log("statuses")[-1] == "reconnecting"
    client.run_for(1_000)  # the first retry comes within 1 s (drawn from 500 ms up to, not including, 1 s)
    assert client.sockets() == 2
    client.open()
    client.frame(hello(7))

    # The hello of a reconnect is not applied: what was missed is asked for and replayed.
    assert client.sent() == [{"type": "resume", "since_version": 5}]
    assert client.log("states") == [5]
    client.frame(updated(6))
    client.frame(updated(7))
    assert client.log("transactions") == [6, 7]
    assert client.log("statuses") == ["connecting", "live", "reconnecting", "live"]


def test_a_socket_without_hello_is_given_up_after_ten_seconds(client):
    client.start()  # the handshake never completes
    client.run_for(9_999)
    assert client.page.evaluate("window.sockets[0].readyState") == 0

    client.run_for(1)
    assert client.page.evaluate("window.sockets[0].readyState") == 3
    client.run_for(1_000)  # a failed attempt: retried within 1 s
    assert client.sockets() == 2


def test_a_page_rendered_at_a_version_resumes_from_it(client):
    client.start(version=9)
    client.open()

    client.frame(hello(11))

    assert client.sent() == [{"type": "resume", "since_version": 9}]


@pytest.mark.parametrize(("code", "status"), [(4401, "unauthenticated"), (4403, "forbidden")])
def test_4401_and_4403_stop_the_client_without_retrying(client, code, status):
    client.start()
    client.open()

    client.close(code)
    client.run_for(120_000)

    assert client.log("statuses") == ["connecting", status]
    assert client.sockets() == 1
    assert client.polls == []


def test_a_live_socket_closed_4401_is_tried_once_more_and_goes_on_if_still_signed_in(client):
    """The browser's session may have been renewed (a password changed in another tab): the
    socket of the old one closes 4401, and a new one with the browser's cookie is served."""
    client.start()
    client.open()
    client.frame(hello(3))

    client.close(4401)
    client.run_for(0)
    client.open()
    client.frame(hello(4))

    assert client.sockets() == 2
    assert client.sent() == [{"type": "resume", "since_version": 3}]
    assert client.log("statuses") == ["connecting", "live", "reconnecting", "live"]


def test_a_live_socket_closed_4401_stops_the_client_when_the_next_attempt_is_refused_too(client):
    client.start()
    client.open()
    client.frame(hello(3))
    client.close(4401)
    client.run_for(0)

    client.open()
    client.close(4401)
    client.run_for(120_000)

    assert client.sockets() == 2
    assert client.log("statuses") == ["connecting", "live", "reconnecting", "unauthenticated"]
    assert client.polls == []


def test_backoff_grows_while_attempts_keep_failing(client):
    client.start()
    waits = []
    for attempt in range(1, 7):
        client.close(1006)  # refused before opening
        before = client.sockets()
        # No retry before half the ceiling, one by the ceiling (1 s, 2 s, 4 s, ... 30 s).
        ceiling = min(30_000, 1000 * 2 ** (attempt - 1))
        client.run_for(ceiling // 2 - 1)
        waits.append(client.sockets() - before)
        client.run_for(ceiling // 2 + 1)
        assert client.sockets() == before + 1, f"attempt {attempt + 1} did not come within {ceiling} ms"
    assert waits == [0, 0, 0, 0, 0, 0]


def test_falls_back_to_polling_and_goes_back_to_the_socket(client):
    client.answers["/wallet"] = (200, {"player_id": "7", **state(5)})
    client.answers["/wallet/events"] = (200, {"frames": [updated(6), updated(7)]})
    client.start()
    for _ in range(3):  # three attempts in a row fail: polling starts
        client.close(1006)
        client.run_for(4_000)

    client.page.wait_for_function("window.log.transactions.length === 2")
    assert client.log("statuses")[-1] == "polling"
    assert client.polls[:2] == ["/wallet", "/wallet/events?since_version=5"]
    assert client.log("states") == [5, 6, 7]

    # Polled again within 2 to 5 s, from the version now held.
    client.answers["/wallet/events"] = (200, {"frames": [updated(8)]})
    client.run_for(5_000)
    client.page.wait_for_function("window.log.transactions.length === 3")
    assert "/wallet/events?since_version=7" in client.polls

    # The socket is still tried while polling (a fourth attempt was made), with the backoff;
    # once one says hello, polling stops.
    assert client.sockets() == 4
    client.close(1006)
    client.run_for(8_000)
    assert client.sockets() == 5
    client.open()
    client.frame(hello(8))
    assert client.log("statuses")[-1] == "live"
    assert client.sent() == [{"type": "resume", "since_version": 8}]
    polled = len(client.polls)
    client.run_for(30_000)
    assert len(client.polls) == polled


def test_polling_stops_on_401(client):
    client.answers["/wallet"] = (401, {"error": {"code": "NOT_AUTHENTICATED", "message": "Log in."}})
    client.start()
    for _ in range(3):
        client.close(1006)
        client.run_for(4_000)

    client.page.wait_for_function("window.log.statuses.at(-1) === 'unauthenticated'")
    sockets = client.sockets()
    client.run_for(120_000)
    assert client.sockets() == sockets
