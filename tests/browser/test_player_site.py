"""The player site in a real browser (Debian's chromium, Playwright) against PAM under uvicorn:
a new player registers with a deposit limit, sees the header balance change without a reload,
deposits through the sandbox PSP's hosted page, is refused a deposit above the limit with the
headroom, is refused a withdrawal before verification, withdraws and cancels the pending
withdrawal, sets a limit, reads the history while a deposit is credited (a notice and the header,
live), and self-excludes, after which the wallet refuses a bet with PLAYER_BLOCKED.
Every page passes axe-core with no serious or critical violation.

A screenshot of each step is saved under the test's tmp_path and under `test-artifacts/browser/`
(gitignored); the test prints where.
"""

from __future__ import annotations

import re
import shutil
import uuid

import pytest

from apps.accounts import services as accounts
from apps.accounts.choices import KycStatus
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_brand
from apps.common.idempotency import ExternalRef
from apps.games import services as games
from apps.payments import services as payments
from apps.payments.models import BrandPaymentSettings
from apps.wallet import services as wallet
from apps.wallet.choices import TransactionKind, clearing_code
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import PROVIDER, SECRET, call_bet, in_a_thread, server  # noqa: F401
from tests.support import ROOT

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]

ARTIFACTS = ROOT / "test-artifacts" / "browser"
SERIOUS = {"serious", "critical"}


AUTO_APPROVE_UP_TO = 1_000  # 10.00: a withdrawal of 20.00 waits for staff, so the player can cancel it


@pytest.fixture
def site(tmp_path):
    """The demo brand the site registers players in (approving withdrawals up to 10.00 by
    itself), the provider that bets for them, and the sandbox PSP."""
    brand = make_brand("demo", "PAM Demo Casino")
    BrandPaymentSettings.objects.create(brand=brand, auto_approve_up_to=AUTO_APPROVE_UP_TO)
    games.save_provider(code=PROVIDER, secret=SECRET)
    payments.ensure_sandbox_provider()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    return shots


class Steps:
    """Screenshots and an axe-core check of each step's page."""

    def __init__(self, page, folder) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.folder, self.axe, self.count = page, folder, Axe(), 0
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)

    def shot(self, name: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, ARTIFACTS / path.name)
        violations = [v for v in self.axe.run(self.page).response["violations"] if v["impact"] in SERIOUS]
        assert violations == [], f"{name}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}" for v in violations
        )


