"""The site's login and logout pages (/login/, /logout/) and the back office's login: forms that
work with their CSRF token, and the login throttle's answer on both (429, Retry-After, and a
message saying when to try again)."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ADMIN_LOGIN = "/backoffice/login/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client() -> Client:
    # enforce_csrf_checks: the login form must work with its CSRF token, as a browser posts it.
    return Client(enforce_csrf_checks=True)


def log_in(client: Client, username: str, password: str = PASSWORD, ip: str = "10.0.0.7", page: str = "/login/"):
    form = client.get(page, REMOTE_ADDR=ip)
    token = form.cookies["csrftoken"].value if "csrftoken" in form.cookies else client.cookies["csrftoken"].value
    body = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    return client.post(page, body, REMOTE_ADDR=ip)


def alert(response) -> str:
    """The form's error as the person sees it."""
    html = response.content.decode()
    match = re.search(r'<p class="error[^"]*"[^>]*>(.*?)</p>', html, re.S) or re.search(
        r'<ul class="errorlist nonfield">\s*<li>(.*?)</li>', html, re.S
    )
    assert match, html
    return " ".join(match.group(1).split())


def test_login_page_has_a_csrf_protected_form(client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_without_csrf_token_is_refused(client):
    make_player(username="nocsrf")

    response = client.post("/login/", {"username": "nocsrf", "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_player_logs_in_and_is_sent_to_the_player_page(client):
    make_player(username="paula")

    response = log_in(client, "paula")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" in client.session


def test_wrong_password_shows_the_form_again(client):
    make_player(username="typo")

    response = log_in(client, "typo", password="not-the-password")

    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_the_site_login_answers_the_throttle_with_429_retry_after_and_when_to_try_again(client, clock):
    make_player(username="locked")
    make_player(username="neighbour")
    for _ in range(5):
        assert log_in(client, "locked", password="not-the-password").status_code == 200

    refused = log_in(client, "locked")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert alert(refused) == "Too many failed logins; try again in 30 seconds."
    assert "_auth_user_id" not in client.session
    # Someone else behind the same address is not locked out, nor the player elsewhere.
    assert log_in(Client(enforce_csrf_checks=True), "neighbour").status_code == 302
    assert log_in(Client(enforce_csrf_checks=True), "locked", ip="10.0.0.8").status_code == 302
    clock.shift(30)
    assert log_in(client, "locked").status_code == 302


def test_the_admin_login_answers_the_throttle_with_429_retry_after_and_when_to_try_again(client, clock):
    make_staff(StaffRole.SUPPORT, username="sam")
    for _ in range(5):
        assert log_in(client, "sam", password="not-the-password", page=ADMIN_LOGIN).status_code == 200

    refused = log_in(client, "sam", page=ADMIN_LOGIN)
    elsewhere = log_in(Client(enforce_csrf_checks=True), "sam", ip="10.0.0.8", page=ADMIN_LOGIN)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert alert(refused) == "Too many failed logins; try again in 30 seconds."
    assert elsewhere.status_code == 302


def test_logout_is_a_csrf_protected_post_and_ends_the_session(client):
    client.force_login(make_player(username="leaver").user)
    client.get("/")  # its logout form sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.post("/logout/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302
