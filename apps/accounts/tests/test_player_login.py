"""Every player login is recorded (`PlayerLogin`: when, the client address as the login throttle
computes it, the user agent, the device's keyed hash) with its `accounts.player_logged_in` event in
the same transaction; the site gives a browser its long-lived `pam_device` cookie; an API client
names its device with `X-Device-Id`. The raw device id is never stored."""

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import device
from apps.accounts.choices import StaffRole
from apps.accounts.models import PlayerLogin
from apps.accounts.tests.factories import PASSWORD, make_brand, make_player, make_staff
from apps.common.identity import identity_hash
from apps.common.models import OutboxEvent

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
API_LOGIN = "/api/player/v1/auth/login"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def site_log_in(client: Client, username: str, ip: str = "203.0.113.7", **headers):
    form = client.get("/login/", REMOTE_ADDR=ip, **headers)
    body = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return form, client.post("/login/", body, REMOTE_ADDR=ip, **headers)


def api_log_in(client: APIClient, username: str, ip: str = "203.0.113.7", password: str = PASSWORD, **headers):
    body = {"username": username, "password": password}
    return client.post(API_LOGIN, body, format="json", REMOTE_ADDR=ip, **headers)


def login_events() -> list[dict]:
    return [event.payload for event in OutboxEvent.objects.filter(name="accounts.player_logged_in").order_by("pk")]


def test_the_site_gives_a_browser_its_device_cookie_once_and_the_login_records_its_hash_only():
    player = make_player(username="ann")
    client = Client(enforce_csrf_checks=True)

    form, answer = site_log_in(client, "ann", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 400)

    assert answer.status_code == 302
    cookie = form.cookies[device.COOKIE]
    device_id = cookie.value
    assert len(device_id) >= 43  # 256 random bits
    assert (cookie["max-age"], cookie["httponly"], cookie["samesite"]) == (730 * 86_400, True, "Lax")
    assert device.COOKIE not in answer.cookies  # the browser has one: not issued again
    login = PlayerLogin.objects.get()
    assert (login.player, login.at, login.address) == (player, START, "203.0.113.7")
    assert login.user_agent == ("Mozilla/5.0 " + "x" * 400)[:255]
    assert login.device_hash == identity_hash("device", device_id)
    assert device_id not in json.dumps(list(PlayerLogin.objects.values()), default=str)
    assert device_id not in json.dumps(login_events())
    assert login_events() == [{
        "player_id": str(player.pk), "login_id": str(login.pk), "at": "2026-03-02T12:00:00Z",
        "address": "203.0.113.7", "network": "203.0.113.7", "device_hash": login.device_hash,
    }]  # fmt: skip


def test_two_logins_from_one_browser_have_one_device_and_two_browsers_two():
    make_player(username="ann")
    make_player(username="bob")
    shared, other = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)

    site_log_in(shared, "ann")
    shared.post("/logout/", {"csrfmiddlewaretoken": shared.cookies["csrftoken"].value}, REMOTE_ADDR="203.0.113.7")
    site_log_in(shared, "bob")
    site_log_in(other, "bob")

    hashes = list(PlayerLogin.objects.order_by("pk").values_list("player__user__username", "device_hash"))
    assert [name for name, _ in hashes] == ["ann", "bob", "bob"]
    assert hashes[0][1] == hashes[1][1] != hashes[2][1]


def test_an_api_login_records_the_x_device_id_header_hashed_and_gets_no_cookie():
    player = make_player(username="ann")

    answer = api_log_in(APIClient(), "ann", HTTP_X_DEVICE_ID="app-install-0123456789abcdef")

    assert answer.status_code == 200
    assert device.COOKIE not in answer.cookies
    login = PlayerLogin.objects.get(player=player)
    assert login.device_hash == identity_hash("device", "app-install-0123456789abcdef")
    assert "app-install-0123456789abcdef" not in json.dumps(list(PlayerLogin.objects.values()), default=str)


def test_an_api_login_without_a_device_or_with_a_malformed_one_records_none():
    make_player(username="ann")

    api_log_in(APIClient(), "ann")
    api_log_in(APIClient(), "ann", HTTP_X_DEVICE_ID="short")

    assert list(PlayerLogin.objects.values_list("device_hash", flat=True)) == ["", ""]
    assert [event["device_hash"] for event in login_events()] == ["", ""]


def test_the_address_is_the_throttles_behind_a_trusted_proxy_and_an_ipv6_network_is_its_64(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.10"]
    make_player(username="ann")

    api_log_in(APIClient(), "ann", ip="192.0.2.10", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4")
    api_log_in(APIClient(), "ann", ip="2001:db8:1:2:aaaa::1")

    assert list(PlayerLogin.objects.order_by("pk").values_list("address", flat=True)) == [
        "198.51.100.4", "2001:db8:1:2:aaaa::1"]  # fmt: skip
    assert [event["network"] for event in login_events()] == ["198.51.100.4", "2001:db8:1:2::/64"]


def test_a_failed_login_and_a_staff_login_record_nothing():
    make_player(username="ann")
    make_staff(StaffRole.SUPPORT, username="sam")

    assert api_log_in(APIClient(), "ann", password="wrong").status_code == 401
    site_log_in(Client(enforce_csrf_checks=True), "sam")
    staff_client = Client()
    staff_client.login(username="sam", password=PASSWORD)

    assert (PlayerLogin.objects.exists(), login_events()) == (False, [])


def test_registration_logs_the_new_player_in_and_records_it():
    client = Client()
    client.get("/register/", REMOTE_ADDR="203.0.113.9")
    body = {"username": "newbie", "email": "newbie@example.com", "password": "a long enough passphrase 42",
            "date_of_birth": "1990-01-01", "country": "MT", "currency": "EUR"}  # fmt: skip
    make_brand("acme")
    answer = client.post("/register/?brand=acme", body, REMOTE_ADDR="203.0.113.9")

    assert answer.status_code == 302, answer.content
    login = PlayerLogin.objects.get()
    assert (login.player.user.username, login.address) == ("newbie", "203.0.113.9")
    assert login.device_hash == identity_hash("device", client.cookies[device.COOKIE].value)
