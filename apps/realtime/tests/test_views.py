"""The player page of the site (`/`): who sees what, and that the page hands the client the
version it was rendered at. The login and logout pages are tested in apps/accounts."""

import json

import pytest
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff
from apps.common.idempotency import ExternalRef
from apps.wallet import services as wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    # enforce_csrf_checks: the login form must work with its CSRF token, as a browser posts it.
    return Client(enforce_csrf_checks=True)


def log_in(client: Client, username: str, password: str = PASSWORD, next_url: str = ""):
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    body = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    if next_url:
        body["next"] = next_url
    return client.post("/login/", body, REMOTE_ADDR="10.0.0.7")


def client_config(response, element: str = "site-wallet") -> dict:
    """The JSON a page hands to its scripts: `site-wallet` (every page: site.js resumes the live
    wallet from that version), `wallet-page` (player.js)."""
    html = response.content.decode()
    opening = f'<script id="{element}" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


def test_anonymous_visitor_is_sent_to_the_site_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_player_logs_in_and_sees_balance_and_last_transactions(client):
    player = make_player(username="paula")
    wallet.adjust_balance(player_id=player.pk, amount=10_000, reason="test funds", acting_user=None)
    wallet.place_bet(
        player_id=player.pk,
        currency="EUR",
        amount=250,
        ref=ExternalRef("provider:view-test", "tx-1", "fp-1"),
        round_id="r1",
        game_id="slot-1",
    )

    login = log_in(client, "paula", next_url="/")
    page = client.get("/")

    assert login.status_code == 302
    assert login["Location"] == "/"
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span id="balance">97.50</span>' in html
    assert '<dd id="cash">97.50</dd>' in html
    assert '<dd id="bonus">0.00</dd>' in html
    assert '<span class="currency" id="currency">EUR</span>' in html
    # Newest first: the bet (version 2), then the funding (version 1).
    assert html.index('data-version="2"') < html.index('data-version="1"')
    assert '<td>Bet</td><td class="num">-2.50</td><td class="num">97.50</td>' in html
    assert client_config(page) == {"version": 2, "exponent": 2}
    config = client_config(page, "wallet-page")
    assert config["keep"] == 10
    assert (config["kinds"]["bet"], config["kinds"]["withdrawal_returned"]) == ("Bet", "Withdrawal returned")
    assert '<span id="header-balance">97.50</span>' in html  # the header, at the same version
    assert "js/pam-realtime.js" not in html  # loaded by site.js, as a module
    assert "js/site.js" in html
    assert "js/player.js" in html


def test_player_without_transactions_sees_zero_and_an_empty_list(client):
    client.force_login(make_player(username="newbie").user)

    page = client.get("/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<span id="balance">0.00</span>' in html
    assert "data-version=" not in html
    assert '<p id="no-transactions" class="muted">' in html
    assert client_config(page)["version"] == 0


def test_staff_without_player_gets_a_link_to_the_back_office(client):
    staff = make_staff(StaffRole.SUPPORT, username="sam")
    client.force_login(staff)

    response = client.get("/")

    assert response.status_code == 200
    assert b"No player account" in response.content
    assert b'href="/backoffice/"' in response.content
    assert b'id="site-wallet"' not in response.content
    assert b'id="wallet-page"' not in response.content
