"""With no DATABASE_URL, PAM runs embedded: SQLite (WAL) in the data dir, in-memory channel layer,
Celery eager, and the server answers."""

import json
import sqlite3
import subprocess
import urllib.request

from tests.support import PYTHON, ROOT, clean_env, free_port, run, stop, wait_for_http

SHOW_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'transaction_mode': s.DATABASES['default']['OPTIONS']['transaction_mode']}))"
)


def test_embedded_mode_starts_without_database_url(tmp_path):
    env = clean_env(PAM_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="pam.settings")

    shown = run([PYTHON, "-c", SHOW_SETTINGS], env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "name": str(tmp_path / "pam.sqlite3"),
        "layer": "channels.layers.InMemoryChannelLayer",
        "eager": True,
        "transaction_mode": "IMMEDIATE",
    }

    migrated = run([PYTHON, "manage.py", "migrate", "--noinput"], env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "checks": {"database": "ok"}}
    finally:
        stop(server)

    with sqlite3.connect(tmp_path / "pam.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count(*) FROM accounts_currency").fetchone()[0] > 100

    # The staff-action trail works without its PostgreSQL trigger: an adjustment made by a
    # command is chained, and the audit checks the chain (and skips the trigger check).
    created = run([PYTHON, "manage.py", "create_player", "alice", "--password", "embedded-horse-42", "--balance",
                   "500"], env)  # fmt: skip
    assert created.returncode == 0, created.stderr
    audited = run([PYTHON, "manage.py", "staff_audit"], env)
    assert (audited.returncode, audited.stdout.splitlines()[-1]) == (0, "staff_audit: clean (1 staff actions)")
