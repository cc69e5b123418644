"""With PostgreSQL or Redis missing, the test command fails at once and says how to fix it."""

from tests import preflight
from tests.support import PYTHON, clean_env, free_port, run


def test_closed_postgres_port_fails_fast_with_a_clear_message():
    port = free_port()
    result = run(
        [PYTHON, "-m", "tests.preflight"],
        clean_env(TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/pam"),
        timeout=30,
    )
    assert result.returncode == 3
    assert f"PostgreSQL is not reachable at 127.0.0.1:{port}" in result.stderr
    assert "TEST_DATABASE_URL" in result.stderr
    assert "never skips" in result.stderr


def test_closed_redis_port_fails_fast_with_a_clear_message():
    port = free_port()
    result = run([PYTHON, "-m", "tests.preflight"], clean_env(REDIS_URL=f"redis://127.0.0.1:{port}/0"), timeout=30)
    assert result.returncode == 3
    assert f"Redis is not reachable (REDIS_URL=redis://127.0.0.1:{port}/0)" in result.stderr


def test_pytest_itself_stops_before_any_test_when_postgres_is_missing():
    port = free_port()
    result = run(
        [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "apps/common/tests/test_health.py"],
        clean_env(TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/pam"),
        timeout=60,
    )
    assert result.returncode == 3
    assert f"PostgreSQL is not reachable at 127.0.0.1:{port}" in result.stdout + result.stderr
    assert " passed" not in result.stdout


def test_preflight_passes_when_both_are_up():
    env = clean_env(TEST_DATABASE_URL=preflight.test_database_url(), REDIS_URL=preflight.test_redis_url())
    assert run([PYTHON, "-m", "tests.preflight"], env, timeout=30).returncode == 0


def test_make_test_runs_a_worker_per_core_as_postgresqls_connections_allow():
    assert preflight.workers(2, 300) == 2
    assert preflight.workers(2, 100) == 2  # PostgreSQL's default
    assert preflight.workers(2, 89) == 1
    assert preflight.workers(8, 300) == 8
    assert preflight.workers(16, 300) == 1 + (300 - 60) // 30
    assert preflight.workers(2, 10) == 1  # never none
    assert preflight.max_connections(preflight.test_database_url()) >= 1
