"""The site's registration (`/register/`) and account (`/account/`) pages: what they render, that
a POST goes through the services, refusals shown on the page, CSRF enforced, and a player only
ever sees their own profile."""

import pytest
from django.test import Client

from apps.accounts.models import Player, User
from apps.accounts.tests.factories import PASSWORD, make_brand, make_player
from apps.compliance import selectors as compliance

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf(client: Client, path: str) -> str:
    client.get(path)
    return client.cookies["csrftoken"].value


def registration_form(**overrides) -> dict:
    return {
        "username": "newplayer",
        "email": "new@example.com",
        "password": "a-long-enough-passphrase",
        "date_of_birth": "1990-05-01",
        "country": "mt",
        "currency": "EUR",
        "deposit_limit_period": "7d",
        "deposit_limit_amount": "250.50",
        **overrides,
    }


def test_register_offers_a_deposit_limit_where_the_jurisdiction_asks(client, settings):
    settings.SITE_BRAND = make_brand("acme").code  # the default profile (UKGC) asks for one

    page = client.get("/register/")

    assert page.status_code == 200
    assert b'name="deposit_limit_amount"' in page.content
    assert b'<option value="EUR"' in page.content


def test_register_creates_the_player_with_the_limit_and_logs_them_in(client, settings):
    settings.SITE_BRAND = make_brand("acme").code
    token = csrf(client, "/register/")

    response = client.post("/register/", {**registration_form(), "csrfmiddlewaretoken": token})

    assert (response.status_code, response["Location"]) == (302, "/")
    player = Player.objects.get(user__username="newplayer")
    assert (player.country, player.currency_id, player.brand.code) == ("MT", "EUR", "acme")
    assert [(limit.kind, limit.period, limit.amount) for limit in compliance.list_limits(player)] == [
        ("deposit", "7d", 25_050)
    ]
    assert client.get("/").status_code == 200  # logged in


def test_register_refusal_is_shown_and_nothing_is_created(client, settings):
    settings.SITE_BRAND = make_brand("acme").code
    token = csrf(client, "/register/")

    response = client.post(
        "/register/", {**registration_form(date_of_birth="2020-01-01"), "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 422
    assert b'data-code="UNDERAGE"' in response.content
    assert b"at least 18" in response.content
    assert b"a-long-enough-passphrase" not in response.content  # the password is never echoed
    assert not User.objects.filter(username="newplayer").exists()


def test_register_field_errors_are_shown_per_field(client, settings):
    settings.SITE_BRAND = make_brand("acme").code
    token = csrf(client, "/register/")

    response = client.post(
        "/register/",
        {**registration_form(email="nope", deposit_limit_amount="12,5"), "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 400
    assert b'id="err-email"' in response.content
    assert b'id="err-limit"' in response.content
    assert not User.objects.filter(username="newplayer").exists()


def test_register_without_csrf_token_is_refused(client, settings):
    settings.SITE_BRAND = make_brand("acme").code

    response = client.post("/register/", registration_form())

    assert response.status_code == 403
    assert not User.objects.filter(username="newplayer").exists()


def test_register_for_an_unknown_brand_is_404(client):
    assert client.get("/register/?brand=nobody").status_code == 404


def test_account_needs_a_login(client):
    response = client.get("/account/")

    assert (response.status_code, response["Location"]) == (302, "/login/?next=/account/")


def test_account_shows_the_own_profile_and_kyc_status_only(client):
    player = make_player(username="owner", email="owner@example.com")
    make_player(username="someoneelse", email="else@example.com")
    client.force_login(player.user)

    page = client.get("/account/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "owner@example.com" in html
    assert '<dd id="kyc-status">Unverified</dd>' in html
    assert "someoneelse" not in html
    assert "else@example.com" not in html


NEW_PASSWORD = "brand-new-passphrase-7"


def change_password(client: Client, current: str, new: str = NEW_PASSWORD, again: str = NEW_PASSWORD):
    """A logged-in player posts the change-of-password form of /account/; returns (player, response)."""
    player = make_player()
    client.force_login(player.user)
    token = csrf(client, "/account/")
    response = client.post("/account/", {"current_password": current, "new_password": new,
                                         "new_password_again": again, "csrfmiddlewaretoken": token})  # fmt: skip
    return player, response


def test_change_password_keeps_this_session_and_changes_the_password(client):
    player, response = change_password(client, PASSWORD)

    assert response.status_code == 200
    assert b"Your password was changed" in response.content
    assert User.objects.get(pk=player.user_id).check_password(NEW_PASSWORD)
    assert client.get("/account/").status_code == 200  # still logged in


@pytest.mark.parametrize(
    ("current", "again", "message"),
    [("wrong", NEW_PASSWORD, b"The current password is wrong."),
     (PASSWORD, "something-else-entirely", b"The two new passwords differ.")],
)  # fmt: skip
def test_a_refused_change_of_password_changes_nothing(client, current, again, message):
    player, response = change_password(client, current, again=again)

    assert response.status_code == 400
    assert message in response.content
    assert User.objects.get(pk=player.user_id).check_password(PASSWORD)


def test_registrations_from_one_address_share_one_budget_across_the_api_and_the_site(client, settings, monkeypatch):
    from rest_framework.test import APIClient

    from apps.accounts.registration_throttle import RegistrationThrottle

    settings.SITE_BRAND = make_brand("acme").code
    monkeypatch.setattr(RegistrationThrottle, "THROTTLE_RATES", {"registration": "2/hour"})
    api = APIClient()
    first = api.post("/api/player/v1/auth/register", {**registration_form(username="viaapi", email="a@example.com"),
                     "brand": "acme", "country": "MT", "deposit_limits": []}, format="json")  # fmt: skip
    token = csrf(client, "/register/")
    second = client.post("/register/", {**registration_form(), "csrfmiddlewaretoken": token})
    client.logout()
    token = csrf(client, "/register/")

    third = client.post("/register/", {**registration_form(username="third", email="third@example.com"),
                                      "csrfmiddlewaretoken": token})  # fmt: skip

    assert (first.status_code, second.status_code) == (201, 302)
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert b"Too many accounts were registered from your address" in third.content
    assert not User.objects.filter(username="third").exists()
    refused_api = api.post("/api/player/v1/auth/register", {**registration_form(username="fourth"), "brand": "acme"},
                           format="json")  # fmt: skip
    assert (refused_api.status_code, refused_api.json()["error"]["code"]) == (429, "TOO_MANY_REQUESTS")
