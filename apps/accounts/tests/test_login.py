"""Login, bearer tokens, logout, and the login throttle through the player API: by the (username,
address) pair with growing waits, a far higher ceiling per address, and the client's address taken
from X-Forwarded-For only when a trusted proxy sent it."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.accounts.choices import StaffRole
from apps.accounts.models import AuthToken
from apps.accounts.tests.factories import PASSWORD, make_player, make_staff

LOGIN = "/api/player/v1/auth/login"
LOGOUT = "/api/player/v1/auth/logout"
ME = "/api/player/v1/me"
START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # on a boundary of the address's windows
pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    """The clock stands still at START until the test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def log_in(client, username, password=PASSWORD, ip="10.0.0.1", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **headers)


def fail(client, username, times, ip="10.0.0.1", **headers):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", ip=ip, **headers)
        assert response.status_code == 401, response.json()


def assert_locked(response, retry_after):
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert response.json()["error"]["retry_after"] == retry_after
    assert response["Retry-After"] == str(retry_after)


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


def test_the_pair_waits_after_its_free_failures_and_the_password_is_not_checked(api_client, clock):
    make_player(username="ann")
    fail(api_client, "ann", 5)

    # The right password is refused too: it is not even checked while the pair waits.
    assert_locked(log_in(api_client, "ann"), 30)
    clock.shift(29)
    assert_locked(log_in(api_client, "ann"), 1)
    clock.shift(1)
    assert log_in(api_client, "ann").status_code == 200


def test_the_pairs_wait_doubles_with_each_further_failure_up_to_the_cap(api_client, clock):
    make_player(username="ann")
    fail(api_client, "ann", 5)
    waits = []
    for _ in range(7):
        locked = log_in(api_client, "ann", "wrong-password")
        assert locked.status_code == 429
        waits.append(locked.json()["error"]["retry_after"])
        clock.shift(waits[-1])
        fail(api_client, "ann", 1)

    assert waits == [30, 60, 120, 240, 480, 900, 900]


def test_failures_on_one_user_from_one_address_lock_neither_another_user_there_nor_the_user_elsewhere(
    api_client, clock
):
    make_player(username="ann")
    make_player(username="bob")
    fail(api_client, "ann", 5, ip="10.0.0.1")

    assert_locked(log_in(api_client, "ann", ip="10.0.0.1"), 30)
    assert log_in(api_client, "bob", ip="10.0.0.1").status_code == 200
    assert log_in(api_client, "ann", ip="10.0.0.2").status_code == 200


def test_username_case_does_not_buy_more_attempts(api_client, clock):
    make_player(username="ann")
    fail(api_client, "ann", 3)
    fail(api_client, "ANN", 2)

    assert_locked(log_in(api_client, "ann"), 30)


def test_a_success_clears_the_pair(api_client, clock):
    make_player(username="ann")
    fail(api_client, "ann", 5)
    clock.shift(30)
    assert log_in(api_client, "ann").status_code == 200

    # Five free failures again, then the first, shortest wait.
    fail(api_client, "ann", 5)
    assert_locked(log_in(api_client, "ann"), 30)


def test_the_pairs_failures_are_forgotten_a_window_after_the_last_one(api_client, clock, settings):
    make_player(username="ann")
    fail(api_client, "ann", 4)
    clock.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS - 1)
    fail(api_client, "ann", 1)
    assert_locked(log_in(api_client, "ann"), 30)  # the fifth failure still counted with the others

    clock.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    fail(api_client, "ann", 4)
    assert log_in(api_client, "ann").status_code == 200


