"""The staff-action trail under real concurrency: one chain for everyone, so staff actions on
different players, in different threads with their own PostgreSQL connections, queue on the
chain's head and still form one unbroken chain: no fork, no duplicate, no lost record."""

from __future__ import annotations

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit
from apps.compliance import services as compliance
from apps.compliance.models import StaffAction, StaffActionHead
from apps.compliance.staff_audit import GENESIS
from apps.wallet import services as wallet
from tests.concurrency.test_parallel_bets import assert_audit_clean, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8
ROUNDS = 5  # staff actions per thread, each in its own transaction


def staff_day(player, staff, n: int):
    """A staff member's actions on one player: limits lowered step by step, and adjustments."""

    def run() -> None:
        for step in range(ROUNDS):
            if step % 2:
                wallet.adjust_balance(player_id=player.pk, amount=100, reason=f"goodwill {n}/{step}", acting_user=staff)
            else:
                compliance.set_limit(player=player, kind="loss", period="7d", amount=10_000 - step, acting_user=staff,
                                     reason=f"review {n}/{step}")  # fmt: skip

    return run


def test_eight_threads_appending_at_once_leave_one_unbroken_chain():
    staff = [make_staff(StaffRole.COMPLIANCE) for _ in range(THREADS)]
    players = [make_player() for _ in range(THREADS)]

    outcomes = run_at_once([staff_day(players[n], staff[n], n) for n in range(THREADS)])

    assert [o.error for o in outcomes] == [None] * THREADS
    chain = list(StaffAction.objects.order_by("pk"))
    assert len(chain) == THREADS * ROUNDS
    assert len({r.chain_hash for r in chain}) == len({r.previous_hash for r in chain}) == THREADS * ROUNDS
    assert [r.previous_hash for r in chain] == [GENESIS] + [r.chain_hash for r in chain[:-1]]
    assert StaffActionHead.objects.get().chain_hash == chain[-1].chain_hash
    # Every thread's five actions are there, once each, in the order that thread made them.
    for n in range(THREADS):
        reasons = [r.reason for r in chain if r.actor_id == staff[n].pk]
        assert reasons == [f"{'goodwill' if step % 2 else 'review'} {n}/{step}" for step in range(ROUNDS)]
    # Times grow along the chain: each was taken under the head's lock.
    assert [r.created_at for r in chain] == sorted(r.created_at for r in chain)
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}
    assert_audit_clean()  # the ledger's own invariants, with the adjustments among them
