"""The sandbox PSP's webhook delivery worker: it sends signed webhooks to PAM over HTTP, the way
a real PSP does, with bounded retries and exponential backoff.

One daemon thread per process takes jobs from a queue ordered by due time; `enqueue` never
blocks the caller (the hosted page answers at once, the webhook follows). Each attempt is signed
afresh (a new timestamp, so a retry after minutes is still inside PAM's 300 s window) and logged;
any answer but 200 is retried after `PSP_SANDBOX_RETRY_BASE_SECONDS * 2**attempt` seconds, up
to `PSP_SANDBOX_MAX_ATTEMPTS` attempts. Jobs live in memory: a sandbox process that stops loses
its undelivered webhooks, as it would lose a test card's payment; a real PSP keeps them.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import structlog
from django.conf import settings

from apps.payments.signature import signed_headers

logger = structlog.get_logger(__name__)


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    url: str = field(compare=False)
    secret: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)


@dataclass
class Outcome:
    """What became of one webhook (for the sandbox's tests and logs)."""

    event_id: str
    attempts: list[int | str] = field(default_factory=list)  # each attempt's status, or its error
    delivered: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class DeliveryWorker:
    def __init__(self) -> None:
        self._jobs: list[_Job] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.outcomes: dict[str, Outcome] = {}

    def enqueue(self, *, url: str, secret: str, event: dict, delay: float = 0.0) -> Outcome:
        """Deliver `event` (the contract's body) to `url`, signed with `secret`, `delay` seconds
        from now, then retry as the module says. Returns at once."""
        outcome = self.outcomes[event["event_id"]] = Outcome(event["event_id"])
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._wake:
            heapq.heappush(self._jobs, _Job(time.monotonic() + delay, next(self._seq), url, secret, body))
            self._start()
            self._wake.notify()
        return outcome

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sandbox-psp-delivery", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._jobs or self._jobs[0].due > time.monotonic():
                    self._wake.wait(timeout=(self._jobs[0].due - time.monotonic()) if self._jobs else None)
                job = heapq.heappop(self._jobs)
            self._attempt(job)

    def _attempt(self, job: _Job) -> None:
        event_id = json.loads(job.body)["event_id"]
        outcome = self.outcomes.get(event_id) or Outcome(event_id)
        request = urllib.request.Request(  # noqa: S310 - the configured PAM URL
            job.url, data=job.body, method="POST",
            headers={"Content-Type": "application/json", **signed_headers(job.secret, job.body)},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status: int | str = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = type(exc).__name__
        outcome.attempts.append(status)
        attempts = job.attempt + 1
        logger.info("sandbox_psp.webhook_attempt", event_id=event_id, url=job.url, attempt=attempts, status=status)
        if status == 200:
            outcome.delivered = True
            outcome.done.set()
            return
        if attempts >= settings.PSP_SANDBOX_MAX_ATTEMPTS:
            logger.error("sandbox_psp.webhook_abandoned", event_id=event_id, attempts=attempts)
            outcome.done.set()
            return
        job.attempt = attempts
        job.due = time.monotonic() + settings.PSP_SANDBOX_RETRY_BASE_SECONDS * 2**job.attempt
        job.seq = next(self._seq)
        with self._wake:
            heapq.heappush(self._jobs, job)
            self._wake.notify()


worker = DeliveryWorker()
