"""The sportsbook page in a real browser (Debian's chromium) against PAM under uvicorn: the
Sportsbook link of the site's navigation shows an event's prices from the player API; a feed's
messages posted to the server while the page is open reprice a selection and suspend (greyed out,
not clickable) and resume its market without a reload, through the odds socket; the player adds
the selection to the slip, is refused a stake above the balance in words, types a stake, sees the
potential payout, places the bet, sees it in "My bets", and the header's balance drops by the
stake; a bet in play is shown pending, then accepted once its delay has run out (the page polls
it), without a reload. Prices are shown in the chosen odds format exactly as
apps/sportsbook/odds.py writes them (every price of the exchanges' ladder compared). The page,
with a market suspended and with a slip, passes axe-core with no serious or critical violation."""

from __future__ import annotations

import json
import urllib.request

import pytest

from apps.sportsbook import odds
from apps.sportsbook.signature import signed_headers
from apps.sportsbook.tests.factories import FEED, SECRET, a_match, event, live, market, resume, send, suspend
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_bonuses_site import assert_accessible
from tests.browser.test_player_page import START, log_in, player, server  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


@pytest.fixture
def match(player):  # noqa: F811
    """An upcoming match with its match-odds market (home 3.10, draw 3.20, away 2.40), and a match in
    play with a delay of 1 s (its market mk-live), through the feed endpoint, before the browser
    starts; returns the feed's next `seq`."""
    seq = a_match(delay=0)
    send(event(seq, "ev-live", name="Wales v Iran", in_play_delay_s=1), market(seq + 1, "mk-live", "ev-live"),
         live(seq + 2, "ev-live"))  # fmt: skip
    return seq + 3


def post_to_server(server, *messages: dict) -> None:  # noqa: F811
    """The feed's signed batch, to the running server: what it commits reaches the page only
    through the odds socket."""
    body = json.dumps({"messages": list(messages)}).encode()
    request = urllib.request.Request(
        f"{server.base_url}/api/feed/v1/messages", data=body, method="POST",
        headers={"Content-Type": "application/json", **signed_headers(FEED, SECRET, body)},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["applied"] == len(messages)


def test_live_prices_a_suspension_and_a_bet_from_the_slip_to_my_bets(server, player, match):  # noqa: F811
    expect = playwright_api().expect
    seq = match
    with chromium_page() as page:
        page.set_viewport_size({"width": 1200, "height": 900})
        log_in(page, server, player)

        page.click("nav[aria-label=Main] >> text=Sportsbook")
        market_box = page.locator('.market[data-market-id="mk-1"]')
        home = market_box.locator('[data-selection-id="mk-1-home"]')
        expect(home.locator(".price")).to_have_text("3.10")
        expect(page.locator("#odds-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        assert_accessible(page, "sportsbook")

        # The odds formats: exactly odds.py's, on every price of the ladder.
        ladder = [odds.decimal_string(price) for price in odds.ladder()]
        shown = page.evaluate(
            """async (prices) => {
                const m = await import("/static/js/odds-format.js");
                return prices.map((p) => [m.display(p, "fractional"), m.display(p, "american")]);
            }""",
            ladder,
        )
        expected = [[odds.display(odds.parse_decimal(p), "fractional"), odds.display(odds.parse_decimal(p), "american")]
                    for p in ladder]  # fmt: skip
        assert shown == expected
        page.select_option("#odds-format", "fractional")
        expect(home.locator(".price")).to_have_text("21/10")
        page.select_option("#odds-format", "decimal")

        # A reload would drop this marker: finding it at the end proves the page never reloaded.
        page.evaluate("window.__noReload = true")
        post_to_server(server, market(seq, "mk-1", prices=("3.30", "3.20", "2.30")))
        expect(home.locator(".price")).to_have_text("3.30", timeout=WAIT_MS)
        expect(market_box).to_have_attribute("data-version", "2")

        post_to_server(server, suspend(seq + 1, market_id="mk-1"))
        expect(market_box).to_have_attribute("data-status", "suspended", timeout=WAIT_MS)
        expect(market_box.locator(".market-state")).to_have_text("Suspended")
        expect(home).to_be_disabled()
        assert_accessible(page, "sportsbook, a market suspended")
        post_to_server(server, resume(seq + 2, market_id="mk-1"))
        expect(home).to_be_enabled(timeout=WAIT_MS)

        home.click()
        expect(home).to_have_attribute("aria-pressed", "true")
        leg = page.locator('#slip-legs li[data-selection-id="mk-1-home"]')
        expect(leg).to_contain_text("Home")
        expect(leg.locator(".leg-price")).to_have_text("3.30")
        # A refusal is said in words, and nothing moved.
        page.fill("#slip-stake", "5000")
        page.click("#slip-place")
        expect(page.locator("#slip-message")).to_have_text("Refused: your balance is too low for this stake.")
        expect(page.locator("#open-bets > li")).to_have_count(0)

        page.fill("#slip-stake", "10")
        expect(page.locator("#slip-payout")).to_have_text("33.00")
        assert_accessible(page, "sportsbook, a slip")
        page.click("#slip-place")

        expect(page.locator("#slip-message")).to_contain_text("Bet placed: 10.00 EUR to return 33.00 EUR. Accepted.")
        bet = page.locator("#open-bets li").first
        expect(bet).to_have_attribute("data-status", "accepted")
        expect(bet).to_contain_text("Home @ 3.30 · Match odds · Qatar v Ecuador")
        expect(bet.locator(".bet-status")).to_have_text("Accepted")
        expect(page.locator("#header-balance")).to_have_text(f"{(START - 1_000) // 100}.00", timeout=WAIT_MS)
        expect(page.locator("#slip-legs li")).to_have_count(0)

        # In play: pending while its delay runs, then accepted, as the page's polling finds.
        page.click('[data-selection-id="mk-live-away"]')
        page.fill("#slip-stake", "5")
        page.click("#slip-place")
        placed = "Bet placed: 5.00 EUR to return 12.00 EUR. Pending (in-play delay)."
        expect(page.locator("#slip-message")).to_have_text(placed)
        in_play = page.locator("#open-bets > li").first
        expect(in_play).to_contain_text("Away @ 2.40 · Match odds · Wales v Iran")
        expect(in_play).to_have_attribute("data-status", "accepted", timeout=WAIT_MS)
        expect(page.locator("#header-balance")).to_have_text(f"{(START - 1_500) // 100}.00", timeout=WAIT_MS)
        assert page.evaluate("window.__noReload") is True
