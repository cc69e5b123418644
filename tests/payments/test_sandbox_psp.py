"""The sandbox PSP end to end, over real HTTP: the hosted page takes a test card and sends the
player back to the site, and the delivery worker sends the signed webhook to a live PAM server
(pytest-django's `live_server`, on this run's test database), retrying with backoff when an
attempt fails, exactly as a real PSP would.

A small front server stands between the worker and PAM: it answers 503 to the first attempt of
each event and passes the others on, byte for byte with their headers, so a retry is really a
second HTTP request that PAM verifies afresh."""

from __future__ import annotations

import http.server
import time
import urllib.request
from collections.abc import Iterator

import pytest
from django.test import Client

from apps.payments.adapters.sandbox import CARD_DECLINED, CARD_SUCCEEDS, CARD_SUCCEEDS_LATE
from apps.payments.choices import WithdrawalStatus
from apps.payments.delivery import worker
from apps.payments.models import DepositIntent, WebhookEvent, Withdrawal
from apps.payments.tests.factories import (
    a_provider,
    assert_audit_clean,
    cash,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from tests.support import serve_in_thread

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
WAIT = 20


class FlakyFront(http.server.ThreadingHTTPServer):
    """Fails the first attempt of every event with a 503, forwards every other to `target`."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: set[bytes] = set()
        self.answers: list[int] = []
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    server: FlakyFront

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if body not in self.server.seen:
            self.server.seen.add(body)
            self._answer(503, b'{"error": "try again"}')
            return
        headers = {name: self.headers[name] for name in ("Content-Type", "X-Webhook-Timestamp", "X-Webhook-Signature")}
        request = urllib.request.Request(self.server.target + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                self._answer(answer.status, answer.read())
        except urllib.error.HTTPError as refusal:
            self._answer(refusal.code, refusal.read())

    def _answer(self, status: int, body: bytes) -> None:
        self.server.answers.append(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def front(live_server, settings) -> Iterator[FlakyFront]:
    server = FlakyFront(live_server.url)
    serve_in_thread(server)
    settings.PSP_SANDBOX_WEBHOOK_URL = server.url + "/api/payments/v1/webhooks/{provider}"
    settings.PSP_SANDBOX_RETRY_BASE_SECONDS = 0.05
    settings.PSP_SANDBOX_LATE_SECONDS = 0.5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def status_of(deposit) -> str:
    return DepositIntent.objects.get(pk=deposit.pk).status


def pay_on_hosted_page(deposit, card: str):
    browser = Client()
    page = browser.get(f"/sandbox-psp/checkout/{deposit.public_id}")
    assert page.status_code == 200
    assert b"4242 4242 4242 4242" in page.content
    assert deposit.public_id.encode() in page.content
    return browser.post(f"/sandbox-psp/checkout/{deposit.public_id}", {"card_number": card, "expiry": "12/34"})


def test_a_paid_card_sends_the_player_back_and_the_webhook_arrives_after_a_failed_attempt(front):
    player = verified_player()
    deposit = start_deposit(player, 5_000)

    back = pay_on_hosted_page(deposit, CARD_SUCCEEDS)

    assert (back.status_code, back["Location"]) == (302, f"/cashier/?deposit={deposit.public_id}")
    wait_until(lambda: status_of(deposit) == "succeeded", "the deposit to be credited")
    outcome = next(o for o in worker.outcomes.values() if o.event_id == WebhookEvent.objects.get().event_id)
    assert outcome.done.wait(WAIT)
    assert (outcome.attempts, outcome.delivered, front.answers) == ([503, 200], True, [503, 200])
    assert (cash(player), list(WebhookEvent.objects.values_list("verdict", flat=True))) == (5_000, ["applied"])
    assert_audit_clean()


def test_a_declined_card_fails_the_deposit(front):
    player = verified_player()
    deposit = start_deposit(player, 5_000)

    assert pay_on_hosted_page(deposit, CARD_DECLINED).status_code == 302

    wait_until(lambda: status_of(deposit) == "failed", "the deposit to fail")
    assert cash(player) == 0


def test_a_late_card_is_credited_after_the_player_is_back(front):
    player = verified_player()
    deposit = start_deposit(player, 5_000)

    assert pay_on_hosted_page(deposit, CARD_SUCCEEDS_LATE).status_code == 302

    assert status_of(deposit) == "pending"  # the player is back; the PSP has not said anything yet
    wait_until(lambda: status_of(deposit) == "succeeded", "the late webhook")
    assert cash(player) == 5_000


def test_an_unknown_card_is_refused_on_the_page_and_sends_nothing(front):
    deposit = start_deposit(verified_player(), 5_000)
    answer = Client().post(f"/sandbox-psp/checkout/{deposit.public_id}", {"card_number": "1234 5678 9012 3456"})
    assert (answer.status_code, b"test cards" in answer.content) == (200, True)
    assert front.answers == []


def test_the_sandbox_pays_an_approved_withdrawal_by_itself(front, settings):
    settings.PSP_SANDBOX_AUTOPAY = True
    player = verified_player(10_000)

    withdrawal = request_withdrawal(player, 4_000)

    wait_until(lambda: Withdrawal.objects.get(pk=withdrawal.pk).status == WithdrawalStatus.PAID, "the payout")
    assert cash(player) == 6_000
    assert_audit_clean()
