"""`manage.py migrate` one process at a time per database (apps/common/locks.py): web containers
that start together on a new release each migrate first (docs/deployment.md); each waits for the
one before it, and every migration is applied once, none failing on what another created."""

import secrets
import subprocess
import time

import psycopg

from apps.common.locks import _MIGRATIONS
from tests import preflight
from tests.support import PYTHON, ROOT, clean_env

WAIT_SECONDS = 2.0  # how long the migrations are held back, and seen to wait
MIGRATE_TIMEOUT = 300.0


def test_processes_migrating_together_wait_for_the_lock_and_apply_each_migration_once(tmp_path):
    name = f"pam_migrate_{secrets.token_hex(4)}"
    server_url = preflight.test_server_url()
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as server:
        server.execute(f"CREATE DATABASE {name}")
    env = clean_env(DATABASE_URL=f"{server_url}/{name}", PAM_DATA_DIR=str(tmp_path))
    processes = []
    try:
        with psycopg.connect(f"{server_url}/{name}", autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s, 0)", [_MIGRATIONS])  # as a migrate under way would
            command = [PYTHON, "manage.py", "migrate", "--noinput"]
            pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
            processes = [subprocess.Popen(command, cwd=ROOT, env=env, **pipes) for _ in range(2)]
            time.sleep(WAIT_SECONDS)
            assert [process.poll() for process in processes] == [None, None]  # both waiting
            assert holder.execute("SELECT to_regclass('django_migrations')").fetchone() == (None,)
            holder.execute("SELECT pg_advisory_unlock(%s, 0)", [_MIGRATIONS])
            outputs = [process.communicate(timeout=MIGRATE_TIMEOUT) for process in processes]
            assert [process.returncode for process in processes] == [0, 0], [err for _, err in outputs]
            # One applied them all, the other then found nothing left to do.
            assert sorted("No migrations to apply." in out for out, _ in outputs) == [False, True], outputs
            repeated = holder.execute(
                "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
            ).fetchall()
            assert repeated == []
            assert holder.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 100
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
