"""The lobby and a game's page in a real browser (Debian's chromium) against PAM under uvicorn:
the Games link of the site's navigation lists the games with their type and provider; Play frames
the game under the site's header, whose balance stays live; a game that cannot open says why, and
one paused at a reality check offers its answer (continuing opens the game).
Every page passes axe-core with no serious or critical violation.

The framed page is the provider's, out of this test's reach: the test's provider launches on
`about:blank`, so that axe reads the frame too (PAM's own studio is in docs/studio.md's tests)."""

from __future__ import annotations

import pytest

from apps.compliance import services as compliance
from apps.compliance.tests.factories import fresh
from apps.games import services as games
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_bonuses_site import assert_accessible
from tests.browser.test_player_page import START, in_a_thread, log_in, place_bet, player, server  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


@pytest.fixture
def lobby(player):  # noqa: F811
    """A provider whose games open (on about:blank) with one game, and one of its games disabled
    after the lobby was read."""
    provider = games.save_provider(code="framed", secret="framed-secret-0123456789", name="Framed Games",
                                   launch_url="about:blank#{game}")  # fmt: skip
    return {
        "open": games.save_game(provider=provider, code="framed-slot", name="Framed Slot", game_type="slots"),
        "closing": games.save_game(provider=provider, code="framed-table", name="Framed Table", game_type="table"),
    }


def test_the_lobby_opens_a_game_under_the_live_header_and_says_why_another_cannot_open(server, player, lobby):  # noqa: F811
    expect = playwright_api().expect
    with chromium_page() as page:
        page.set_viewport_size({"width": 1100, "height": 900})
        log_in(page, server, player)

        page.click("nav[aria-label=Main] >> text=Games")
        row = page.locator(f'#games li[data-game-id="{lobby["open"].pk}"]')
        expect(row).to_contain_text("Framed Slot")
        expect(row).to_contain_text("Slots · Framed Games")
        expect(page.locator('#games li[data-code="pam-roulette"]')).to_contain_text("European Roulette")
        assert_accessible(page, "lobby")

        row.locator("text=Play").click()
        page.wait_for_url(f"**/games/{lobby['open'].pk}/play/")
        frame = page.locator("#game-frame")
        expect(frame).to_have_attribute("title", "Framed Slot")
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        expect(page.locator("#header-balance")).to_have_text(f"{START // 100}.00")
        page.evaluate("window.__noReload = true")
        in_a_thread(lambda: place_bet(server, player, 250))
        expect(page.locator("#header-balance")).to_have_text(f"{(START - 250) // 100}.{(START - 250) % 100:02d}",
                                                             timeout=WAIT_MS)  # fmt: skip
        assert page.evaluate("window.__noReload") is True
        assert_accessible(page, "game")

        in_a_thread(lambda: games.save_game(provider=lobby["closing"].provider, code="framed-table",
                                            name="Framed Table", game_type="table", enabled=False))  # fmt: skip
        page.goto(f"{server.base_url}/games/{lobby['closing'].pk}/play/")
        expect(page.locator("#launch-refused")).to_have_attribute("data-code", "GAME_UNAVAILABLE")
        expect(page.locator("#game-frame")).to_have_count(0)
        assert_accessible(page, "game refused")

        # Paused at a reality check: the game's page offers its answer; continuing opens the game.
        in_a_thread(lambda: compliance.send_due_reality_check(
            player_id=player.pk, due_at=fresh(player).reality_check_due_at
        ))  # fmt: skip
        page.goto(f"{server.base_url}/games/{lobby['open'].pk}/play/")
        expect(page.locator("#launch-refused")).to_have_attribute("data-reason", "reality_check")
        assert_accessible(page, "game paused at a reality check")
        page.click("#reality-check-choice [data-action=acknowledge]")
        expect(page.locator("#game-frame")).to_have_attribute("title", "Framed Slot", timeout=WAIT_MS)
