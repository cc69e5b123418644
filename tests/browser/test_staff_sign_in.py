"""Staff two-factor sign-in in a real browser, against a server that requires it
(STAFF_2FA_REQUIRED): a wrong one-time code is refused on the form, a recovery code signs in, and
the back office's live feed opens its socket with the session verified by it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_otp.oath import TOTP

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_staff
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_player_page import Server

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


@pytest.fixture
def required_server(tmp_path) -> Iterator[Server]:
    running = Server(tmp_path / "server.log")
    running.env["STAFF_2FA_REQUIRED"] = "true"
    running.start()
    yield running
    running.stop()


def test_compliance_signs_in_with_a_recovery_code_after_a_wrong_code_and_the_live_feed_goes_live(required_server):
    officer = make_staff(StaffRole.COMPLIANCE)
    enrolment = services.enrol_staff_otp(user=officer)
    right = f"{TOTP(enrolment.device.bin_key).token():06d}"
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    expect = playwright_api().expect
    with chromium_page() as page:
        page.goto(f"{required_server.base_url}/backoffice/live/")
        page.fill("input[name=username]", officer.username)
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=otp_token]", wrong)
        page.click("input[type=submit]")
        expect(page.locator(".errorlist")).to_contain_text("That code is wrong, expired or already used.")

        # The authenticator now waits a second (django-otp); a recovery code is another device.
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=otp_token]", enrolment.recovery_codes[0])
        page.click("input[type=submit]")

        expect(page.locator("#feed-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
