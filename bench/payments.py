"""The benchmark of the payment webhook endpoint: signed `deposit.succeeded` webhooks, a quarter of
them duplicates of one already sent, against /healthz on the same server, at the same
concurrency, in one run; then the proof that every deposit was credited exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import psycopg

from bench.load import ratio, run_load
from bench.server import print_audit, served
from tests.support import ROOT

CONCURRENCY = 8
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
DUPLICATES = 0.25  # the share of deliveries that repeat an event already sent
# Enough pending deposits that the run never runs out of new events (the server answers at most
# a few hundred webhooks a second here); the load stops when they are used up anyway.
INTENTS = int(os.environ.get("BENCH_INTENTS", "6000"))
PAYERS = 500


def signed_webhook(secret: str, deposit_id: str, amount: int, currency: str, event_id: str | None = None):
    """A `deposit.succeeded` event for `deposit_id` as a PSP sends it: (body, headers)."""
    body = json.dumps({
        "event_id": event_id or f"evt-{uuid.uuid4().hex}", "type": "deposit.succeeded", "reference": deposit_id,
        "amount": amount, "currency": currency, "occurred_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }).encode()  # fmt: skip
    return body, sign(secret, body)


def sign(secret: str, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature}


def webhook_requests(provider: str, secret: str, deposits: list[tuple[str, int, str]]):
    """Each request delivers the next deposit's success, or (one time in four) again an event sent
    before, with a new signature and timestamp as a PSP's retry would have."""
    fresh = iter(deposits)
    sent: list[bytes] = []
    chooser = random.Random(7)

    def make(_n: int):
        deposit = None if sent and chooser.random() < DUPLICATES else next(fresh, None)
        if deposit is None:  # a retry, or every deposit delivered: only retries are left
            body = chooser.choice(sent)
        else:
            body, _ = signed_webhook(secret, *deposit)
            sent.append(body)
        return "POST", f"/api/payments/v1/webhooks/{provider}", sign(secret, body), body

    return make, sent


def _acknowledged(status: int, payload: bytes) -> bool:
    return status == 200 and json.loads(payload).get("status") in ("applied", "duplicate")


def exactly_once(database_url: str, delivered: list[bytes]) -> str:
    """What the ledger and the deposits say after the run, against the events delivered."""
    references = {json.loads(body)["reference"] for body in delivered}
    with psycopg.connect(database_url) as conn:
        credits = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM wallet_transaction "
            "WHERE kind = 'deposit' AND origin LIKE 'psp:%%'"
        ).fetchone()
        succeeded = conn.execute("SELECT COUNT(*) FROM payments_depositintent WHERE status = 'succeeded'").fetchone()[0]
    once = credits[0] == credits[1] == succeeded == len(references)
    return (
        f"deposits delivered {len(references)}, credited {credits[0]} ({credits[1]} distinct), "
        f"marked succeeded {succeeded}: {'each credited exactly once' if once else 'NOT EXACTLY ONCE'}"
    )


def payments_benchmark(workers: int) -> None:
    print(f"== payment webhooks: signed deposit.succeeded ({DUPLICATES:.0%} duplicates) vs /healthz; "
          f"{workers} uvicorn workers, c={CONCURRENCY}, {DURATION:.0f} s per run")  # fmt: skip
    with served(workers, PSP_SANDBOX_AUTOPAY="false") as (host, port, env):
        secret = secrets.token_hex(32)
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.seed_payments", str(PAYERS), str(INTENTS), secret], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        provider, *lines = seeded.stdout.strip().split("\n")
        deposits = [(deposit_id, int(amount), currency) for deposit_id, amount, currency in map(str.split, lines)]
        parts = urlsplit(env["DATABASE_URL"])
        database_url = f"host={parts.hostname} port={parts.port or 5432} user={parts.username} dbname={parts.path[1:]}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        make, delivered = webhook_requests(provider, secret, deposits)
        hooks = run_load("signed webhook (25% duplicates)", host, port, make, concurrency=CONCURRENCY,
                         duration=DURATION, max_requests=2 * INTENTS, ok=_acknowledged, workers=workers)  # fmt: skip
        health = run_load("GET /healthz", host, port, lambda _n: ("GET", "/healthz", {}, b""), concurrency=CONCURRENCY,
                          duration=DURATION, max_requests=100_000, workers=workers)  # fmt: skip
        for result in (hooks, health):
            print(result.line())
        print(f"c={CONCURRENCY}: webhooks/healthz = {ratio(hooks, health)}   webhook p99 = "
              f"{hooks.percentile(99):.1f} ms   errors = {hooks.errors}")  # fmt: skip
        print(exactly_once(database_url, delivered))
        print_audit(env)
