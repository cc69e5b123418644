"""Deterministic cost of one signed bet against one /healthz, in-process, on PostgreSQL.

Wall-clock figures on a shared 2-core machine are noise; these are not (much): per request it
counts Python function calls (cProfile), SQL round trips, CPU seconds of this process and of the
PostgreSQL backends serving it. The bet goes through Django's WSGI handler exactly as under
`make serve` (middleware, DRF view, service, after-commit push on a server loop of its own).

    BENCH_DATABASE=pam_prof_me .venv/bin/python -m bench.profile_bet [N] [--limits] [--rules] [--bonus]
        [--refusals K] [--sportsbook] [--top 30]

`--bonus`: every player wagers an active bonus (a staff grant of a campaign with wagering).
`--refusals K`: every K-th casino bet asks for more than the player has (refused, 402), as a
player at the end of their money does: what a rollback costs the bets after it on a connection.
`--sportsbook`: also a player's sportsbook single on a pre-match market (`POST
/api/player/v1/sportsbook/bets` with a bearer token), measured the same way after the casino bet.

Uses the bench database settings (a fresh database, migrated and seeded here).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from unittest import mock

from bench.profiling import backend_cpu_of, package_of
from bench.server import set_up_in_process

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2000
ROUNDS = 3  # of the PostgreSQL figures, taken in turn (print_database_layers)
TOP = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 25
REFUSE_EVERY = int(sys.argv[sys.argv.index("--refusals") + 1]) if "--refusals" in sys.argv else 0


def _setup() -> None:
    set_up_in_process("pamprof")


def _backend_cpu() -> float:
    """CPU seconds used so far by every backend connected to this database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


_gc = {"started": 0.0, "seconds": 0.0, "full": 0}


def _gc_timer(phase: str, info: dict) -> None:
    if phase == "start":
        _gc["started"] = time.thread_time()
    else:
        _gc["seconds"] += time.thread_time() - _gc["started"]
        _gc["full"] += info["generation"] == 2


