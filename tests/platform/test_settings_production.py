"""PAM_ENV=production refuses to start with no real SECRET_KEY or with DEBUG on."""

from tests.support import PYTHON, clean_env, run

SETUP = [
    PYTHON,
    "-c",
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pam.settings'); django.setup()",
]
REAL_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"


def test_production_without_secret_key_refuses_to_start():
    result = run(SETUP, clean_env(PAM_ENV="production", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x"))
    assert result.returncode != 0
    assert "PAM_ENV=production needs a real SECRET_KEY" in result.stderr


def test_production_with_a_placeholder_secret_key_refuses_to_start():
    env = clean_env(PAM_ENV="production", SECRET_KEY="django-insecure-" + "x" * 40)
    result = run(SETUP, env)
    assert result.returncode != 0
    assert "needs a real SECRET_KEY" in result.stderr


def test_production_with_debug_on_refuses_to_start():
    result = run(SETUP, clean_env(PAM_ENV="production", SECRET_KEY=REAL_KEY, DEBUG="true"))
    assert result.returncode != 0
    assert "refuses to start with DEBUG on" in result.stderr


def test_production_with_a_real_key_starts(tmp_path):
    result = run(SETUP, clean_env(PAM_ENV="production", SECRET_KEY=REAL_KEY, PAM_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr


def test_unknown_pam_env_refused():
    result = run(SETUP, clean_env(PAM_ENV="staging"))
    assert result.returncode != 0
    assert "PAM_ENV must be 'dev' or 'production'" in result.stderr
