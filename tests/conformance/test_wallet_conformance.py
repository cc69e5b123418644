"""The shared black-box conformance runner (shared/conformance/wallet_api.py) against PAM served
as in production: uvicorn with two workers on a real port, the sandbox management commands run as
separate processes, all on this run's test database. Then the ledger audit must be clean.

The runner starts a management command for each of its players (dozens): each runs in a process of
its own forked from one with Django already set up (warm_manage.py), not in a fresh interpreter
that would spend seconds of CPU importing Django first. The final audit is a plain `manage.py`."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.support import ROOT, clean_env, free_port, stop, wait_for_http, wait_for_path

SHARED = ROOT.parent / "shared"
RUNNER = SHARED / "conformance" / "wallet_api.py"
VENV_BIN = ROOT / ".venv" / "bin"
WARM_MANAGE = Path(__file__).with_name("warm_manage.py")
EXPECTED_LAST_LINE = "49 passed, 0 failed"
SERVER_OPTIONS = "--host 127.0.0.1 --port {port} --workers 2 --lifespan off --no-access-log"


def _test_database_url() -> str:
    """The URL of the database pytest-django created for this run (not the developer's)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _server_env() -> dict[str, str]:
    return clean_env(
        DATABASE_URL=_test_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        PAM_ENV="dev",
        LOG_LEVEL="WARNING",
    )


def _tail(path: Path, lines: int = 80) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# transaction=True: the server and the commands are other processes, so the data must be committed.
# serialized_rollback=True: the seeded rows (currencies, staff groups) are restored first, even if an
# earlier transactional test flushed them.
@pytest.mark.timeout(900)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_wallet_api_passes_the_shared_conformance_runner(tmp_path):
    if not RUNNER.is_file():
        pytest.fail(
            f"The conformance runner is missing: {RUNNER} does not exist. The shared folder must sit next to "
            f"the repository ({SHARED}); this test never skips.",
            pytrace=False,
        )
    python, uvicorn = VENV_BIN / "python", VENV_BIN / "uvicorn"
    for tool in (python, uvicorn):
        assert tool.is_file(), f"{tool} is missing: create the virtualenv first"
    env = _server_env()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server_log = tmp_path / "server.log"

    with server_log.open("w") as log:
        server = subprocess.Popen(
            [str(uvicorn), "pam.asgi:application", *SERVER_OPTIONS.format(port=port).split()],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    manage_socket, manage_log = tmp_path / "manage.sock", tmp_path / "manage.log"
    with manage_log.open("w") as log:
        manage_server = subprocess.Popen(
            [str(python), str(WARM_MANAGE), "serve", str(manage_socket)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_http(f"{base_url}/healthz", server)
            wait_for_path(manage_socket, manage_server)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"a server did not start: {exc}\n{_tail(server_log)}\n{_tail(manage_log)}", pytrace=False)

        manage = f"{shlex.quote(str(python))} {shlex.quote(str(WARM_MANAGE))} {shlex.quote(str(manage_socket))}"
        runner = subprocess.run(
            [str(python), str(RUNNER), "--base-url", base_url, "--manage", manage, "--cwd", str(ROOT)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=800,
            check=False,
        )
        output = (
            f"{runner.stdout}\n--- stderr ---\n{runner.stderr}\n--- server log ---\n{_tail(server_log)}"
            f"\n--- management commands' log ---\n{_tail(manage_log)}"
        )
        lines = [line for line in runner.stdout.splitlines() if line.strip()]
        assert runner.returncode == 0, f"the runner exited {runner.returncode}:\n{output}"
        assert lines, f"the runner printed nothing:\n{output}"
        assert lines[-1].strip() == EXPECTED_LAST_LINE, output

        audit = subprocess.run(
            [str(python), "manage.py", "wallet_audit"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert audit.returncode == 0, f"wallet_audit exited {audit.returncode}:\n{audit.stdout}\n{audit.stderr}"
    finally:
        stop(server)
        stop(manage_server)
