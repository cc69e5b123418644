"""`manage.py create_database` (the first step of `make serve`): creates DATABASE_URL's database
on a fresh server, does nothing when it exists, and says clearly when PostgreSQL is unreachable."""

import secrets

import psycopg

from tests import preflight
from tests.support import PYTHON, clean_env, run


def _exists(name: str) -> bool:
    with psycopg.connect(f"{preflight.test_server_url()}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_creates_the_database_once(tmp_path):
    name = f"pam_createdb_{secrets.token_hex(4)}"
    env = clean_env(DATABASE_URL=f"{preflight.test_server_url()}/{name}", PAM_DATA_DIR=str(tmp_path))
    try:
        first = run([PYTHON, "manage.py", "create_database"], env)
        assert (first.returncode, first.stdout.strip()) == (0, f"created database {name}"), first.stderr
        assert _exists(name)
        again = run([PYTHON, "manage.py", "create_database"], env)
        assert (again.returncode, again.stdout.strip()) == (0, "")
    finally:
        with psycopg.connect(f"{preflight.test_server_url()}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    env = clean_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/pam", PAM_DATA_DIR=str(tmp_path))
    result = run([PYTHON, "manage.py", "create_database"], env)
    assert result.returncode == 1
    assert "cannot reach PostgreSQL to create database 'pam'" in result.stderr
