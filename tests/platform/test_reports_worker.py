"""`make worker`'s processes (scripts/worker.sh: a Celery worker and Celery beat, two processes)
compute a report queued through Redis, served as `make serve` runs: the run's commit sends the
task to the broker, the worker process computes it on the same database, and the page's run is
done with the ledger's figures. The beat is checked to run beside the worker as its own process."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.backoffice import services
from apps.backoffice.models import ReportRow, ReportRun, RunStatus
from apps.payments.tests.factories import verified_player
from apps.wallet import services as wallet
from apps.wallet.tests.factories import a_ref
from tests.support import ROOT, clean_env

# transaction=True: the worker is another process, so the data must be committed.
# serialized_rollback=True: the seeded rows (currencies, staff groups) are restored first.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.timeout(180)]


def _test_database_url() -> str:
    """The URL of the database pytest-django created for this run (not the developer's)."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_the_worker_computes_a_report_queued_through_redis_with_the_beat_beside_it(tmp_path):
    finance = make_staff(StaffRole.FINANCE)
    player = verified_player(10_000)
    common = {"player_id": player.pk, "currency": "EUR", "round_id": "r-1", "game_id": "slot-1"}
    wallet.place_bet(amount=1_000, ref=a_ref("provider:acme-games"), **common)
    wallet.settle_win(amount=250, ref=a_ref("provider:acme-games"), **common)
    log = tmp_path / "worker.log"
    env = clean_env(
        DATABASE_URL=_test_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        PAM_ENV="production",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        PAM_DATA_DIR=str(tmp_path),
        # The schedule's own runs stay out of this test's way.
        REPORTS_REFRESH_MINUTES="600",
        CELERY_CONCURRENCY="1",
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "worker.sh")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        today = timezone.now().astimezone(dt.UTC).date()
        run = services.request_report(kind="ggr", day=today, actor=finance)  # sent to Redis on commit

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and ReportRun.objects.get(pk=run.pk).status == RunStatus.QUEUED:
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
        run.refresh_from_db()

        assert run.status == RunStatus.DONE, log.read_text()
        rows = list(ReportRow.objects.filter(run=run).order_by("position").values_list("cells", flat=True))
        assert [row[:9] for row in rows] == [
            ["acme", "acme-games", "slot-1", "EUR", 1, 1_000, 0, 250, 750],
            ["acme", "(all)", "(all)", "EUR", 1, 1_000, 0, 250, 750],
        ]
        text = log.read_text()
        assert "beat: Starting..." in text, text
        assert process.poll() is None, text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
