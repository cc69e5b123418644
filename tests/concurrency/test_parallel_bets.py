"""The wallet under real concurrency: real threads, each with its own PostgreSQL connection.

Contract (contracts/wallet-api.md, Idempotency and Concurrency): calls for one player are
serialised, calls for different players never wait for each other, the same call sent ten times
at once moves money once and every copy gets the first answer, and fifty bets of 100 on a
balance of 1000 leave exactly ten accepted.

Every wait has a timeout, so a regression shows up as a failed assertion, never as a hung run.
`serialized_rollback` restores the seeded currencies that the flush after a transactional test
removes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from apps.accounts.tests.factories import make_player
from apps.common.idempotency import ExternalRef, fingerprint
from apps.wallet import audit, errors, locks, selectors, services
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGIN = "provider:concurrency"
WAIT = 20  # seconds: the most any single wait in these tests may take before it counts as a failure


# --- helpers ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one thread's call returned or raised."""

    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def connect() -> None:
    """Open this thread's connection, waiting (bounded) while the server has no free slot."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def in_thread(fn: Callable[[], Any], outcome: Outcome, barrier: threading.Barrier | None = None) -> threading.Thread:
    """Start `fn` in a daemon thread with its own database connection, closed at the end.

    The connection is opened before the barrier, so the calls it releases start together."""

    def run() -> None:
        try:
            connect()
            if barrier is not None:
                barrier.wait(timeout=2 * WAIT)
            outcome.result = fn()
        except BaseException as exc:  # recorded for the test to assert on
            outcome.error = exc
        finally:
            connection.close()
            outcome.done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def run_at_once(calls: list[Callable[[], Any]]) -> list[Outcome]:
    """Run every call in its own thread, all released together by a barrier; wait for all."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]
    threads = [in_thread(call, outcome, barrier) for call, outcome in zip(calls, outcomes, strict=True)]
    deadline = time.monotonic() + 3 * WAIT
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a call did not finish in time"
    return outcomes


def in_other_connection(fn: Callable[[], Any]) -> Any:
    """Run `fn` on a fresh connection (another thread): it sees only what is committed."""
    outcome = Outcome()
    in_thread(fn, outcome)
    assert outcome.done.wait(timeout=WAIT), "the read did not finish in time"
    if outcome.error is not None:
        raise outcome.error
    return outcome.result


def funded_player(balance: int):
    player = make_player()
    services.adjust_balance(player_id=player.pk, amount=balance, reason="test funding", acting_user=None)
    return player


def bet_call(player_id: int, amount: int, transaction_id: str, round_id: str = "r1") -> Callable[[], services.Posted]:
    """A bet as the wallet API would make it, fingerprinted over the request's fields."""
    fields = {
        "player_id": str(player_id),
        "currency": "EUR",
        "amount": amount,
        "transaction_id": transaction_id,
        "round_id": round_id,
        "game_id": "slot-1",
    }
    ref = ExternalRef(ORIGIN, transaction_id, fingerprint("bet", fields))
    return lambda: services.place_bet(
        player_id=player_id, currency="EUR", amount=amount, ref=ref, round_id=round_id, game_id="slot-1"
    )


def answer(posted: services.Posted) -> tuple:
    """The values an API answer is built from (everything but the `replayed` flag)."""
    return (posted.transaction_id, posted.player_id, posted.currency, posted.balance, posted.version)


def assert_audit_clean() -> None:
    found = audit.run_audit()
    assert found == {name: [] for name in audit.CHECKS}, found


