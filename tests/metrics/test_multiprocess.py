"""Several processes, one scrape (docs/metrics.md, "Several processes"): real subprocesses record
through apps.common.metrics into one PROMETHEUS_MULTIPROC_DIR, and a scrape reads them summed; the
open-socket gauges count live processes only, whether a process exits or is killed; and
`make serve`'s script runs its workers so, in a directory it empties at start."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request

import pytest

from apps.common.tests.scrape import parse, scrape, value
from tests.realtime.support import server_env
from tests.support import PYTHON, ROOT, free_port, stop, wait_for_http

pytestmark = pytest.mark.django_db

# A process that records what its arguments say through apps.common.metrics, as PAM's code does,
# says "ready" and keeps its sockets open until its stdin closes.
RECORDER = """
import sys

import django

django.setup()
from apps.common import metrics

bets, push_seconds, sockets = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
metrics.WALLET_TRANSACTIONS.labels(kind="bet").inc(bets)
metrics.PUSH_SECONDS.observe(push_seconds)
for _ in range(sockets):
    metrics.socket_opened(metrics.PLAYER_SOCKET)
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def multiprocess_dir(tmp_path, monkeypatch):
    """The directory of the processes' files; this process's /metrics reads it (this process's own
    figures, in its plain registry, are then left out: it records nothing here)."""
    path = tmp_path / "metrics"
    path.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(path))
    return path


def recorder(path, *, bets: int, push_seconds: float, sockets: int) -> subprocess.Popen:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(path), "DJANGO_SETTINGS_MODULE": "pam.settings"}
    process = subprocess.Popen(
        [PYTHON, "-c", RECORDER, str(bets), str(push_seconds), str(sockets)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "ready"
    return process


def test_two_processes_figures_are_summed_in_one_scrape(client, multiprocess_dir):
    first = recorder(multiprocess_dir, bets=2, push_seconds=0.01, sockets=2)
    second = recorder(multiprocess_dir, bets=3, push_seconds=0.2, sockets=1)
    try:
        samples = scrape(client)

        assert value(samples, "pam_wallet_transactions_total", kind="bet") == 5
        assert value(samples, "pam_wallet_transactions_total", kind="win") == 0
        assert value(samples, "pam_realtime_push_latency_seconds_count") == 2
        assert value(samples, "pam_realtime_push_latency_seconds_bucket", le="0.025") == 1
        assert value(samples, "pam_realtime_push_latency_seconds_bucket", le="0.25") == 2
        assert value(samples, "pam_realtime_open_sockets", socket="player") == 3
        by_process = {
            dict(labels)["pid"]: found
            for (name, labels), found in samples.items()
            if name == "pam_realtime_open_sockets_by_process" and ("socket", "player") in labels
        }
        assert by_process == {str(first.pid): 2, str(second.pid): 1}
        assert "pam_outbox_backlog" in {name for name, _ in samples}  # read once, not per process
    finally:
        for process in (first, second):
            process.kill()
            process.wait()


def test_the_sockets_of_a_process_that_ended_are_gone_their_counts_are_not(client, multiprocess_dir):
    exits = recorder(multiprocess_dir, bets=2, push_seconds=0.01, sockets=2)
    killed = recorder(multiprocess_dir, bets=3, push_seconds=0.01, sockets=1)
    survivor = recorder(multiprocess_dir, bets=4, push_seconds=0.01, sockets=4)
    try:
        exits.stdin.close()  # a normal exit: its exit hook takes its sockets away
        assert exits.wait(timeout=30) == 0
        killed.send_signal(signal.SIGKILL)  # no exit hook: the scrape finds it gone
        killed.wait(timeout=30)

        samples = scrape(client)

        assert value(samples, "pam_realtime_open_sockets", socket="player") == 4
        assert value(samples, "pam_wallet_transactions_total", kind="bet") == 9
        assert not list(multiprocess_dir.glob(f"gauge_live*_{killed.pid}.db"))
    finally:
        for process in (exits, killed, survivor):
            process.kill()
            process.wait()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_make_serves_workers_are_scraped_as_one(tmp_path):
    """scripts/serve.sh with two uvicorn workers and the sweeper: whichever worker answers a
    scrape, it counts every request, each worker's included; what a previous run left is gone."""
    path = tmp_path / "metrics"
    path.mkdir()
    (path / "counter_1.db").write_bytes(b"a previous run's file")
    (path / "keep.txt").write_text("not the metrics'")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=server_env(HOST="127.0.0.1", PORT=str(port), WORKERS="2", PROMETHEUS_MULTIPROC_DIR=str(path)),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", server, timeout=90)
        healthz = {"route": "healthz", "method": "GET", "status": "2xx"}
        already = value(parse(get(f"{base}/metrics")), "pam_http_request_duration_seconds_count", **healthz)

        for _ in range(30):
            get(f"{base}/healthz")  # a connection each: the workers take turns as the kernel pleases

        counts = {
            value(parse(get(f"{base}/metrics")), "pam_http_request_duration_seconds_count", **healthz)
            for _ in range(10)
        }
        assert counts == {already + 30}
        assert not (path / "counter_1.db").exists()
        assert (path / "keep.txt").exists()
        pids = {name.stem.rsplit("_", 1)[1] for name in path.glob("*.db")}
        assert len(pids) >= 3  # two workers and the outbox sweeper, each with its own files
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        stop(server)
        log.close()
