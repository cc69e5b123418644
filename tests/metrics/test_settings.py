"""METRICS_ALLOWED_ADDRESSES is read from the environment and checked at start-up: a typo stops
PAM instead of serving /metrics to nobody (or to whom nobody meant)."""

from tests.support import PYTHON, clean_env, run

SHOW = [
    PYTHON,
    "-c",
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pam.settings'); django.setup(); "
    "from django.conf import settings; print(settings.METRICS_ALLOWED_ADDRESSES)",
]


def start(tmp_path, **variables):
    return run(SHOW, clean_env(PAM_DATA_DIR=str(tmp_path), **variables))


def test_loopback_by_default(tmp_path):
    result = start(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['127.0.0.1', '::1']"


def test_addresses_and_networks_from_the_environment(tmp_path):
    result = start(tmp_path, METRICS_ALLOWED_ADDRESSES="10.0.0.0/8,192.0.2.7,2001:db8::/48")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['10.0.0.0/8', '192.0.2.7', '2001:db8::/48']"


def test_a_name_instead_of_an_address_is_refused(tmp_path):
    result = start(tmp_path, METRICS_ALLOWED_ADDRESSES="127.0.0.1,prometheus.internal")

    assert result.returncode != 0
    assert "METRICS_ALLOWED_ADDRESSES: 'prometheus.internal' is not an IP address or network." in result.stderr
