"""With no DATABASE_URL, PAM runs embedded: SQLite (WAL) in the data dir, in-memory channel layer,
Celery eager, and the server answers."""

import contextlib
import json
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator

from tests.support import EMBEDDED_STUDIO_SECRET, PYTHON, ROOT, clean_env, free_port, run, stop, wait_for_http

SHOW_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'transaction_mode': s.DATABASES['default']['OPTIONS']['transaction_mode']}))"
)


@contextlib.contextmanager
def runserver(env: dict[str, str], port: int) -> Iterator[subprocess.Popen]:
    """`make run`'s server (daphne's runserver) on `port`, answering /healthz, stopped afterwards."""
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
        yield server
    finally:
        stop(server)


def test_embedded_mode_starts_without_database_url(embedded_data_dir):
    """`make run`'s server on the database that `migrate` and `create_player` left in the data dir
    (`embedded_data_dir`: both ran once for the run, and asserted their success)."""
    env = clean_env(PAM_DATA_DIR=str(embedded_data_dir), DJANGO_SETTINGS_MODULE="pam.settings")

    shown = run([PYTHON, "-c", SHOW_SETTINGS], env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "name": str(embedded_data_dir / "pam.sqlite3"),
        "layer": "channels.layers.InMemoryChannelLayer",
        "eager": True,
        "transaction_mode": "IMMEDIATE",
    }

    port = free_port()
    with runserver(env, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "checks": {"database": "ok"}}

    with sqlite3.connect(embedded_data_dir / "pam.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count(*) FROM accounts_currency").fetchone()[0] > 100

    # The staff-action trail works without its PostgreSQL trigger: the adjustment that
    # `create_player` made is chained, and the audit checks the chain (and skips the trigger check).
    audited = run([PYTHON, "manage.py", "staff_audit"], env)
    assert (audited.returncode, audited.stdout.splitlines()[-1]) == (0, "staff_audit: clean (1 staff actions)")


PLAY_A_ROUND = """
import django, json, sys, urllib.parse, urllib.request, datetime as dt
django.setup()
from django.conf import settings
from django.utils import timezone
from apps.accounts import services as accounts
from apps.accounts.models import Player
from apps.common import launch
from apps.games import services as games
from apps.games.models import Provider

base = sys.argv[1]
player = Player.objects.get(user__username="alice")
# A reality check due later: the money path compares it with now, as aware datetimes.
accounts.set_reality_check_due(player_id=player.pk, due_at=timezone.now() + dt.timedelta(hours=1))
token = games.issue_launch_token(player=player, provider=Provider.objects.get(code=settings.STUDIO_PROVIDER_CODE))
params = {"token": token, "jurisdiction": "ukgc", "min_cycle_ms": "0", "autoplay": "0", "session_info": "1"}
query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-slot", params)
with urllib.request.urlopen(f"{base}/studio/play/pam-slot/?{query}", timeout=30) as page:
    key = page.read().decode().split('data-session-key="')[1].split('"')[0]
request = urllib.request.Request(
    f"{base}/studio/api/sessions/{key}/rounds", data=json.dumps({"request_id": "one", "stake": 10}).encode(),
    headers={"Content-Type": "application/json"}, method="POST",
)
with urllib.request.urlopen(request, timeout=60) as answer:
    print(json.dumps(json.loads(answer.read())))
"""


def against_the_studio(data_dir, script: str) -> tuple[dict[str, str], dict]:
    """`script` run against `make run`'s server on `data_dir`, with the studio's secret of the
    embedded set-up: (the environment, the JSON of its last line)."""
    port = free_port()
    env = clean_env(PAM_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="pam.settings", PORT=str(port),
                    STUDIO_PROVIDER_SECRET=EMBEDDED_STUDIO_SECRET)  # fmt: skip
    with runserver(env, port):
        done = run([PYTHON, "-c", script, f"http://127.0.0.1:{port}"], env, timeout=120)
    assert done.returncode == 0, done.stderr
    return env, json.loads(done.stdout.splitlines()[-1])


def test_embedded_mode_plays_a_studio_round_over_its_own_wallet_api(embedded_data_dir):
    """`make run`'s mode end to end: the studio, registered at migrate, opens a session from a
    signed launch and plays a slot round through the wallet API of the same server (SQLite, the
    in-memory layer), for a player whose row carries a datetime the money path compares."""
    env, answer = against_the_studio(embedded_data_dir, PLAY_A_ROUND)
    assert answer["balance"] == 500 - 10 + answer["payout"]
    audited = run([PYTHON, "manage.py", "wallet_audit"], env)
    assert audited.returncode == 0, audited.stdout


JOIN_THE_CRASH_ROOM = """
import asyncio, django, json, sys, urllib.request
django.setup()
import websockets
from django.conf import settings
from apps.accounts.models import Player
from apps.common import launch
from apps.games import services as games
from apps.games.models import Provider

base = sys.argv[1]
player = Player.objects.get(user__username="alice")
token = games.issue_launch_token(player=player, provider=Provider.objects.get(code=settings.STUDIO_PROVIDER_CODE))
params = {"token": token, "jurisdiction": "", "min_cycle_ms": "0", "autoplay": "1", "session_info": "1"}
query = launch.signed_query(settings.STUDIO_PROVIDER_SECRET, "pam-crash", params)
with urllib.request.urlopen(f"{base}/studio/play/pam-crash/?{query}", timeout=30) as page:
    key = page.read().decode().split('data-session-key="')[1].split('"')[0]

async def join():
    url = base.replace("http", "ws", 1) + f"/ws/studio/crash/?session={key}"
    async with websockets.connect(url, origin=base, open_timeout=30) as socket:
        return json.loads(await asyncio.wait_for(socket.recv(), 30))

print(json.dumps(asyncio.run(join())))
"""


