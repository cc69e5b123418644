"""Bonuses on the player site in a real browser (Debian's chromium) against PAM under uvicorn: the
cashier offers an opt-in deposit campaign with its terms; choosing it joins it before the deposit,
and the deposit through the sandbox PSP grants it (a readable `bonus_granted` notice, the header);
the withdraw form then warns that a withdrawal forfeits it; the bonuses page lists it with its
wagering; the withdrawal forfeits it (a readable `bonus_forfeited` notice)."""

from __future__ import annotations

import pytest

from apps.accounts import services as accounts
from apps.accounts.choices import KycStatus
from apps.bonuses.tests.factories import campaign
from apps.payments import services as payments
from apps.payments.models import BrandPaymentSettings
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import log_in, player, server  # noqa: F401

SERIOUS = {"serious", "critical"}

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


def assert_accessible(page, name: str) -> None:
    """axe-core finds no serious or critical violation on the page (as test_player_site's steps)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]
    assert violations == [], f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}" for v in violations
    )


@pytest.fixture
def offer(player):  # noqa: F811
    """The sandbox PSP, withdrawals approved by themselves up to 50.00, a verified player (100.00
    cash), and WELCOME: a 100 % match of a deposit of at least 5.00 up to 40.00, opt-in, forfeited
    by a withdrawal."""
    BrandPaymentSettings.objects.create(brand=player.brand, auto_approve_up_to=5_000)
    payments.ensure_sandbox_provider()
    accounts.set_kyc_status(player_id=player.pk, kyc_status=KycStatus.VERIFIED, reason="browser test")
    campaign("WELCOME", name="Welcome match", cap=4_000, min_deposit=500, forfeit_on_withdrawal=True,
             expires_after_days=30)  # fmt: skip
    return player


def test_the_cashier_offers_a_bonus_grants_it_with_the_deposit_and_warns_of_its_forfeiture(server, offer):  # noqa: F811
    expect = playwright_api().expect
    with chromium_page() as page:
        page.set_viewport_size({"width": 1100, "height": 900})
        log_in(page, server, offer)

        page.click("nav[aria-label=Main] >> text=Cashier")
        choice = page.locator('#bonus-choices input[value="WELCOME"]')
        expect(page.locator("#bonus-offer")).to_be_visible()
        expect(page.locator("#bonus-choices")).to_contain_text(
            "Welcome match: 100 % of your deposit up to 40.00 EUR; minimum deposit 5.00 EUR; wager 10 times the "
            "bonus; expires after 30 days; a withdrawal before the wagering is done forfeits it."
        )
        expect(page.locator("#withdraw-forfeit-warning")).to_be_hidden()
        assert_accessible(page, "cashier with a bonus offer")

        # below the campaign's minimum: said at once, nothing joined or started
        choice.check()
        page.fill("#deposit-amount", "4")
        page.click("#deposit-form button")
        expect(page.locator("#cashier-message")).to_have_text("Welcome match needs a deposit of at least 5.00 EUR.")

        page.fill("#deposit-amount", "30")
        page.click("#deposit-form button")
        page.wait_for_url("**/sandbox-psp/**")
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.click("button[type=submit]")
        page.wait_for_url("**/cashier/?deposit=*")
        # 100.00 + the deposit of 30.00 + its 30.00 bonus
        expect(page.locator("#header-balance")).to_have_text("160.00", timeout=WAIT_MS)
        warning = page.locator("#withdraw-forfeit-warning")
        expect(warning).to_have_text(
            "A withdrawal now forfeits your active bonus (WELCOME): its 30.00 EUR of bonus money is removed.",
            timeout=WAIT_MS,
        )

        page.click("nav[aria-label=Main] >> text=Bonuses")
        row = page.locator("#bonuses tbody tr").first
        expect(row.locator("th")).to_have_text("Welcome match")
        expect(row.locator("td").nth(0)).to_have_text("Active")
        expect(row.locator("td").nth(1)).to_have_text("30.00")
        expect(row.locator("td").nth(2)).to_have_text("30.00")
        expect(row.locator("td").nth(3)).to_contain_text("0.00 of 300.00")
        assert_accessible(page, "bonuses")

        page.click("nav[aria-label=Main] >> text=Cashier")
        expect(page.locator("#withdraw-forfeit-warning")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#connection-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        page.fill("#withdraw-amount", "10")
        page.click("#withdraw-form button")
        expect(page.locator('#notices li[data-kind="bonus_forfeited"]')).to_contain_text(
            "Bonus forfeited by your withdrawal (WELCOME): 30.00 EUR of bonus money was removed.", timeout=WAIT_MS
        )
        expect(page.locator("#header-balance")).to_have_text("120.00", timeout=WAIT_MS)
        expect(page.locator("#withdraw-forfeit-warning")).to_be_hidden(timeout=WAIT_MS)
