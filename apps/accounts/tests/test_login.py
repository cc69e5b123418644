"""Login, bearer tokens, logout and the throttle on failed logins (per account and per IP)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.models import AuthToken
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff

LOGIN = "/api/player/v1/auth/login"
LOGOUT = "/api/player/v1/auth/logout"
ME = "/api/player/v1/me"
pytestmark = pytest.mark.django_db


def log_in(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


def test_login_returns_token_and_player_id_and_token_authenticates(api_client):
    player = make_player(username="ann")

    response = log_in(api_client, "ann")

    assert response.status_code == 200
    assert set(response.json()) == {"token", "player_id"}
    assert response.json()["player_id"] == str(player.pk)
    token = response.json()["token"]
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    assert me.json()["player_id"] == str(player.pk)
    assert me.json()["username"] == "ann"
    # Only the hash is stored.
    assert not AuthToken.objects.filter(key_hash=token).exists()


def test_logout_revokes_the_token(api_client):
    make_player(username="ann")
    token = log_in(api_client, "ann").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    assert api_client.post(LOGOUT, **auth).status_code == 204

    response = api_client.get(ME, **auth)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_expired_token_refused(api_client):
    make_player(username="ann")
    token = log_in(api_client, "ann").json()["token"]
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_me_without_credentials_is_401(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_me_with_session(api_client):
    player = make_player()
    api_client.force_login(player.user)
    assert api_client.get(ME).json()["player_id"] == str(player.pk)


def test_wrong_password_is_invalid_credentials(api_client):
    make_player(username="ann")
    response = log_in(api_client, "ann", "wrong-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_staff_cannot_log_in_as_player(api_client):
    make_staff(StaffRole.SUPPORT, username="sam")
    response = log_in(api_client, "sam")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_A_PLAYER"


def test_account_locked_after_five_failures_from_any_ip(api_client, settings):
    make_player(username="ann")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(api_client, "ann", "wrong-password", ip=f"10.0.1.{n}").status_code == 401
    # The failure that reaches the limit is itself answered with the lockout.
    assert log_in(api_client, "ann", "wrong-password", ip="10.0.1.99").status_code == 429

    # The right password from a fresh IP is refused too: the account is locked.
    response = log_in(api_client, "ann", ip="10.0.2.1")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert int(response["Retry-After"]) == 15 * 60


def test_ip_locked_after_five_failures_on_any_accounts(api_client, settings):
    make_player(username="ann")
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(api_client, f"guess{n}", "wrong-password", ip="10.0.3.3")

    locked = log_in(api_client, "ann", ip="10.0.3.3")
    elsewhere = log_in(api_client, "ann", ip="10.0.3.4")

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert elsewhere.status_code == 200


def test_lockout_ends_after_cool_off(api_client, settings):
    make_player(username="ann")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(api_client, "ann", "wrong-password")
    assert log_in(api_client, "ann").status_code == 429

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)):
        assert log_in(api_client, "ann").status_code == 200


def test_success_resets_the_failure_count(api_client, settings):
    make_player(username="ann")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(api_client, "ann", "wrong-password")
    assert log_in(api_client, "ann").status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(api_client, "ann", "wrong-password")
    assert log_in(api_client, "ann").status_code == 200