def test_embedded_mode_serves_the_crash_rooms_snapshot(embedded_data_dir):
    """The crash room on SQLite (the room's state read with the ORM, not PostgreSQL's one
    statement): a launched player's socket gets its snapshot, the room's runner starting with it."""
    _, snapshot = against_the_studio(embedded_data_dir, JOIN_THE_CRASH_ROOM)
    assert snapshot["type"] == "crash.snapshot"
    assert snapshot["you"]["player"].startswith("Player ")
    assert snapshot["you"]["show_session_info"] is True


READ_DEMO_BOOK = """
import django, json
django.setup()
from apps.sportsbook.models import Bet, Feed, Market
feed = Feed.objects.get(code="demo")
print(json.dumps({
    "last_seq": feed.last_seq, "stale": feed.stale_since is not None,
    "markets": sorted(Market.objects.values_list("market_id", "status")),
    "bets": sorted(Bet.objects.values_list("player__user__username", "status")),
}))
"""


def test_make_runs_demo_sportsbook_stays_on_sale_without_a_feed_process(embedded_migrated_dir):
    """`make run` as it runs: migrate (a copy of the run's, `embedded_migrated_dir`), `seed_demo`
    (the demo book and its bets, on SQLite), then the server with SPORTSBOOK_DEMO_FEED: its ticks
    send the demo feed's heartbeat, so the watchdog (its limit at 1 s here) never finds the feed
    silent and the live event stays open."""
    port = free_port()
    env = clean_env(PAM_DATA_DIR=str(embedded_migrated_dir), DJANGO_SETTINGS_MODULE="pam.settings",
                    SPORTSBOOK_DEMO_FEED="demo", SPORTSBOOK_STALE_AFTER_SECONDS="1")  # fmt: skip
    done = run([PYTHON, "manage.py", "seed_demo"], env, timeout=300)
    assert done.returncode == 0, done.stderr

    def book() -> dict:
        shown = run([PYTHON, "-c", READ_DEMO_BOOK], env)
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    seeded = book()
    assert seeded["bets"] == [["alice", "accepted"], ["alice", "accepted"], ["bob", "accepted"]]
    with runserver(env, port):
        # Heartbeats every half second; a few of them, each a limit's worth after the seeding.
        for _ in range(60):
            now = book()
            if now["last_seq"] >= seeded["last_seq"] + 4:
                break
        assert now["last_seq"] >= seeded["last_seq"] + 4
    assert now["stale"] is False
    assert {status for _, status in now["markets"]} == {"open"}
    assert len(now["markets"]) == 8


SETTLE_DEMO_MARKETS = """
import django, json
django.setup()
from apps.sportsbook import selectors, services
from apps.sportsbook.feed import parse_batch
from apps.sportsbook.models import Bet, Feed
from apps.wallet import audit
feed = Feed.objects.get(code="demo")
results = [("demo-1-1x2", "home"), ("demo-2-1x2", "home"), ("demo-3-1x2", "away")]
messages = [{"seq": feed.last_seq + 1 + n, "type": "result", "market_id": market, "winners": [f"{market}-{side}"],
             "void": []} for n, (market, side) in enumerate(results)]
services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(json.dumps({"messages": messages}).encode()))
print(json.dumps({
    "bets": sorted(Bet.objects.values_list("idempotency_key", "status", "payout")),
    "exposure": selectors.stored_exposure() == selectors.recompute_exposure(),
    "audit": {name: rows for name, rows in audit.run_audit().items() if rows},
}))
"""


def test_the_demo_bets_settle_on_sqlite(embedded_migrated_dir):
    """Settlement's SQLite branch (its statements from arrays are PostgreSQL's): the demo's bets,
    their markets resulted, settle in the committing thread: alice's single wins 1,000 x 2.10, her
    double and bob's single lose; the ledger and the exposure stay consistent."""
    env = clean_env(PAM_DATA_DIR=str(embedded_migrated_dir), DJANGO_SETTINGS_MODULE="pam.settings",
                    SPORTSBOOK_SETTLE_IN_BACKGROUND="false")  # fmt: skip
    done = run([PYTHON, "manage.py", "seed_demo"], env, timeout=300)
    assert done.returncode == 0, done.stderr

    settled = run([PYTHON, "-c", SETTLE_DEMO_MARKETS], env, timeout=120)

    assert settled.returncode == 0, settled.stderr
    answer = json.loads(settled.stdout.splitlines()[-1])
    assert answer["bets"] == [
        ["demo-alice-bet-1", "won", 2_100], ["demo-alice-bet-2", "lost", 0], ["demo-bob-bet-1", "lost", 0],
    ]  # fmt: skip
    assert answer["exposure"] is True
    assert answer["audit"] == {}


def test_the_embedded_ledger_keeps_the_limits_index(embedded_migrated_dir):
    # The wallet's migrations rebuild its table on SQLite, which drops the indexes its models do
    # not declare; the limits' ledger index is created again after them.
    with contextlib.closing(sqlite3.connect(embedded_migrated_dir / "pam.sqlite3")) as db:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'wallet_transaction'"
        by_name = dict(db.execute(query).fetchall())
    assert "(player_id, created_at)" in by_name["compliance_tx_player_time_idx"]
