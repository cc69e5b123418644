"""The login throttle's settings are checked at start-up: a typo in TRUSTED_PROXIES or limits that
contradict each other stop PAM instead of throttling in a way nobody configured."""

import pytest

from tests.support import PYTHON, clean_env, run

SETUP = [
    PYTHON,
    "-c",
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pam.settings'); django.setup()",
]


def start(tmp_path, **variables):
    return run(SETUP, clean_env(PAM_DATA_DIR=str(tmp_path), **variables))


def test_trusted_proxies_of_addresses_and_networks_start(tmp_path):
    result = start(tmp_path, TRUSTED_PROXIES="192.0.2.10,10.8.0.0/16,2001:db8::/48")
    assert result.returncode == 0, result.stderr


def test_a_trusted_proxy_that_is_not_an_address_is_refused(tmp_path):
    result = start(tmp_path, TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network." in result.stderr


@pytest.mark.parametrize(
    "variables",
    [
        {"LOGIN_DELAY_SECONDS": "600", "LOGIN_MAX_DELAY_SECONDS": "300"},
        {"LOGIN_MAX_DELAY_SECONDS": "7200", "LOGIN_FAILURE_WINDOW_SECONDS": "3600"},
    ],
)
def test_waits_longer_than_what_they_follow_are_refused(tmp_path, variables):
    result = start(tmp_path, **variables)
    assert result.returncode != 0
    assert "LOGIN_DELAY_SECONDS <= LOGIN_MAX_DELAY_SECONDS <= LOGIN_FAILURE_WINDOW_SECONDS" in result.stderr


def test_the_former_cool_off_setting_is_refused_with_what_replaces_it(tmp_path):
    result = start(tmp_path, LOGIN_COOLOFF_MINUTES="15")
    assert result.returncode != 0
    assert "LOGIN_COOLOFF_MINUTES is gone" in result.stderr
    assert "LOGIN_MAX_DELAY_SECONDS" in result.stderr
