"""The back office as a compliance officer works it, in real browsers against a server that requires
two-factor sign-in: sign in with a one-time code, watch the live feed, see a bet made through the
wallet API appear without a reload, open the player's 360 page from the feed, freeze the account
with a reason; the player's next bet is refused and their open socket is closed."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_staff
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import call_bet, log_in, place_bet, player  # noqa: F401 - fixture
from tests.browser.test_staff_sign_in import required_server  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


def test_compliance_signs_in_with_a_code_sees_a_bet_live_and_freezes_the_player_from_the_360(
    required_server,  # noqa: F811 - fixture
    player,  # noqa: F811 - fixture
):
    server = required_server
    officer = make_staff(StaffRole.COMPLIANCE)
    device = services.enrol_staff_otp(user=officer).device
    expect = playwright_api().expect
    with chromium_page() as staff_page:
        # The player's own browser, beside the officer's: its live socket is what the freeze closes.
        player_page = staff_page.context.browser.new_context().new_page()
        player_page.set_default_timeout(WAIT_MS)
        log_in(player_page, server, player)
        player_status = player_page.locator("#connection-status")
        expect(player_status).to_have_attribute("data-status", "live", timeout=WAIT_MS)

        staff_page.goto(f"{server.base_url}/backoffice/live/")
        staff_page.fill("input[name=username]", officer.username)
        staff_page.fill("input[name=password]", PASSWORD)
        staff_page.fill(
            "input[name=otp_token]", f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"
        )
        staff_page.click("input[type=submit]")
        expect(staff_page.locator("#feed-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        staff_page.evaluate("window.__notReloaded = true")

        answer = place_bet(server, player, 250)

        row = staff_page.locator(f'#feed tr[data-transaction-id="{answer["transaction_id"]}"] td')
        expect(row.nth(1)).to_have_text(str(player.pk), timeout=WAIT_MS)
        expect(row.nth(2)).to_have_text("bet")
        expect(row.nth(3)).to_have_text("-2.50 EUR")
        assert staff_page.evaluate("window.__notReloaded") is True, "the feed reloaded"

        # The player's 360 page, from the feed's row.
        row.nth(1).locator("a").click()
        staff_page.wait_for_url(f"{server.base_url}/backoffice/players/{player.pk}/")
        expect(staff_page.locator("#player-status")).to_have_text("Active")
        expect(staff_page.locator("#strip-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)

        staff_page.fill("#standing-reason", "Source of funds unclear: frozen pending documents")
        staff_page.click("#standing button[value=freeze]")
        expect(staff_page.locator("#player-status")).to_have_text("Frozen", timeout=WAIT_MS)

        # The player's socket is told and closed (4403: the client stops, forbidden).
        expect(player_page.locator('#notices li[data-kind="account_locked"]')).to_be_visible(timeout=WAIT_MS)
        expect(player_status).to_have_attribute("data-status", "forbidden", timeout=WAIT_MS)

    status, refused = call_bet(server, player, 100)
    assert (status, refused["error"]["code"]) == (403, "PLAYER_BLOCKED")
