"""bench/cost_split.py: the backends' states as sampled, and a slice's CPU and samples added to its
load's totals, on the test database (a real row-lock wait)."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest
from django.db import connection

from bench import cost_split


@pytest.mark.parametrize(
    ("wait_type", "wait_event", "state"),
    [
        (None, None, "running"),
        ("Lock", "tuple", "row lock"),
        ("Lock", "transactionid", "row lock"),
        ("IO", "WALSync", "WAL"),
        ("LWLock", "WALWrite", "WAL"),
        ("Lock", "relation", "other"),
        ("Client", "ClientRead", "other"),
    ],
)
def test_an_active_backend_is_running_or_waiting_on_a_row_lock_the_wal_or_something_else(wait_type, wait_event, state):
    assert cost_split.classify(wait_type, wait_event) == state


def test_a_loads_line_is_its_cpu_per_request_and_the_share_of_each_state():
    split = cost_split.Split(requests=1_000, server_cpu=1.17, database_cpu=0.61)
    split.samples.update({"running": 6, "row lock": 3, "WAL": 1})

    assert split.line("(s)") == (
        "(s): CPU per request 1170 us in the server's processes, 610 us in PostgreSQL; "
        "its active backends' samples: 60 % running, 30 % row lock, 10 % WAL, 0 % other"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slice_counts_its_requests_and_samples_a_backend_waiting_on_a_row_lock():
    settings = connection.settings_dict
    conninfo = (
        f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} user={settings['USER']} "
        f"dbname={settings['NAME']}"
    )
    split = cost_split.Split()
    with psycopg.connect(conninfo) as holder, psycopg.connect(conninfo) as waiter:
        holder.execute("SELECT 1 FROM accounts_currency WHERE code = 'EUR' FOR UPDATE")
        blocked = threading.Thread(
            target=lambda: (waiter.execute("SELECT 1 FROM accounts_currency WHERE code = 'EUR' FOR UPDATE"),
                            waiter.commit()),
            daemon=True,
        )  # fmt: skip
        with cost_split.Measured(conninfo, [os.getpid()]).slice(split) as done:
            blocked.start()
            time.sleep(10 * cost_split.SAMPLE_EVERY)
            done(7)
            holder.commit()
            blocked.join(timeout=10)

    assert not blocked.is_alive()
    assert split.requests == 7
    assert split.samples["row lock"] >= 3
