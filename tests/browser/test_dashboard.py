"""The back office's dashboard in a real browser: a bet made through the wallet API moves the GGR
figure on the index of a logged-in member of staff without a reload (the feed's frame makes the
page fetch the figures again)."""

from __future__ import annotations

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_staff
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import place_bet, player, server  # noqa: F401 - fixtures

# production_password_hashers: the server runs in its own process, with the settings' hashers.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


def test_a_bet_moves_the_ggr_figure_without_a_reload(server, player):  # noqa: F811 - fixtures
    staff = make_staff(StaffRole.FINANCE)
    expect = playwright_api().expect
    with chromium_page() as page:
        page.goto(f"{server.base_url}/backoffice/")
        page.fill("input[name=username]", staff.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        ggr = page.locator("#figure-ggr_today .figure-value")
        expect(ggr).to_have_text("0")
        expect(page.locator("#dashboard")).to_have_attribute("data-socket", "live", timeout=WAIT_MS)
        page.evaluate("window.__notReloaded = true")

        place_bet(server, player, 250)

        expect(ggr).to_have_text("2.50 EUR", timeout=WAIT_MS)
        expect(page.locator("#figure-open_alerts")).to_have_count(0)  # not finance's to see
        assert page.evaluate("window.__notReloaded") is True
