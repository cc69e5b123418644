"""The crash room in a real browser (Debian's chromium) against PAM under uvicorn, which is at once
the site, the studio and the wallet the studio calls over the signed API, on this run's test
database and Redis, with a short room: a player opens PAM Crash from the lobby; while the page
shows a round, another player, on a socket of its own, bets, and the page lists that bet live; the
player bets through the page and the site's header follows the stake, then cashes out and the
header follows the win, all without a reload, to what the ledger holds; and the page's socket lost
no frame of the room (the site's socket in the same server process once took half of them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from apps.accounts.tests.factories import make_player
from apps.games import services as games
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_bonuses_site import assert_accessible
from tests.browser.test_player_page import START, Server, in_a_thread, log_in, player  # noqa: F401
from tests.browser.test_studio_lobby import money
from tests.studio.support import RoomClient, crash_session

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]

# A 3 s window, a 1 s pause, and a multiplier five times faster than production's (2.00x in about
# 2.3 s): rounds of seconds, in which a cash-out clicked at the start still lands before most crashes.
TIMING = {
    "STUDIO_CRASH_BETTING_MS": "3000",
    "STUDIO_CRASH_PAUSE_MS": "1000",
    "STUDIO_CRASH_TICK_MS": "100",
    "STUDIO_CRASH_GROWTH": "0.0003",
    "STUDIO_CRASH_CHAIN_LENGTH": "1000",
    "STUDIO_CRASH_LEASE_MS": "3000",
}
ROUNDS = 8  # rounds tried (a missed window, a crash before the cash-out) before calling it a failure
STAKE, OTHER_STAKE = 100, 250  # minor units: 1.00 and 2.50 EUR

# Every bet the page's list ever showed, with the round it showed it in: the other player's bet
# may come and go (its round crashes, the next one opens) between two looks of the test.
RECORD_BETS = """() => {
  window.__bets = [];
  const list = document.getElementById("crash-bets");
  const note = () => {
    for (const li of list.querySelectorAll("li[data-player]")) {
      window.__bets.push({
        round: document.getElementById("crash-round").textContent,
        player: li.dataset.player, stake: li.dataset.stake, text: li.textContent,
      });
    }
  };
  new MutationObserver(note).observe(list, {childList: true, subtree: true, attributes: true});
  note();
}"""


@pytest.fixture
def crash_site(tmp_path) -> Iterator[Server]:
    """PAM under uvicorn as test_studio_lobby runs it (the studio's credentials as this database
    has them, its own address as the wallet the studio calls), with the short room and this run's
    Redis prefixes: the room's leadership lease and its channel group are keyed by them, and a
    server of another run on the same Redis must neither lead this room nor hear it."""
    running = Server(tmp_path / "server.log")
    running.env.update(
        STUDIO_PROVIDER_SECRET=settings.STUDIO_PROVIDER_SECRET,
        PORT=str(running.port),
        CHANNEL_LAYER_PREFIX=os.environ["CHANNEL_LAYER_PREFIX"],
        CACHE_KEY_PREFIX=os.environ["CACHE_KEY_PREFIX"],
        **TIMING,
    )
    running.start()
    yield running
    running.stop()


class Loop:
    """An asyncio loop in a thread of its own, for the other player's socket: Playwright's sync
    API holds the test's thread with a loop of its own."""

    def __init__(self) -> None:
        self.clients: list[RoomClient] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        for client in self.clients:
            self.run(client.close())
        # The ORM's connections opened for the session's launch belong to this loop's threads.
        self.run(sync_to_async(connections.close_all)())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture
def other_token() -> str:
    """A launch token of another funded player (committed before the browser starts)."""
    provider = games.save_provider(code=settings.STUDIO_PROVIDER_CODE, secret=settings.STUDIO_PROVIDER_SECRET)
    other = make_player(username=f"crashother{uuid.uuid4().hex[:8]}")
    wallet.adjust_balance(player_id=other.pk, amount=START, reason="test funds", acting_user=None)
    return games.issue_launch_token(player=other, provider=provider)


