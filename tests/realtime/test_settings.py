"""The real-time settings read from the environment: the heartbeat period stays within the
contract's 25 seconds, and the channel layer's Redis timeouts are set deliberately."""

import pytest

from tests.support import PYTHON, clean_env, run

# No queries; without any database test in a run, the root conftest's session teardown fails.
pytestmark = pytest.mark.django_db

PRINT = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pam.settings'); django.setup(); "
    "from django.conf import settings as s; "
    "print(s.REALTIME_HEARTBEAT_SECONDS, s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('hosts'))"
)


def settings_with(**env: str):
    return run([PYTHON, "-c", PRINT], clean_env(**env))


def test_the_heartbeat_defaults_to_20_seconds_and_the_layer_has_its_timeouts(tmp_path):
    result = settings_with(REDIS_URL="redis://127.0.0.1:6379/0", PAM_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=1)[0] == "20.0"
    for option in ("'socket_connect_timeout': 2", "'socket_timeout': 10", "'max_connections': 100"):
        assert option in result.stdout


def test_the_heartbeat_is_read_from_the_environment(tmp_path):
    result = settings_with(REALTIME_HEARTBEAT_SECONDS="1.5", PAM_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1.5 ")


@pytest.mark.parametrize("seconds", ["0", "-1", "25.5", "60"])
def test_a_heartbeat_outside_the_contract_refuses_to_start(seconds, tmp_path):
    result = settings_with(REALTIME_HEARTBEAT_SECONDS=seconds, PAM_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "REALTIME_HEARTBEAT_SECONDS must be above 0 and at most 25" in result.stderr
