"""The back office's live feed in a real browser: a bet made through the wallet API appears on
the page of a logged-in staff member without a reload."""

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


def open_live_feed(page, base_url: str, staff) -> None:
    """Log `staff` in on the live feed's page and wait until its socket is live."""
    page.goto(f"{base_url}/backoffice/live/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    playwright_api().expect(page.locator("#feed-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)


def test_a_bet_appears_on_the_live_feed_as_it_commits(server, player):  # noqa: F811 - fixtures
    staff = make_staff(StaffRole.SUPPORT)
    expect = playwright_api().expect
    with chromium_page() as page:
        open_live_feed(page, server.base_url, staff)
        page.evaluate("window.__notReloaded = true")

        answer = place_bet(server, player, 250)

        row = page.locator(f'#feed tr[data-transaction-id="{answer["transaction_id"]}"] td')
        expect(row.nth(1)).to_have_text(str(player.pk), timeout=WAIT_MS)
        expect(row.nth(2)).to_have_text("bet")
        expect(row.nth(3)).to_have_text("-2.50 EUR")
        expect(row.nth(4)).to_have_text("97.50 EUR")
        assert page.evaluate("window.__notReloaded") is True


def test_a_behaviour_rules_alert_appears_on_the_live_feed_of_a_compliance_officer(server, player):  # noqa: F811
    from apps.compliance import services
    from apps.compliance.models import Alert

    officer = make_staff(StaffRole.COMPLIANCE)
    services.save_rule(
        code="micro-bets-60s", rule_type="micro_bet", parameters={"max_bets": 1, "window_seconds": 60,
        "max_stake": 10}, severity="high", actions=["alert"], enabled=True, acting_user=officer, reason="browser test",
    )  # fmt: skip
    expect = playwright_api().expect
    with chromium_page() as page:
        open_live_feed(page, server.base_url, officer)

        place_bet(server, player, 5)
        place_bet(server, player, 5)  # the second bet of at most 10 within 60 s: more than 1

        row = page.locator("#alerts tbody tr td")
        expect(row.nth(1)).to_have_text("high", timeout=WAIT_MS)
        expect(row.nth(3)).to_have_text(str(player.pk))
        expect(row.nth(4)).to_have_text("2")
        shown_id = row.nth(6).inner_text()
    # After the page: the ORM may not run inside Playwright's event loop.
    assert shown_id == str(Alert.objects.get().pk)
