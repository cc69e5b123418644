"""The game pages in a real browser (Debian's chromium under Playwright, tests/browser/chromium.py),
against the live server: a slot spin and a roulette round play over the API, and the spin button
waits out the jurisdiction's cycle."""

from __future__ import annotations

import pytest

from apps.studio.models import Round, RoundState
from apps.wallet.tests.factories import funded_player
from tests.browser.chromium import chromium_page

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_slot_page_spins_and_waits_out_the_cycle(studio):
    player = funded_player(10_000)
    url = studio.launch_url(player, "pam-slot", min_cycle_ms=3000)

    with chromium_page() as page:
        page.goto(url)
        spin = page.locator("#spin")
        page.wait_for_function("!document.getElementById('spin').disabled")
        page.select_option("#stake", "100")
        spin.click()
        page.wait_for_function("document.querySelector('#reels td').textContent !== '·'")
        assert spin.is_disabled()  # the cycle: 3 s before the next round may start
        page.wait_for_function("!document.getElementById('spin').disabled")
        balance = page.locator("#balance").text_content()
        net = page.locator("[data-net]").text_content()

    round_ = Round.objects.get()
    assert round_.state == RoundState.SETTLED
    assert round_.stake == 100
    expected = 10_000 - 100 + round_.payout
    assert balance.replace(",", "") == f"€{expected // 100}.{expected % 100:02d}"
    assert net.replace(",", "").replace("€", "").lstrip("-") == f"{abs(round_.payout - 100) / 100:.2f}"


def test_the_roulette_page_places_chips_and_shows_the_pocket(studio):
    player = funded_player(10_000)
    url = studio.launch_url(player, "pam-roulette")

    with chromium_page() as page:
        page.goto(url)
        page.select_option("#chip", "50")
        page.get_by_role("button", name="Red", exact=True).click()
        page.get_by_role("button", name="Red", exact=True).click()
        page.get_by_role("button", name="Straight on 17, black").click()
        page.get_by_role("button", name="2nd 12").click()
        page.locator("#spin").click()
        page.wait_for_function("document.getElementById('pocket').textContent !== '\\u2013'")
        pocket = page.locator("#pocket").text_content()

    round_ = Round.objects.get()
    assert round_.state == RoundState.SETTLED
    assert sorted((b["kind"], b["stake"]) for b in round_.bets) == [("dozen", 50), ("red", 100), ("straight", 50)]
    assert pocket == f"{round_.outcome['pocket']} {round_.outcome['colour']}"