def main() -> None:
    _setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from apps.accounts.models import Brand, Currency, Player, User
    from apps.common.idempotency import ExternalRef
    from apps.games.services import save_provider
    from apps.realtime import push
    from apps.wallet import services
    from apps.wallet.api.signature import signature_of
    from apps.wallet.choices import TransactionKind

    secret = "s" * 64
    save_provider(code="prof", secret=secret)
    brand, _ = Brand.objects.get_or_create(code="prof", defaults={"name": "Prof"})
    eur = Currency.objects.get(code="EUR")
    players = []
    for n in range(50):
        user = User.objects.create(username=f"prof{n}")
        player = Player.objects.create(user=user, brand=brand, email=f"p{n}@x.invalid", country="MT", currency=eur,
                                       date_of_birth="1990-01-01", kyc_status="verified")  # fmt: skip
        services.credit(player_id=player.pk, currency="EUR", amount=10**9, kind=TransactionKind.DEPOSIT,
                        ref=ExternalRef("prof", str(player.pk), "seed"), counter="clearing:prof")  # fmt: skip
        if "--limits" in sys.argv:  # every limit set, as bench.seed does for its limited players
            from apps.compliance.services import set_limit
            from bench.seed import LIMITS

            for kind, period, amount in LIMITS:
                set_limit(player=player, kind=kind, period=period, amount=amount)
        players.append(str(player.pk))
    if "--bonus" in sys.argv:  # every player wagering a bonus that the run cannot complete
        from apps.bonuses import services as bonuses

        bonuses.save_campaign(
            code="PROF", acting_user=None, reason="profile", name="Profile", kind="fixed", enabled=True,
            requires_opt_in=False, currency=eur, amount=10**6, trigger="staff_grant", wagering_multiple=1000,
        )  # fmt: skip
        for player in Player.objects.filter(pk__in=players):
            bonuses.staff_grant(player, "PROF", acting_user=None, reason="profile", grant_id="profile")
    if "--rules" in sys.argv or os.environ.get("BENCH_RULES") == "1":  # every seeded behaviour rule on
        from bench.seed import enable_rules

        enable_rules()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    # A server loop, as under uvicorn, so that pushes leave as they do in production.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    push.serve_from(loop)

    app = get_wsgi_application()
    if os.environ.get("PROFILE_GC_FREEZE"):
        import gc

        gc.collect()
        gc.freeze()
    if os.environ.get("PROFILE_GC_STATS"):
        import gc

        gc.callbacks.append(_gc_timer)

    def environ(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> dict:
        env = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0), "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        if body:
            env["CONTENT_TYPE"] = "application/json"
        for name, value in (headers or {}).items():
            env["HTTP_" + name.upper().replace("-", "_")] = value
        return env

    counter = iter(range(10**9))

    def bet_environ() -> dict:
        n = next(counter)
        body = json.dumps({
            "player_id": players[n % len(players)], "currency": "EUR",
            "amount": 10**11 if REFUSE_EVERY and n % REFUSE_EVERY == REFUSE_EVERY - 1 else 1,
            "transaction_id": f"t{n}-{uuid.uuid4().hex[:8]}", "round_id": uuid.uuid4().hex[:12], "game_id": "slot",
        }).encode()  # fmt: skip
        return environ("POST", "/api/wallet/v1/bet", body,
                       {"X-Provider": "prof", "X-Signature": signature_of(secret, "bet", body)})  # fmt: skip

    def health_environ() -> dict:
        return environ("GET", "/healthz")

    def call(env: dict) -> None:
        status = []
        chunks = app(env, lambda s, h, exc_info=None: status.append(s))
        answer = b"".join(chunks)
        chunks.close()
        if not status[0].startswith(("200", "201")) and not (REFUSE_EVERY and status[0].startswith("402")):
            raise RuntimeError(f"{env['PATH_INFO']} answered {status[0]}: {answer[:300]!r}")

    statements = [0]
    in_sql = [0.0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        started = time.thread_time()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql[0] += time.thread_time() - started

    def measure(name: str, make_environ) -> dict:
        envs = [make_environ() for _ in range(N)]  # built outside the measurement
        warm = min(1000, N // 2)
        for env in envs[:warm]:
            call(env)  # warm: caches, pool, house account id, a ledger of some size
        envs = envs[warm:]
        # Statistics as autovacuum keeps them in production (it is off on some machines here):
        # planned on the 50-row ledger of the set-up, the foreign-key checks' cached plans were
        # sequential scans whose cost grew with every bet. A new connection plans them afresh.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connection.close()
        statements[0], in_sql[0] = 0, 0.0
        time.sleep(0.2)
        cpu0, thread0, backend0, wall0 = time.process_time(), time.thread_time(), _backend_cpu(), time.perf_counter()
        with connection.execute_wrapper(count):
            for env in envs:
                call(env)
            asyncio.run_coroutine_threadsafe(push.drained(), loop).result(30)
        cpu, thread = time.process_time() - cpu0, time.thread_time() - thread0
        backend, wall = _backend_cpu() - backend0, time.perf_counter() - wall0
        n = len(envs)
        if os.environ.get("PROFILE_GC_STATS"):
            print(f"{name:<10} garbage collection so far: {_gc['seconds'] * 1e3:.0f} ms CPU, {_gc['full']} full")
        figures = {"thread_us": thread / n * 1e6, "process_us": cpu / n * 1e6, "pg_us": backend / n * 1e6,
                   "statements": statements[0] / n}  # fmt: skip
        print(f"{name:<10} per request: {statements[0] / n:4.1f} SQL statements (w/o BEGIN/COMMIT), "
              f"Python {cpu / n * 1e6:6.0f} us CPU (request thread {thread / n * 1e6:6.0f} us), "
              f"PostgreSQL {backend / n * 1e6:6.0f} us CPU, wall {wall / n * 1e6:6.0f} us; "
              f"in execute (w/o BEGIN/COMMIT): {in_sql[0] / n * 1e6:.0f} us CPU")  # fmt: skip
        if "--no-cprofile" in sys.argv:  # e.g. under py-spy
            return figures
        profiler = cProfile.Profile(time.thread_time)  # CPU, not waiting
        sample = [make_environ() for _ in range(500)]
        profiler.enable()
        for env in sample:
            call(env)
        profiler.disable()
        stats = pstats.Stats(profiler)
        print(f"{name:<10} function calls per request: {stats.total_calls / len(sample):.0f}")
        by_package: dict[str, int] = {}
        for (filename, _, _), (_, calls, *_) in stats.stats.items():
            package = package_of(filename)
            by_package[package] = by_package.get(package, 0) + calls
        ranked = sorted(by_package.items(), key=lambda item: -item[1])[:12]
        print("           by package: " + ", ".join(f"{p} {c / len(sample):.0f}" for p, c in ranked))
        if os.environ.get("PROFILE_CALLEES"):  # e.g. "_move_money,_post": what each calls, cumulative
            pstats.Stats(profiler).sort_stats("cumulative").print_callees(*os.environ["PROFILE_CALLEES"].split(","))
        if os.environ.get("PROFILE_CALLERS"):  # e.g. "__getattribute__": who calls each, and how often
            pstats.Stats(profiler).sort_stats("ncalls").print_callers(*os.environ["PROFILE_CALLERS"].split(","))
        if "--top" in sys.argv:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(TOP)
            print(out.getvalue())
        return {**figures, "stats": stats}

    health = measure("/healthz", health_environ)
    bet = measure("bet", bet_environ)
    if "--sportsbook" in sys.argv:
        measure("sportsbook", _sportsbook_environs(players, environ))
    if "stats" in bet:
        print_layers(bet, health)
    print_database_layers(players)


def _sportsbook_environs(players: list[str], environ):
    """A maker of sportsbook singles' requests: the bench's pre-match book (bench.sportsbook_setup)
    and a bearer token per player."""
    from bench.sportsbook_setup import markets

    book = markets(50, 3, [int(p) for p in players])
    counter = iter(range(10**9))

    def make() -> dict:
        n = next(counter)
        leg = book["legs"][n % len(book["legs"])]
        body = json.dumps({"stake": 100, "currency": "EUR", "accept_price_changes": "none", "legs": [leg]}).encode()
        return environ("POST", "/api/player/v1/sportsbook/bets", body,
                       {"Authorization": f"Bearer {book['tokens'][n % len(book['tokens'])]}",
                        "Idempotency-Key": f"p{n}-{uuid.uuid4().hex[:8]}"})  # fmt: skip

    return make


# Where a bet's request-thread CPU goes, from the cumulative CPU of the functions that open each
# layer in the cProfile run, scaled to the unprofiled figure (cProfile slows every call alike, so
# the shares hold; the absolute numbers of the profiled run do not). A layer nested in another is
# subtracted from it.
_FUNCTIONS = {
    "request": ("django/core/handlers/wsgi.py", "__call__"),
    "endpoint": ("apps/wallet/api/views.py", "view"),
    "signature": ("apps/wallet/api/signature.py", "read_signed_body"),
    "parsing": ("apps/wallet/api/parsing.py", "parse_call"),
    "service": ("apps/wallet/services.py", "place_bet"),
    "statements": ("django/db/backends/utils.py", "_execute"),
    "commit": ("django/db/backends/base/base.py", "_commit"),
    "pool_get": ("django/db/backends/base/base.py", "connect"),
    "pool_put": ("django/db/__init__.py", "close_old_connections"),
    "chain": ("apps/wallet/chain.py", "link"),
    # The event's dispatch after commit: run by the commit hooks on the Python path, at once after
    # the bet function's statement (autocommit).
    "dispatch": ("apps/common/events.py", "dispatch"),
    "logging": ("structlog/contextvars.py", "clear_contextvars"),
}


def _cumulative(stats: pstats.Stats) -> dict[str, float]:
    found = dict.fromkeys(_FUNCTIONS, 0.0)
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():
        for key, (suffix, name) in _FUNCTIONS.items():
            if function == name and filename.endswith(suffix):
                found[key] += cumulative
    return found


def print_layers(bet: dict, health: dict) -> None:
    c = _cumulative(bet["stats"])
    scale = bet["thread_us"] / c["request"] if c["request"] else 0.0
    view_entry = c["endpoint"]
    database = c["statements"] + c["commit"] + c["pool_get"] + c["pool_put"]
    layers = [
        ("Django request: handler, middleware, response", c["request"] - view_entry - c["pool_put"]),
        ("signature: HMAC and provider", c["signature"]),
        ("parsing the body", c["parsing"]),
        ("view: fingerprint, answer", view_entry - c["signature"] - c["parsing"] - c["service"]),
        ("wallet service, Python", c["service"] - c["statements"] - c["commit"] - c["pool_get"] - c["chain"]
         - c["dispatch"]),
        ("hash chain", c["chain"]),
        ("database client: statements, COMMIT, pool", database),
        ("after-commit dispatch: receivers, push hand-off", c["dispatch"]),
    ]  # fmt: skip
    print(
        f"bet, per layer (request-thread CPU, {bet['thread_us']:.0f} us in all; "
        f"`/healthz` {health['thread_us']:.0f} us):"
    )
    for label, seconds in layers:
        print(f"  {label:<50} {seconds * scale:6.0f} us")
    print(f"  {'of which logging (structlog context)':<50} {c['logging'] * scale:6.0f} us")
    print(f"  {'other threads: push loop, outbox marks':<50} {bet['process_us'] - bet['thread_us']:6.0f} us")


def _plain_sql_bets(n: int, accounts: int = 10_000) -> float:
    """PostgreSQL CPU of the plain-SQL bet of `make bench` (bench/wallet.py's (c): lock the row,
    update the balance, insert an entry, commit), on its own connection: microseconds per bet."""
    import random

    import psycopg
    from django.db import connection

    from bench.wallet import PLAIN_INSERT, PLAIN_LOCK, PLAIN_UPDATE, prepare_plain_sql

    settings = connection.settings_dict
    conninfo = (
        f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']} dbname={settings['NAME']}"
    )
    prepare_plain_sql(conninfo, accounts)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE bench_account")
    with psycopg.connect(conninfo) as conn:

        def bets(count: int) -> None:
            for _ in range(count):
                account = random.randint(1, accounts)
                with conn.transaction():
                    (balance,) = conn.execute(PLAIN_LOCK, (account,)).fetchone()
                    conn.execute(PLAIN_UPDATE, (balance - 1, account))
                    conn.execute(PLAIN_INSERT, (account, balance - 1))

        bets(min(1000, n))
        before = backend_cpu_of(conn.info.backend_pid)
        bets(n)
        return (backend_cpu_of(conn.info.backend_pid) - before) / n * 1e6


def print_database_layers(players: list[str]) -> None:
    """PostgreSQL's side of a bet: its CPU per bet through the wallet service (in-process, one
    connection; a free player's bet is the bet function, apps/wallet/fast_bet.py), then without the
    foreign keys and triggers (`session_replication_role = replica` turns both off: the difference
    is what the foreign keys and the append-only and zero-sum triggers cost), then without the
    dispatch after commit, then the same bet on the Python path (the function switched off);
    against the plain-SQL bet on the same server.

    The dispatch runs no statement on the bet's connection, yet its backend spends less without
    it: a backend woken after a longer pause costs the kernel more to wake (on this machine the
    plain-SQL bet's backend spends about 15 % more when its client pauses as the bet's does)."""
    from django.db import connection

    from apps.common import events
    from apps.common.idempotency import ExternalRef
    from apps.wallet import fast_bet, services

    counter = iter(range(10**9))

    def bets(count: int) -> None:
        for _ in range(count):
            n = next(counter)
            services.place_bet(
                player_id=int(players[n % len(players)]), currency="EUR", amount=1, round_id=uuid.uuid4().hex[:12],
                game_id="slot", ref=ExternalRef("provider:prof", f"db{n}-{uuid.uuid4().hex[:8]}", "profile"),
            )  # fmt: skip

    def per_bet(checked: bool = True) -> float:
        connection.close()
        # Set on the connection the measurement takes, every time: the pool hands connections
        # back with their session settings, so one left unchecked would measure the next figure
        # without its foreign keys and triggers too.
        with connection.cursor() as cursor:
            cursor.execute(f"SET session_replication_role = {'origin' if checked else 'replica'}")
        bets(300)  # warm: this connection's prepared statements
        pid = connection.connection.info.backend_pid
        before = backend_cpu_of(pid)
        bets(N // 2)
        spent = (backend_cpu_of(pid) - before) / (N // 2) * 1e6
        connection.close()
        return spent

    def python_path() -> float:
        with mock.patch.object(fast_bet, "usable", return_value=False):
            return per_bet()

    def without_dispatch() -> float:
        """The outbox row written, its dispatch after commit skipped: no statement of the bet's
        connection changes, only the client's pause between one bet's COMMIT and the next BEGIN."""
        with mock.patch.object(events, "dispatch_on_commit", return_value=None):
            return per_bet()

    # The backend's CPU for the same work moves by a third between runs on this machine (other
    # processes, checkpoints): the five figures are measured in turn, ROUNDS times, and each is
    # the median of its rounds, so that a ratio compares figures of the same moments.
    rounds: dict[str, list[float]] = {"whole": [], "unchecked": [], "undispatched": [], "python_path": [],
                                      "plain": []}  # fmt: skip
    for _ in range(ROUNDS):
        rounds["whole"].append(per_bet())
        rounds["unchecked"].append(per_bet(checked=False))
        rounds["undispatched"].append(without_dispatch())
        rounds["python_path"].append(python_path())
        rounds["plain"].append(_plain_sql_bets(N // 2))
    whole, unchecked, undispatched, on_python_path, plain = (statistics.median(figures) for figures in rounds.values())
    ratios = ", ".join(f"{w / p:.2f}" for w, p in zip(rounds["whole"], rounds["plain"], strict=True))
    print(f"PostgreSQL CPU per bet (the wallet service in-process, one connection; medians of {ROUNDS} rounds):")
    print(f"  {'the whole bet':<50} {whole:6.0f} us")
    print(f"  {'of which foreign keys and triggers':<50} {whole - unchecked:6.0f} us")
    print(f"  {'of which the pause for the dispatch after commit':<50} {whole - undispatched:6.0f} us")
    print(f"  {'the same bet on the Python path (function off)':<50} {on_python_path:6.0f} us")
    print(f"  {'the plain-SQL bet (c) on the same server':<50} {plain:6.0f} us")
    print(f"PostgreSQL CPU per bet / plain-SQL bet's = {whole / plain:.2f} (target <= 2; each round's: {ratios})")


if __name__ == "__main__":
    main()