def test_a_new_player_registers_plays_sets_a_limit_and_self_excludes(server, site, capsys):  # noqa: F811
    expect = playwright_api().expect
    username = f"site{uuid.uuid4().hex[:8]}"
    with chromium_page() as page:
        steps = Steps(page, site)
        page.set_viewport_size({"width": 1100, "height": 900})

        # Registration, with the deposit-limit prompt the demo brand's jurisdiction asks for.
        page.goto(f"{server.base_url}/register/")
        expect(page.locator("#id_deposit_limit_amount")).to_be_visible()
        steps.shot("register")
        page.fill("#id_username", username)
        page.fill("#id_email", f"{username}@example.com")
        page.fill("#id_password", "a-long-enough-passphrase")
        page.fill("#id_date_of_birth", "1990-05-01")
        page.fill("#id_country", "MT")
        page.select_option("#id_currency", "EUR")
        page.select_option("#id_deposit_limit_period", "24h")
        page.fill("#id_deposit_limit_amount", "100")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base_url}/")
        status = page.locator("#connection-status")
        expect(status).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        expect(page.locator("#header-balance")).to_have_text("0.00")
        page.evaluate("window.__noReload = true")
        steps.shot("wallet-empty")

        # Money arrives (an operator's credit, until the sandbox PSP lands): the header and the
        # wallet change without a reload.
        player: dict = {}

        def fund():
            found = Player.objects.select_related("user").get(user__username=username)
            player["object"] = found
            wallet.adjust_balance(player_id=found.pk, amount=5_000, reason="browser test", acting_user=None)

        in_a_thread(fund)
        expect(page.locator("#header-balance")).to_have_text("50.00", timeout=WAIT_MS)
        expect(page.locator("#balance")).to_have_text("50.00")
        assert page.evaluate("window.__noReload") is True
        code, answer = call_bet(server, player["object"], 1_250)
        assert code == 200, answer
        expect(page.locator("#header-balance")).to_have_text("37.50", timeout=WAIT_MS)
        steps.shot("wallet-live")

        # A deposit through the sandbox PSP's hosted page: back on the cashier, the webhook's
        # credit reaches the header without a reload.
        page.click("nav[aria-label=Main] >> text=Cashier")
        expect(page.locator("#no-deposits")).to_have_text("No deposits yet.")
        steps.shot("cashier")
        page.fill("#deposit-amount", "30")
        page.click("#deposit-form button")
        page.wait_for_url("**/sandbox-psp/**")
        steps.shot("sandbox-psp")
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.click("button[type=submit]")
        page.wait_for_url("**/cashier/?deposit=*")
        page.evaluate("window.__noReload = true")
        expect(page.locator("#header-balance")).to_have_text("67.50", timeout=WAIT_MS)
        # Credited while the page was on its way (it renders the new balance and says so) or after
        # it opened its socket (the live notice): either way the player is told.
        told = page.locator('#notices li[data-kind="deposit"], #cashier-message p.success')
        expect(told.first).to_contain_text(
            re.compile(r"Deposit credited: 30\.00 EUR\.|Your deposit of 30\.00 EUR is credited\."), timeout=WAIT_MS
        )
        expect(page.locator("#recent-deposits tr td").nth(2)).to_have_text("Credited", timeout=WAIT_MS)
        steps.shot("deposit-credited")

        # Above the deposit limit set at registration (100.00 a day, 30.00 used): refused, with
        # the headroom, and nothing started.
        page.fill("#deposit-amount", "80")
        page.click("#deposit-form button")
        expect(page.locator("#cashier-message")).to_have_text(
            "Refused: this would break your deposit limit. You can deposit at most 70.00 EUR now."
        )
        expect(page.locator("#recent-deposits tr")).to_have_count(1)
        assert page.evaluate("window.__noReload") is True
        steps.shot("deposit-refused")

        # A withdrawal before verification is refused; once verified, one above the brand's
        # automatic approval waits for staff, and the player cancels it: the money comes back.
        page.fill("#withdraw-amount", "20")
        page.click("#withdraw-form button")
        expect(page.locator("#cashier-message")).to_contain_text("Refused:")
        expect(page.locator("#header-balance")).to_have_text("67.50")
        steps.shot("withdrawal-refused")
        in_a_thread(lambda: accounts.set_kyc_status(
            player_id=player["object"].pk, kyc_status=KycStatus.VERIFIED, reason="browser test"
        ))  # fmt: skip
        page.click("#withdraw-form button")
        expect(page.locator("#cashier-message")).to_have_text("Withdrawal of 20.00 EUR requested: Awaiting approval.")
        expect(page.locator("#header-balance")).to_have_text("47.50", timeout=WAIT_MS)
        pending = page.locator("#pending-withdrawals li")
        expect(pending).to_have_count(1)
        expect(pending.nth(0)).to_contain_text("20.00 EUR")
        steps.shot("withdrawal-pending")
        pending.nth(0).locator("button").click()
        expect(page.locator("#cashier-message")).to_contain_text("cancelled: the money is back in your balance")
        expect(pending).to_have_count(0)
        expect(page.locator("#header-balance")).to_have_text("67.50", timeout=WAIT_MS)
        steps.shot("withdrawal-cancelled")

        # Limits: the registration's limit is there; a lower wager limit applies at once.
        page.click("nav[aria-label=Main] >> text=Responsible gambling")
        expect(page.locator('#limits tr[data-kind="deposit"][data-period="24h"] td').nth(1)).to_have_text("100.00")
        page.select_option("#limit-kind", "wager")
        page.select_option("#limit-period", "7d")
        page.fill("#limit-amount", "500")
        page.click("#set-limit button")
        expect(page.locator("p.success")).to_have_text("Your limit is set and applies now.")
        expect(page.locator('#limits tr[data-kind="wager"][data-period="7d"] td').nth(2)).to_have_text("12.50")
        steps.shot("limits")

        # History: the funding and the bet, with the balance after each.
        page.click("nav[aria-label=Main] >> text=History")
        rows = page.locator("#history tbody tr")
        expect(rows).to_have_count(5)  # funding, bet, deposit, withdrawal, its return
        expect(rows.nth(0).locator("td").nth(4)).to_have_text("67.50 EUR")
        expect(rows.nth(1).locator("td").nth(3)).to_have_text("-20.00 EUR")

        # A deposit credited while the player reads the history: a notice and the header, live.
        in_a_thread(lambda: wallet.credit(
            player_id=player["object"].pk, currency="EUR", amount=2_000, kind=TransactionKind.DEPOSIT,
            ref=ExternalRef("payment:browser", f"dep-{uuid.uuid4().hex}", "fp"), counter=clearing_code("browser"),
        ))  # fmt: skip
        expect(page.locator('#notices li[data-kind="deposit"]')).to_contain_text(
            "Deposit credited: 20.00 EUR.", timeout=WAIT_MS
        )
        expect(page.locator("#header-balance")).to_have_text("87.50")
        steps.shot("deposit-notice")
        page.reload()
        expect(rows).to_have_count(6)
        page.check("input[name=kind][value=bet]")
        page.click("form.filters button[type=submit]")
        expect(rows).to_have_count(1)
        steps.shot("history")

        # Account.
        page.click("nav[aria-label=Main] >> text=Account")
        expect(page.locator("#kyc-status")).to_have_text("Verified")
        steps.shot("account")

        # On a phone.
        page.set_viewport_size({"width": 390, "height": 844})
        page.click("nav[aria-label=Main] >> text=Wallet")
        expect(page.locator("#balance")).to_have_text("87.50")
        steps.shot("wallet-phone")
        page.set_viewport_size({"width": 1100, "height": 900})

        # Self-exclusion: a confirmation step first, then the account is closed for play.
        page.click("nav[aria-label=Main] >> text=Responsible gambling")
        page.select_option("#period", "1y")
        page.click("#self-exclusion button")
        expect(page.locator("h1")).to_have_text("Confirm your self-exclusion")
        steps.shot("self-exclusion-confirm")
        page.click("#confirm-exclusion")
        expect(page.locator("h1")).to_have_text("Your account is closed for play")
        steps.shot("self-excluded")

        expect(page.locator("#header-balance")).to_have_count(0)  # logged out: no wallet shown
        code, answer = call_bet(server, player["object"], 100)
        assert (code, answer["error"]["code"]) == (403, "PLAYER_BLOCKED")
        page.goto(f"{server.base_url}/")
        assert page.url.startswith(f"{server.base_url}/login/")  # logged out everywhere
        steps.shot("logged-out")

    with capsys.disabled():
        print(f"\nscreenshots: {site} and {ARTIFACTS}")
