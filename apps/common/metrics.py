"""PAM's Prometheus metrics: every metric is defined here, the apps record through these objects,
and `/metrics` (apps.common.views.metrics_view) exposes them with `render()` (docs/metrics.md).

One process or many. `make run` is one process: the metrics live in prometheus_client's default
registry. `make serve` runs several uvicorn workers and the outbox sweeper, and a scrape reaches
one worker only. There PROMETHEUS_MULTIPROC_DIR is set before the processes start
(scripts/serve.sh: a directory emptied at each start), so prometheus_client keeps every figure in
a memory-mapped file per process, and a scrape of any worker reads the files of all: counters and
histograms summed over every process since the start (a worker that died keeps its counts), the
socket gauges over the processes still alive.

Labels are bounded: a route is the URL pattern's name, never the path; a provider is a configured
one; a kind or verdict is one of the code's choices. Recording costs a lock and an add (a write
into the mapped file with several processes) and is done after the work it measures, never inside
a money transaction. Only two collectors read the database, at scrape time: the outbox's backlog
and the database's transaction id ages.
"""

from __future__ import annotations

import atexit
import glob
import os
import re

import structlog
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = structlog.get_logger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A counter's `_created` series doubles what is stored for nothing a dashboard here reads, and
# multiprocess mode has none: one shape of output in both modes.
disable_created_metrics()

# --- HTTP ----------------------------------------------------------------------------------------

