"""Start PAM as `make serve` does (PostgreSQL, Redis, uvicorn workers) on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests import preflight
from tests.support import ROOT, clean_env, free_port, stop, wait_for_http

# Its own database name per person on a shared machine: BENCH_DATABASE=pam_bench_me make bench.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "pam_bench")


def bench_env(database: str = BENCH_DATABASE) -> dict[str, str]:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(preflight.test_database_url())
    database_url = urlunsplit(parts._replace(path=f"/{database}"))
    return clean_env(
        DATABASE_URL=database_url,
        REDIS_URL=preflight.test_redis_url(),
        PAM_ENV="production",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "bench-" + os.urandom(24).hex()),
        CHANNEL_LAYER_PREFIX=database.replace("_", ""),
        CACHE_KEY_PREFIX=database.replace("_", ""),
        LOG_LEVEL="WARNING",
        PAM_DATA_DIR=str(ROOT / ".bench"),
    )


def set_up_in_process(channel_layer_prefix: str) -> None:
    """For a benchmark that runs PAM in its own process rather than behind a server: the bench
    settings in this process's environment, a fresh database, migrated, Django set up."""
    env = bench_env()
    os.environ.update(env)
    os.environ["CHANNEL_LAYER_PREFIX"] = channel_layer_prefix
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
    Path(env["PAM_DATA_DIR"]).mkdir(exist_ok=True)
    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_database(database: str = BENCH_DATABASE) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(preflight.test_database_url())
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@contextlib.contextmanager
def served(workers: int, **settings: str) -> Iterator[tuple[str, int, dict[str, str]]]:
    """A fresh bench database, migrated, and `workers` uvicorn processes on a free port, with
    `settings` added to their environment."""
    env = {**bench_env(), **settings}
    Path(env["PAM_DATA_DIR"]).mkdir(exist_ok=True)
    create_database()
    manage(env, "migrate", "--noinput")
    # The metrics kept as make serve keeps them (a file per process, emptied at start:
    # scripts/serve.sh), so that the bench measures that recording, not a single process's.
    metrics_dir = Path(env["PAM_DATA_DIR"]) / f"{BENCH_DATABASE}-metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    port = free_port()
    # To a file, not an unread pipe: uvicorn logs every WebSocket accepted and closed at INFO, and
    # thousands of sockets fill a pipe's 64 KiB and block the server.
    log = open(Path(env["PAM_DATA_DIR"]) / f"{BENCH_DATABASE}-server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "pam.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--lifespan",
            "off",
            "--no-access-log",
            "--ws-per-message-deflate",  # as make serve (scripts/serve.sh) runs it
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}; server log {log.name}:\n{Path(log.name).read_text()[-4000:]}") from exc
        yield "127.0.0.1", port, env
    finally:
        stop(process)
        log.close()


def print_audit(env: dict[str, str]) -> None:
    """`wallet_audit`'s verdict on the bench database, after a run."""
    print("wallet_audit after the run:")
    try:
        print(manage(env, "wallet_audit").strip().splitlines()[-1])
    except subprocess.CalledProcessError as exc:
        print(exc.stdout)
        print("wallet_audit FAILED")