async def join(loop: Loop, server: Server, token: str) -> tuple[RoomClient, str]:
    """The other player in the room by a signed launch of its own: its socket and its alias."""

    address = SimpleNamespace(http=server.base_url, ws=server.base_url.replace("http://", "ws://"))
    key = await crash_session(address, token)
    client = await RoomClient.connect(address, key)
    loop.clients.append(client)  # closed with the loop, however the test ends
    return client, (await client.frame("crash.snapshot"))["you"]["player"]


async def bet_when_open(client: RoomClient) -> int:
    """Bets OTHER_STAKE as a round opens (or at once, in a window already open), trying again in
    the next window when this one closed first: the round's number. Not only on `crash.betting`:
    a frame the socket never got must not leave the test waiting for it."""
    for _ in range(ROUNDS * 5):
        mark = len(client.frames)
        answer = await client.request("bet", stake=OTHER_STAKE)
        if answer["type"] == "crash.bet_accepted":
            return answer["number"]
        assert answer.get("code") == "BETTING_CLOSED", answer
        with contextlib.suppress(AssertionError):  # no window opened within 2 s: ask again anyway
            await client.frame("crash.betting", after=mark, timeout=2)
    raise AssertionError(f"the other player found no open window; last frames: {client.frames[-10:]}")


def rounds_of(received: list[str]) -> dict[int, list[str]]:
    """The kinds of frame the page got, per round, in order."""
    rounds: dict[int, list[str]] = {}
    for text in received:
        frame = json.loads(text)
        if "number" in frame:
            rounds.setdefault(frame["number"], []).append(frame["type"])
    return rounds