def test_many_usernames_from_one_address_are_slowed_by_the_address_ceiling(api_client, clock, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    make_player(username="ann")
    for n in range(12):
        fail(api_client, f"guess{n}", 1, ip="10.0.3.3")
    clock.shift(100)

    # Past the ceiling, any username from the address waits for the next window (600 s each)...
    assert_locked(log_in(api_client, "ann", ip="10.0.3.3"), 500)
    assert_locked(log_in(api_client, "guess99", "wrong-password", ip="10.0.3.3"), 500)
    # ...while the same player from another address logs in.
    assert log_in(api_client, "ann", ip="10.0.3.4").status_code == 200

    clock.shift(500)
    assert log_in(api_client, "ann", ip="10.0.3.3").status_code == 200


def test_successful_logins_do_not_count_against_the_address(api_client, clock, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for n in range(6):
        make_player(username=f"crowd{n}")
        assert log_in(api_client, f"crowd{n}", ip="10.0.4.4").status_code == 200
    fail(api_client, "crowd0", 3, ip="10.0.4.4")

    assert_locked(log_in(api_client, "crowd1", ip="10.0.4.4"), 600)


def test_an_ipv6_client_counts_as_its_64(api_client, clock):
    make_player(username="ann")
    for n in range(5):
        fail(api_client, "ann", 1, ip=f"2001:db8:1:2::{n + 1}")

    assert_locked(log_in(api_client, "ann", ip="2001:db8:1:2:ffff::9"), 30)
    assert log_in(api_client, "ann", ip="2001:db8:1:3::1").status_code == 200


def test_a_forwarding_header_from_an_untrusted_peer_is_ignored(api_client, clock, settings):
    """Otherwise anyone could pose as any address: a fresh X-Forwarded-For per attempt would make
    every attempt a new pair."""
    settings.TRUSTED_PROXIES = ["192.0.2.10"]
    make_player(username="ann")
    for n in range(5):
        fail(api_client, "ann", 1, ip="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    locked = log_in(api_client, "ann", ip="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.200")

    assert_locked(locked, 30)


def test_a_forwarding_header_from_a_trusted_proxy_names_the_client(api_client, clock, settings):
    settings.TRUSTED_PROXIES = ["192.0.2.10", "10.8.0.0/16"]
    make_player(username="ann")
    behind_proxy = {"ip": "192.0.2.10"}
    # The client's own claim (leftmost) is not believed: the first untrusted hop from the right is.
    fail(api_client, "ann", 5, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7, 10.8.3.4", **behind_proxy)

    same_client = log_in(api_client, "ann", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7", **behind_proxy)
    other_client = log_in(api_client, "ann", HTTP_X_FORWARDED_FOR="203.0.113.8, 10.8.0.1", **behind_proxy)

    assert_locked(same_client, 30)
    assert other_client.status_code == 200


def test_without_trusted_proxies_every_client_behind_a_proxy_shares_its_address(api_client, clock, settings):
    assert settings.TRUSTED_PROXIES == []  # the default: no header is believed
    make_player(username="ann")
    fail(api_client, "ann", 5, ip="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert_locked(log_in(api_client, "ann", ip="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.8"), 30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_attempts_on_one_pair_get_one_password_check_past_the_free_failures(clock):
    """A burst must not slip through on "no failures yet": attempts on a pair run one at a time."""
    make_player(username="ann")
    fail(APIClient(), "ann", 4)
    start = threading.Barrier(12)

    def attempt(_):
        try:
            start.wait()
            return log_in(APIClient(), "ann", "wrong-password").status_code
        finally:
            connection.close()  # the thread's own; the test database is dropped at the end

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(attempt, range(12)))

    # The fifth failure is the only one checked; the others wait for it or for the pair's delay.
    assert statuses == [401] + [429] * 11
    assert_locked(log_in(APIClient(), "ann"), 30)


def test_the_schema_declares_the_lockout_answer_with_its_wait():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    locked = schema["paths"]["/api/player/v1/auth/login"]["post"]["responses"]["429"]

    assert locked["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert locked["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LoginLocked"}
    detail = schema["components"]["schemas"]["LoginLockedDetail"]
    assert detail["required"] == ["code", "message", "retry_after"]


@pytest.fixture
def throttle_store_away(settings):
    """The cache (the throttle's store) points at a port where no Redis listens: refused at once."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_a_login_while_the_throttles_store_is_away_is_refused_503_with_when_to_retry(api_client, throttle_store_away):
    make_player(username="ann")

    response = log_in(api_client, "ann")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "LOGIN_UNAVAILABLE"
    assert response.json()["error"]["retry_after"] == 5
    assert response["Retry-After"] == "5"
    assert not AuthToken.objects.exists()


def test_the_site_login_while_the_throttles_store_is_away_says_so_with_503(client, throttle_store_away):
    make_player(username="ann")

    response = client.post("/login/", {"username": "ann", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "unavailable" in response.content.decode()
    assert "_auth_user_id" not in client.session
