"""Helpers for tests that run PAM in another process, as an operator would."""

from __future__ import annotations

import asyncio
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# The embedded database that tests/conftest.py migrates once per run: the studio's secret (the
# provider row is given it at migrate, so a process that plays a studio round must be started with
# it) and the one player it holds (username, password, balance in minor units).
EMBEDDED_STUDIO_SECRET = "embedded-studio-secret-0123456789"
EMBEDDED_PLAYER = ("alice", "embedded-horse-42", 500)

# What a test process carries that a fresh operator's shell would not.
_PAM_VARIABLES = ("DATABASE_URL", "REDIS_URL", "PAM_ENV", "DEBUG", "SECRET_KEY", "ENV_FILE", "PAM_DATA_DIR")


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment without PAM's variables, plus `overrides`; never reads `.env`."""
    env = {k: v for k, v in os.environ.items() if k not in _PAM_VARIABLES and k != "DJANGO_SETTINGS_MODULE"}
    env["ENV_FILE"] = os.devnull
    env.update(overrides)
    return env


def http_scope(path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] = ()) -> dict:
    """An ASGI HTTP scope for a request to `path`, as uvicorn makes one."""
    return {
        "type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
        "root_path": "", "scheme": "http", "query_string": b"", "headers": list(headers),
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
    }  # fmt: skip


def chunked_messages(body: bytes, size: int) -> list[dict]:
    """`body` as the ASGI messages uvicorn hands a chunked body over in: `size` bytes each, then
    an empty last one."""
    messages = [{"type": "http.request", "body": body[i : i + size], "more_body": True}
                for i in range(0, len(body), size)]  # fmt: skip
    return [*messages, {"type": "http.request", "body": b"", "more_body": False}]


def chunked_post(path: str, body: bytes, headers: dict[str, str], chunk: int = 1024) -> tuple[int, bytes]:
    """POST `body` with `Transfer-Encoding: chunked` (no Content-Length) to `path`, through the
    HTTP bridge the server runs Django's WSGI handler on (pam/wsgi_bridge.py), its messages as
    uvicorn hands a chunked body over: the answer's status and body. On this test process's
    database, from a thread of the bridge's: the test's rows must be committed."""
    from django.core.wsgi import get_wsgi_application

    from pam.wsgi_bridge import OneHopWSGIMiddleware

    sent = [(b"transfer-encoding", b"chunked")]
    sent += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    messages = chunked_messages(body, chunk)
    answer: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        answer.append(message)

    bridge = OneHopWSGIMiddleware(get_wsgi_application(), workers=1)
    try:
        asyncio.run(bridge(http_scope(path, "POST", sent), receive, send))
    finally:
        bridge.executor.shutdown(wait=True)
    return answer[0]["status"], b"".join(message.get("body", b"") for message in answer[1:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    """Start `server.serve_forever` in a daemon thread. Its loop looks for `shutdown` every 20 ms:
    at socketserver's default of half a second, each test's teardown waited that long for it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return thread


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll `url` until it answers (any status), failing early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for_path(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until `path` exists (a server's socket), failing early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        if path.exists():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{path} did not appear within {timeout} s")


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out or ""


def call_audit_command(name: str) -> tuple[int | None, list[str]]:
    """Run an audit management command in-process: (its exit code, None when it returned; its
    output lines)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command(name, stdout=out)
        code = None
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue().splitlines()
