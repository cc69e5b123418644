"""The back office's player 360 page and the live feed's filters in a real browser: the strip shows
the player's own bet as it commits and never another player's; the feed's form changes the
server's filter without a reload."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.wallet import services as wallet
from tests.browser.chromium import WAIT_MS, chromium_page, playwright_api
from tests.browser.test_live_feed import open_live_feed
from tests.browser.test_player_page import START, place_bet, player, server  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(300),
    pytest.mark.production_password_hashers,
]


@pytest.fixture
def other_player():
    other = make_player(username=f"other{uuid.uuid4().hex[:8]}")
    wallet.adjust_balance(player_id=other.pk, amount=START, reason="test funds", acting_user=None)
    return other


def test_the_strip_shows_this_players_bet_and_never_another_players(server, player, other_player):  # noqa: F811
    staff = make_staff(StaffRole.SUPPORT)
    expect = playwright_api().expect
    with chromium_page() as page:
        # Every frame the page's sockets receive, as the browser got it (before the page's script).
        page.add_init_script("""
            window.__frames = [];
            const Native = window.WebSocket;
            window.WebSocket = class extends Native {
                constructor(...args) {
                    super(...args);
                    this.addEventListener("message", (event) => window.__frames.push(JSON.parse(event.data)));
                }
            };
        """)
        page.goto(f"{server.base_url}/backoffice/players/{player.pk}/")
        page.fill("input[name=username]", staff.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#strip-status")).to_have_attribute("data-status", "live", timeout=WAIT_MS)
        place_bet(server, other_player, 111)
        answer = place_bet(server, player, 250)

        item = page.locator(f'#live-strip li[data-transaction-id="{answer["transaction_id"]}"]')
        expect(item).to_contain_text("bet -2.50 EUR", timeout=WAIT_MS)
        expect(page.locator("#live-strip li")).to_have_count(1)
        received = page.evaluate("window.__frames")
    assert [frame["player_id"] for frame in received] == [str(player.pk)]  # the other's bet came first


def test_the_feeds_filter_changes_on_the_server_without_a_reload(server, player):  # noqa: F811
    staff = make_staff(StaffRole.FINANCE)
    expect = playwright_api().expect
    with chromium_page() as page:
        open_live_feed(page, server.base_url, staff)
        page.evaluate("window.__notReloaded = true")
        page.fill("#feed-min-amount", "1000")
        page.click("#feed-filters button[type=submit]")
        expect(page.locator("#feed-applied")).to_contain_text("amount ≥ 1000", timeout=WAIT_MS)

        small = place_bet(server, player, 999)
        big = place_bet(server, player, 1000)

        row = '#feed tr[data-transaction-id="{}"]'
        expect(page.locator(row.format(big["transaction_id"]))).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator(row.format(small["transaction_id"]))).to_have_count(0)  # committed first
        assert page.evaluate("window.__notReloaded") is True