HTTP_REQUEST_SECONDS = Histogram(
    "pam_http_request_duration_seconds",
    "Seconds from a request's arrival to its response (a streamed body not included), by the URL "
    "pattern's name, method and status class; its _count is the number of requests.",
    ["route", "method", "status"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UNMATCHED_ROUTE = "unmatched"  # a path no URL pattern matched (a 404): never the path itself
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(*, route: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request; any other method is `other`, so a client cannot add label values."""
    HTTP_REQUEST_SECONDS.labels(
        route=route or UNMATCHED_ROUTE, method=method if method in _METHODS else "other", status=f"{status // 100}xx"
    ).observe(seconds)


# --- the wallet ----------------------------------------------------------------------------------

WALLET_TRANSACTIONS = Counter(
    "pam_wallet_transactions",
    "Wallet transactions committed, by kind (bet, win, rollback, deposit...): the rate of kind=bet is bets per second.",
    ["kind"],
)

# --- real time -----------------------------------------------------------------------------------

PUSH_SECONDS = Histogram(
    "pam_realtime_push_latency_seconds",
    "Seconds from a domain event's commit to its frames' send on the channel layer (from the "
    "outbox sweeper's re-dispatch, for an event a crash left undispatched).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PUSH_FAILURES = Counter(
    "pam_realtime_push_failures",
    "Pushes lost to a channel layer that failed (the clients catch up from the ledger on their next heartbeat).",
)
# The same figure twice: summed over the live processes, and per live process (a `pid` label with
# several processes), to see one worker holding more sockets than the others.
OPEN_SOCKETS = Gauge(
    "pam_realtime_open_sockets",
    "WebSockets open, by socket (player, backoffice, odds), summed over the live server processes.",
    ["socket"],
    multiprocess_mode="livesum",
)
OPEN_SOCKETS_BY_PROCESS = Gauge(
    "pam_realtime_open_sockets_by_process",
    "WebSockets open, by socket (player, backoffice, odds) and server process (pid).",
    ["socket"],
    multiprocess_mode="liveall",
)
PLAYER_SOCKET = "player"
BACKOFFICE_SOCKET = "backoffice"
ODDS_SOCKET = "odds"


def socket_opened(socket: str) -> None:
    OPEN_SOCKETS.labels(socket=socket).inc()
    OPEN_SOCKETS_BY_PROCESS.labels(socket=socket).inc()


def socket_closed(socket: str) -> None:
    OPEN_SOCKETS.labels(socket=socket).dec()
    OPEN_SOCKETS_BY_PROCESS.labels(socket=socket).dec()


# --- payments ------------------------------------------------------------------------------------

WEBHOOK_VERDICTS = Counter(
    "pam_payments_webhooks",
    "PSP webhook deliveries, by provider and verdict (applied, duplicate, ignored, refused).",
    ["provider", "verdict"],
)
UNKNOWN_PROVIDER = "(unknown)"  # a delivery naming no configured provider: not its name, which is anyone's


def webhook_verdict(*, provider: str | None, verdict: str) -> None:
    WEBHOOK_VERDICTS.labels(provider=provider or UNKNOWN_PROVIDER, verdict=verdict).inc()


# --- the outbox, read at scrape time -------------------------------------------------------------


class OutboxCollector:
    """The outbox's backlog and the age of its oldest event still to dispatch, read when scraped:
    one statement on the undispatched rows' partial index (apps.common.outbox.backlog). A
    database that does not answer leaves the three out of the scrape (logged), never fails it."""

    def collect(self):
        from apps.common import outbox  # models: only once the apps are loaded

        try:
            backlog = outbox.backlog()
        except Exception as exc:
            logger.warning("metrics.outbox_unread", error=repr(exc))
            return
        age = 0.0 if backlog.oldest_at is None else max((timezone.now() - backlog.oldest_at).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "pam_outbox_backlog", "Domain events committed and not yet dispatched (set-aside ones excluded).",
            value=backlog.pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "pam_outbox_oldest_age_seconds", "Age of the oldest event still to dispatch; 0 when there is none.",
            value=age,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "pam_outbox_set_aside", "Events set aside after failing every attempt: an engineer must look.",
            value=backlog.set_aside,
        )  # fmt: skip


# --- the database's transaction id ages, read at scrape time ---------------------------------------

_AGES_SQL = "SELECT age(datfrozenxid), mxid_age(datminmxid) FROM pg_database WHERE datname = current_database()"


class DatabaseAgesCollector:
    """How far PostgreSQL is from wrapping its transaction ids and its multixacts around: the
    ages that autovacuum's freezing keeps down (docs/configuration.md: concurrent bets make about
    a multixact each on the house account's row). Read when scraped, one statement on
    `pg_database`; nothing on SQLite, and a database that does not answer leaves the two out of
    the scrape (logged), never fails it."""

    def collect(self):
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute(_AGES_SQL)
                xid_age, multixact_age = cursor.fetchone()
        except Exception as exc:
            logger.warning("metrics.database_ages_unread", error=repr(exc))
            return
        yield GaugeMetricFamily(
            "pam_database_xid_age", "Transactions since the database's oldest unfrozen transaction id.",
            value=xid_age,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "pam_database_multixact_age", "Multixacts since the database's oldest unfrozen multixact id.",
            value=multixact_age,
        )  # fmt: skip


# --- the scrape ----------------------------------------------------------------------------------


class _Sources:
    """What one scrape reads, as one collector."""

    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def multiprocess_dir() -> str | None:
    """The directory of the processes' files, or None in a single process. Read from the
    environment, which prometheus_client also read when it was imported: set it before start."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def render() -> tuple[bytes, str]:
    """The scrape: every process's figures (or this process's alone), the outbox's and the
    database's ages, in the Prometheus text format; returns the body and its content type."""
    path = multiprocess_dir()
    if path is None:
        figures = REGISTRY
    else:
        forget_dead_processes(path)
        figures = multiprocess.MultiProcessCollector(None, path=path)
    return generate_latest(_Sources(figures, OutboxCollector(), DatabaseAgesCollector())), CONTENT_TYPE_LATEST


_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db$")


def forget_dead_processes(path: str) -> list[int]:
    """Drop the live gauges of processes that are gone (a worker killed before its exit hook ran,
    which uvicorn then replaces): their sockets closed with them. Returns their pids."""
    dead = set()
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_GAUGE_FILE.search(name)
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return sorted(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _at_exit() -> None:
    """A process that ends normally takes its live gauges with it."""
    path = multiprocess_dir()
    if path is not None and os.path.isdir(path):
        multiprocess.mark_process_dead(os.getpid(), path)


atexit.register(_at_exit)
