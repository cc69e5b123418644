"""`make run`'s one process (SQLite, daphne's runserver, no PROMETHEUS_MULTIPROC_DIR): /metrics
shows its figures from the plain registry, a studio round's bet and the outbox read from SQLite."""

import urllib.request

from apps.common.tests.scrape import parse, value
from tests.platform.test_embedded_mode import PLAY_A_ROUND, runserver
from tests.support import EMBEDDED_STUDIO_SECRET, PYTHON, clean_env, free_port, run


def test_embedded_mode_serves_its_one_process_figures(embedded_data_dir):
    """On the migrated embedded database with its one player (`embedded_data_dir`)."""
    port = free_port()
    env = clean_env(PAM_DATA_DIR=str(embedded_data_dir), DJANGO_SETTINGS_MODULE="pam.settings", PORT=str(port),
                    STUDIO_PROVIDER_SECRET=EMBEDDED_STUDIO_SECRET)  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    with runserver(env, port):
        played = run([PYTHON, "-c", PLAY_A_ROUND, f"http://127.0.0.1:{port}"], env, timeout=120)
        assert played.returncode == 0, played.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            samples = parse(answer.read().decode())

    assert value(samples, "pam_wallet_transactions_total", kind="bet") == 1
    bets = {"route": "wallet-bet", "method": "POST", "status": "2xx"}
    assert value(samples, "pam_http_request_duration_seconds_count", **bets) == 1
    # Read from SQLite (the round's events may still be marked dispatched a moment later).
    assert {("pam_outbox_backlog", frozenset()), ("pam_outbox_oldest_age_seconds", frozenset())} <= set(samples)
    assert "process_cpu_seconds_total" in {name for name, _ in samples}  # the single process's own
    assert not {name for name, _ in samples if name.startswith("pam_database_")}  # PostgreSQL's alone
