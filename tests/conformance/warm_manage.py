"""`manage.py` for a test that runs many management commands as separate processes, without paying
Django's start-up (seconds of CPU) for each: a server with Django set up forks one child per
command, and a client that imports nothing but the standard library forwards the arguments to it.

    python warm_manage.py serve SOCKET      # in the environment and directory of `manage.py`
    python warm_manage.py SOCKET ARGS...    # what `python manage.py ARGS...` would do

Each command runs in a process of its own (a fork of the server, which never opens a database
connection, so no two share one), through `execute_from_command_line` as `manage.py` calls it; the
client prints its stdout and stderr and exits with its status. The server listens on a Unix socket
only, and exits after IDLE_SECONDS without a command, or when it is terminated.
"""

from __future__ import annotations

import json
import os
import socket
import sys

IDLE_SECONDS = 900
COMMAND_SECONDS = 300  # the longest the client waits for one command
MAX_MESSAGE_BYTES = 64 << 20


def _receive_all(connection: socket.socket) -> bytes:
    """Everything the peer sends until it shuts its side down (a request or an answer), read under
    the socket's time-out."""
    chunks, size = [], 0
    while size <= MAX_MESSAGE_BYTES:
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def ask(path: str, args: list[str]) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(COMMAND_SECONDS)
        connection.connect(path)
        connection.sendall(json.dumps(args).encode())
        connection.shutdown(socket.SHUT_WR)
        answer = json.loads(_receive_all(connection))
    sys.stdout.write(answer["stdout"])
    sys.stderr.write(answer["stderr"])
    return answer["code"]


def _run(args: list[str]) -> dict:
    """One command as `manage.py` runs it, its output captured."""
    import contextlib
    import io
    import traceback

    from django.core.management import execute_from_command_line

    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            execute_from_command_line(["manage.py", *args])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception:  # reported as `manage.py` would: a traceback and status 1
            traceback.print_exc()
            code = 1
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _child(connection: socket.socket) -> None:
    import signal

    from django.db import connections

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a command may wait for processes of its own
    try:
        connection.settimeout(COMMAND_SECONDS)
        answer = _run(json.loads(_receive_all(connection)))
        connection.sendall(json.dumps(answer).encode())
        connection.shutdown(socket.SHUT_WR)
    finally:
        connections.close_all()
        connection.close()


def serve(path: str) -> None:
    import signal

    # What `python manage.py` has on its path, the project's root, where this script is not.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
    import django
    from django.db import connections

    django.setup()
    # The system checks every command runs first: done once here, their imports and caches (URL
    # resolvers above all) are inherited by every child, which then checks in milliseconds
    # instead of half a second each. No database check runs here (none is asked for).
    from django.core import checks

    checks.run_checks()
    connections.close_all()  # never one open in the server: each child opens its own
    # Nor a connection pool: its connections and threads would be shared by every child.
    pools = [alias for alias in connections if getattr(type(connections[alias]), "_connection_pools", None)]
    if pools:
        raise RuntimeError(f"a connection pool exists before the first fork: {pools}")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        # Listening before the socket appears under its name: whoever sees the name can connect.
        listener.bind(f"{path}.tmp")
        listener.listen(16)
        os.rename(f"{path}.tmp", path)
        listener.settimeout(IDLE_SECONDS)
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                return
            if os.fork() == 0:
                listener.close()
                try:
                    _child(connection)
                finally:
                    os._exit(0)
            connection.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
    else:
        sys.exit(ask(sys.argv[1], sys.argv[2:]))