def test_a_player_sees_another_players_bet_live_bets_and_cashes_out_and_the_header_follows(
    crash_site,
    player,  # noqa: F811
    other_token,
    loop,
):
    api = playwright_api()
    expect = api.expect
    with chromium_page() as page:
        page.set_viewport_size({"width": 1100, "height": 1200})
        received: list[str] = []  # the room's frames as the page's socket got them
        page.on(
            "websocket",
            lambda ws: "/ws/studio/crash/" in ws.url and ws.on("framereceived", lambda text: received.append(text)),
        )
        log_in(page, crash_site, player)
        page.click("nav[aria-label=Main] >> text=Games")
        page.locator('#games li[data-code="pam-crash"] >> text=Play').click()
        page.wait_for_url("**/games/*/play/")
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        header = page.locator("#header-balance")
        expect(header).to_have_text(money(START))
        page.evaluate("window.__noReload = true")  # a reload would drop it

        room = page.frame_locator("#game-frame")
        expect(room.locator("#crash-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        frame = page.locator("#game-frame").element_handle().content_frame()
        assert frame is not None
        frame.wait_for_function("() => document.getElementById('crash-phase').dataset.phase !== ''")
        frame.evaluate(RECORD_BETS)
        frame.evaluate("window.__noReload = true")

        # Another player joins on a socket of its own and bets as a round opens: the page lists the
        # bet, with its alias and stake, in that round.
        other, other_alias = loop.run(join(loop, crash_site, other_token))
        number = loop.run(bet_when_open(other), timeout=ROUNDS * 5 * 15)
        seen = frame.wait_for_function(
            """([player, stake, round]) => window.__bets.find(
                 (b) => b.player === player && b.stake === stake && b.round === round)""",
            arg=[other_alias, str(OTHER_STAKE), str(number)],
            timeout=WAIT_MS,
        ).json_value()
        assert other_alias in seen["text"], seen
        assert "2.50 EUR" in seen["text"], seen

        # The player bets through the page, in this round or the next that still takes bets, and
        # cashes out as soon as the round runs; a round that crashes first (1 in 33 crash at once)
        # costs the stake, and the next one is tried.
        bets, win = 0, None
        for _ in range(ROUNDS):
            frame.wait_for_function(
                """() => document.getElementById('crash-phase').dataset.phase === 'betting'
                         && !document.getElementById('crash-bet').disabled""",
                timeout=WAIT_MS,
            )
            room.locator("#crash-stake").fill(money(STAKE))
            room.locator("#crash-bet").click()
            answered = frame.wait_for_function(
                """() => {
                  const message = document.getElementById('crash-message');
                  if (message.dataset.code) return {refused: message.dataset.code};
                  const mine = document.querySelector('#crash-bets li[data-you="true"]');
                  return mine && {round: document.getElementById('crash-round').textContent};
                }""",
                timeout=WAIT_MS,
            ).json_value()
            if answered.get("refused") == "BETTING_CLOSED":
                continue
            assert "round" in answered, answered
            bets += 1
            # The stake leaves the balance: the site's header follows, pushed, not reloaded.
            expect(header).to_have_text(money(START - bets * STAKE), timeout=WAIT_MS)
            expect(room.locator("#crash-balance")).to_have_attribute(
                "data-minor", str(START - bets * STAKE), timeout=WAIT_MS
            )

            frame.wait_for_function(
                """() => {
                  const out = document.getElementById('crash-cashout');
                  const phase = document.getElementById('crash-phase').dataset.phase;
                  return (!out.hidden && !out.disabled) || phase === 'crashed';
                }""",
                timeout=WAIT_MS,
            )
            with contextlib.suppress(api.TimeoutError):  # the round crashed before the click
                room.locator("#crash-cashout").click(timeout=2000)
            outcome = frame.wait_for_function(
                """() => {
                  const mine = document.querySelector('#crash-bets li[data-you="true"]');
                  if (mine && mine.dataset.cashout) return {cashout: mine.dataset.cashout, win: mine.dataset.win};
                  const code = document.getElementById('crash-message').dataset.code;
                  if (code) return {refused: code};
                  // Settled without a cash-out (a win of 0), or already the next round.
                  if (mine && mine.dataset.win === '0') return {lost: true};
                  return document.getElementById('crash-phase').dataset.phase === 'betting' && {lost: true};
                }""",
                timeout=WAIT_MS,
            ).json_value()
            if "cashout" in outcome:
                win = int(outcome["win"])
                assert win == STAKE * int(outcome["cashout"]) // 100, outcome
                break
            assert outcome.get("refused") in (None, "TOO_LATE", "NOT_RUNNING"), outcome
        assert win is not None, f"no cash-out in {ROUNDS} rounds"

        # The win comes back: the header follows again, without a reload.
        expected = START - bets * STAKE + win
        expect(header).to_have_text(money(expected), timeout=WAIT_MS)
        expect(room.locator("#crash-balance")).to_have_attribute("data-minor", str(expected), timeout=WAIT_MS)
        assert page.evaluate("window.__noReload") is True, "the site's page reloaded"
        assert frame.evaluate("window.__noReload") is True, "the room reloaded"
        assert_accessible(frame, "the crash room")

        # On a healthy backplane the page's socket loses no frame: it plays on until a round after
        # the first has come and gone, and every round it saw open (the first may have been joined
        # midway, the last may be cut off by the end) came whole, from opening to settlement.
        first = min(rounds_of(received))
        frame.wait_for_function(
            "(n) => Number(document.getElementById('crash-round').textContent) >= n", arg=first + 2, timeout=60_000
        )
    rounds = rounds_of(received)
    whole = [n for n in range(first, max(rounds)) if n > first or rounds[n][0] == "crash.betting"]
    assert whole, rounds
    for n in whole:
        kinds = set(rounds.get(n, []))
        assert {"crash.betting", "crash.started", "crash.crashed", "crash.settled"} <= kinds, (n, rounds)

    balances: list[int] = []
    in_a_thread(lambda: balances.append(wallet_selectors.get_wallet_state(player.pk).balance))
    assert balances == [expected]
