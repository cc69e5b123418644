"""POST /api/player/v1/auth/register: who may register, and the stable code of each refusal."""

import datetime as dt

import pytest
from django.contrib.auth.hashers import identify_hasher
from time_machine import travel

from apps.accounts.models import Currency, Player, User
from apps.accounts.tests.factories import PASSWORD, make_brand, make_player

URL = "/api/player/v1/auth/register"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def brand():
    return make_brand()


def body(**overrides) -> dict:
    return {
        "username": "newplayer",
        "email": "new@example.com",
        "password": PASSWORD,
        "date_of_birth": "1990-05-17",
        "country": "MT",
        "currency": "EUR",
        "brand": "acme",
        **overrides,
    }


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert isinstance(response.json()["error"]["message"], str)


@pytest.mark.production_password_hashers
def test_registration_creates_player_with_argon2_password(api_client):
    response = api_client.post(URL, body(), format="json")

    assert response.status_code == 201
    data = response.json()
    player = Player.objects.get(pk=int(data["player_id"]))
    assert data == {
        "player_id": str(player.pk),
        "username": "newplayer",
        "email": "new@example.com",
        "brand": "acme",
        "country": "MT",
        "currency": "EUR",
        "currency_exponent": 2,
        "date_of_birth": "1990-05-17",
        "status": "active",
        "kyc_status": "unverified",
        "created_at": data["created_at"],
    }
    assert identify_hasher(player.user.password).algorithm == "argon2"
    assert player.user.password.startswith("argon2$argon2id$")
    assert player.user.check_password(PASSWORD)


@travel(dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC), tick=False)
def test_eighteenth_birthday_today_is_old_enough(api_client):
    response = api_client.post(URL, body(date_of_birth="2008-06-15"), format="json")
    assert response.status_code == 201


@travel(dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC), tick=False)
def test_under_18_refused_underage(api_client):
    response = api_client.post(URL, body(date_of_birth="2008-06-16"), format="json")
    assert_refused(response, 422, "UNDERAGE")
    assert not User.objects.filter(username="newplayer").exists()


def test_duplicate_email_in_same_brand_refused_case_insensitively(api_client):
    make_player(email="taken@example.com", brand="acme")
    response = api_client.post(URL, body(email="Taken@Example.com"), format="json")
    assert_refused(response, 409, "EMAIL_TAKEN")
    assert not User.objects.filter(username="newplayer").exists()


def test_same_email_in_another_brand_accepted(api_client):
    make_player(email="shared@example.com", brand="other")
    response = api_client.post(URL, body(email="shared@example.com"), format="json")
    assert response.status_code == 201


def test_duplicate_username_refused(api_client):
    make_player(username="NewPlayer")
    response = api_client.post(URL, body(), format="json")
    assert_refused(response, 409, "USERNAME_TAKEN")
    assert Player.objects.count() == 1


@pytest.mark.parametrize("password", ["short9", "password123", "1234567890123", "newplayer-x"])
def test_weak_password_refused(api_client, password):
    response = api_client.post(URL, body(password=password), format="json")
    assert_refused(response, 422, "WEAK_PASSWORD")
    assert response.json()["error"]["reasons"]
    assert not User.objects.exists()


@pytest.mark.parametrize("currency", ["ZZZ", "XAU"])
def test_a_currency_outside_the_schemas_list_is_an_invalid_request(api_client, currency):
    """The schema lists the ISO 4217 codes PAM knows (`CurrencyCode`); anything else is malformed."""
    response = api_client.post(URL, body(currency=currency), format="json")
    assert_refused(response, 400, "INVALID_REQUEST")
    assert set(response.json()["error"]["fields"]) == {"currency"}
    assert not User.objects.exists()


def test_a_known_currency_no_longer_offered_refused_unknown_currency(api_client):
    Currency.objects.filter(code="EUR").update(is_active=False)
    response = api_client.post(URL, body(currency="EUR"), format="json")
    assert_refused(response, 422, "UNKNOWN_CURRENCY")
    assert not User.objects.exists()


def test_unknown_brand_refused_not_found(api_client):
    response = api_client.post(URL, body(brand="nope"), format="json")
    assert_refused(response, 404, "UNKNOWN_BRAND")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"currency": "eur"},
        {"country": "mt"},
        {"date_of_birth": "17/05/1990"},
        {"email": "not-an-email"},
        {"username": "a b"},
        {"password": None},
    ],
)
def test_malformed_fields_refused_invalid_request(api_client, overrides):
    response = api_client.post(URL, body(**overrides), format="json")
    assert_refused(response, 400, "INVALID_REQUEST")
    assert set(response.json()["error"]["fields"]) == set(overrides)
    assert not User.objects.exists()


def test_missing_fields_listed(api_client):
    response = api_client.post(URL, {}, format="json")
    assert_refused(response, 400, "INVALID_REQUEST")
    assert set(response.json()["error"]["fields"]) == set(body())


def test_currencies_know_their_exponents():
    from apps.accounts.models import Currency

    assert {c.code: c.exponent for c in Currency.objects.filter(code__in=["EUR", "JPY", "BHD"])} == {
        "EUR": 2,
        "JPY": 0,
        "BHD": 3,
    }
