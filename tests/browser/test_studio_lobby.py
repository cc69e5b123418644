"""PAM's own slot from the lobby to the ledger in a real browser (Debian's chromium) against PAM
under uvicorn, which is at once the site, the studio and the wallet the studio calls over the
signed API: a player opens the slot from the lobby, spins, and the site's header balance follows
each round live, without a reload, to what the ledger holds."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from apps.studio.models import Round, RoundState
from apps.wallet import selectors as wallet
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import START, Server, in_a_thread, log_in, player  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


@pytest.fixture
def studio_server(tmp_path):
    """PAM under uvicorn with the studio's credentials as this test's database has them (the
    provider was provisioned at migrate with this process's settings) and its own address as the
    wallet the studio calls (STUDIO_WALLET_URL's default reads PORT)."""
    running = Server(tmp_path / "server.log")
    running.env.update(STUDIO_PROVIDER_SECRET=settings.STUDIO_PROVIDER_SECRET, PORT=str(running.port))
    running.start()
    yield running
    running.stop()


def balance_once_settled(player_id: int, rounds: int) -> int:
    """The player's balance once the studio has settled `rounds` rounds (bounded wait)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while Round.objects.filter(state=RoundState.SETTLED).count() < rounds:
        assert time.monotonic() < deadline, list(Round.objects.values_list("state", flat=True))
        time.sleep(0.05)
    return wallet.get_wallet_state(player_id).balance


def money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def test_a_player_launches_the_slot_from_the_lobby_spins_and_the_header_follows(studio_server, player):  # noqa: F811
    expect = playwright_api().expect
    balances: list[int] = []
    with chromium_page() as page:
        page.set_viewport_size({"width": 1100, "height": 1000})
        log_in(page, studio_server, player)
        page.click("nav[aria-label=Main] >> text=Games")
        page.locator('#games li[data-code="pam-slot"] >> text=Play').click()
        page.wait_for_url("**/games/*/play/")
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        expect(page.locator("#header-balance")).to_have_text(money(START))
        page.evaluate("window.__noReload = true")

        game = page.frame_locator("#game-frame")
        for spin in range(2):
            # Enabled once the jurisdiction's shortest cycle has passed since the last start.
            expect(game.locator("#spin")).to_be_enabled(timeout=WAIT_MS)
            game.locator("#spin").click()
            in_a_thread(lambda n=spin + 1: balances.append(balance_once_settled(player.pk, n)))
            # The header shows what the ledger holds after the round: pushed, not reloaded.
            expect(page.locator("#header-balance")).to_have_text(money(balances[-1]), timeout=WAIT_MS)
        assert page.evaluate("window.__noReload") is True

    rounds = list(Round.objects.order_by("pk").values_list("stake", "payout"))
    assert balances == [
        START - rounds[0][0] + rounds[0][1],
        START - sum(s for s, _ in rounds) + sum(p for _, p in rounds),
    ]