def wait_until_blocked_on_lock(count: int) -> None:
    """Wait until `count` other backends of this database wait for a lock (bounded)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    pytest.fail(f"{count} call(s) never started waiting for the row lock")


# --- tests -----------------------------------------------------------------------------------------


def test_fifty_bets_at_once_on_1000_accept_exactly_ten():
    player = funded_player(1000)

    outcomes = run_at_once([bet_call(player.pk, 100, f"fifty-{n}") for n in range(50)])

    unexpected = [
        o.error for o in outcomes if o.error is not None and not isinstance(o.error, errors.InsufficientFunds)
    ]
    assert unexpected == []
    accepted = sorted((o.result for o in outcomes if o.error is None), key=lambda posted: posted.version)
    refused = [o.error for o in outcomes if o.error is not None]
    assert len(accepted) == 10
    assert len(refused) == 40
    # The funding was version 1; the ten bets follow it with no gap or repeat, each 100 lower.
    assert [p.version for p in accepted] == list(range(2, 12))
    assert [p.balance for p in accepted] == list(range(900, -1, -100))
    assert len({p.transaction_id for p in accepted}) == 10
    assert not any(p.replayed for p in accepted)
    # A refusal reports the balance it saw, which can only have been 0.
    assert {(e.extra["balance"], e.extra["currency"]) for e in refused} == {(0, "EUR")}

    state = selectors.get_wallet_state(player.pk)
    assert (state.balance, state.cash, state.bonus, state.version) == (0, 0, 0, 11)
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BET).count() == 10
    assert_audit_clean()


def test_ten_identical_bets_at_once_move_money_once_and_get_one_answer():
    player = funded_player(1000)
    same_call = bet_call(player.pk, 100, "same-bet-1")

    outcomes = run_at_once([same_call] * 10)

    assert [o.error for o in outcomes] == [None] * 10
    answers = {answer(o.result) for o in outcomes}
    assert len(answers) == 1
    transaction_id, player_id, currency, balance, version = answers.pop()
    assert (player_id, currency, balance, version) == (str(player.pk), "EUR", 900, 2)
    assert sorted(o.result.replayed for o in outcomes) == [False] + [True] * 9

    rows = Transaction.objects.filter(origin=ORIGIN, external_id="same-bet-1")
    assert [str(pk) for pk in rows.values_list("pk", flat=True)] == [transaction_id]
    state = selectors.get_wallet_state(player.pk)
    assert (state.balance, state.version) == (900, 2)
    assert_audit_clean()


def test_bets_of_other_players_commit_while_one_players_wallet_is_locked():
    player_a, player_b, player_c = funded_player(1000), funded_player(1000), funded_player(1000)

    # A transaction on its own connection holds the row locks of C's accounts until released.
    locked, release = threading.Event(), threading.Event()

    def hold_c_locked() -> bool:
        with transaction.atomic():
            assert locks.lock_player_wallet(player_c.pk) is not None
            locked.set()
            return release.wait(timeout=WAIT)

    holder = Outcome()
    holder_thread = in_thread(hold_c_locked, holder)
    c_bet, a_bet, b_bet = Outcome(), Outcome(), Outcome()
    c_thread = a_thread = b_thread = None
    try:
        assert locked.wait(timeout=WAIT), "the lock holder never took the lock"

        # C's bet queues behind the held lock.
        c_thread = in_thread(bet_call(player_c.pk, 100, "c-bet-1"), c_bet)
        wait_until_blocked_on_lock(1)

        # A's and B's bets, from two more threads, do not wait for C's lock.
        a_thread = in_thread(bet_call(player_a.pk, 100, "a-bet-1"), a_bet)
        b_thread = in_thread(bet_call(player_b.pk, 250, "b-bet-1"), b_bet)
        assert a_bet.done.wait(timeout=WAIT), "A's bet waited for C's lock"
        assert b_bet.done.wait(timeout=WAIT), "B's bet waited for C's lock"
        assert (a_bet.error, b_bet.error) == (None, None)
        assert (a_bet.result.balance, a_bet.result.version) == (900, 2)
        assert (b_bet.result.balance, b_bet.result.version) == (750, 2)

        # Committed, as another connection sees it, while C is still locked and its bet waiting.
        seen = in_other_connection(lambda: [selectors.get_wallet_state(p.pk) for p in (player_a, player_b, player_c)])
        assert [(s.balance, s.version) for s in seen] == [(900, 2), (750, 2), (1000, 1)]
        assert not c_bet.done.is_set(), "C's bet went through a held lock"
        assert holder_thread.is_alive()
    finally:
        release.set()
        holder_thread.join(timeout=WAIT)
        for thread in (c_thread, a_thread, b_thread):
            if thread is not None:
                thread.join(timeout=WAIT)

    assert not holder_thread.is_alive()
    assert (holder.error, holder.result) == (None, True)
    # Once the lock is released, C's waiting bet completes on the balance it then reads.
    assert c_bet.done.is_set(), "C's bet did not complete after the lock was released"
    assert c_bet.error is None
    assert (c_bet.result.balance, c_bet.result.version) == (900, 2)
    state = selectors.get_wallet_state(player_c.pk)
    assert (state.balance, state.version) == (900, 2)
    assert_audit_clean()


@pytest.mark.parametrize("attempt", range(3))
def test_same_transaction_id_from_two_players_at_once_is_one_bet_and_one_duplicate(attempt):
    player_a, player_b = funded_player(1000), funded_player(1000)
    transaction_id = f"shared-id-{attempt}"

    outcomes = run_at_once([bet_call(player_a.pk, 100, transaction_id), bet_call(player_b.pk, 100, transaction_id)])

    assert not any(isinstance(o.error, IntegrityError) for o in outcomes), [o.error for o in outcomes]
    accepted = [o for o in outcomes if o.error is None]
    duplicate = [o for o in outcomes if isinstance(o.error, errors.DuplicateTransaction)]
    assert (len(accepted), len(duplicate)) == (1, 1), [o.error for o in outcomes]
    winner, loser = (player_a, player_b) if outcomes[0] is accepted[0] else (player_b, player_a)
    assert (accepted[0].result.player_id, accepted[0].result.balance) == (str(winner.pk), 900)
    # The refusal carries the refused player's untouched balance.
    assert duplicate[0].error.extra == {"balance": 1000, "currency": "EUR"}

    rows = Transaction.objects.filter(origin=ORIGIN, external_id=transaction_id)
    assert list(rows.values_list("player_id", flat=True)) == [winner.pk]
    assert selectors.get_wallet_state(winner.pk).balance == 900
    assert (selectors.get_wallet_state(loser.pk).balance, selectors.get_wallet_state(loser.pk).version) == (1000, 1)
    assert_audit_clean()
