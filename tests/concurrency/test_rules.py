"""The behaviour-rule engine under real concurrency (threads with their own PostgreSQL connections,
released together): parallel bets of one player are each counted once and the rule fires once
(one lock or freeze);
the same event delivered by several threads at once (the in-process dispatch racing the outbox
sweeper) counts once."""

from __future__ import annotations

import pytest

from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_staff
from apps.common.models import EventReceipt, OutboxEvent
from apps.compliance import audit, receivers, services
from apps.compliance.models import Alert, Rule, RuleFiring, RuleRun, StaffAction, WindowBucket
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction
from tests.concurrency.test_parallel_bets import bet_call, funded_player, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def enable_micro_bets(max_bets: int, actions: list[str] | None = None) -> None:
    rule = Rule.objects.get(code="micro-bets-60s")
    services.save_rule(
        code=rule.code, rule_type=rule.type, parameters={**rule.parameters, "max_bets": max_bets},
        severity=rule.severity, actions=actions or rule.actions, enabled=True,
        acting_user=make_staff(StaffRole.COMPLIANCE),
        reason="concurrency test",
    )  # fmt: skip


@pytest.mark.parametrize(("action", "status"), [("lock", PlayerStatus.LOCKED), ("freeze", PlayerStatus.FROZEN)])
def test_thirty_micro_bets_at_once_count_each_once_and_lock_or_freeze_once(action, status):
    enable_micro_bets(max_bets=10, actions=["alert", action])
    player = funded_player(10_000)

    outcomes = run_at_once([bet_call(player.pk, 1, f"micro-{n}", round_id=f"r{n}") for n in range(30)])

    accepted = [o for o in outcomes if o.error is None]
    bets = Transaction.objects.filter(player=player, kind=TransactionKind.BET).count()
    assert bets == len(accepted)
    assert sum(b.count for b in WindowBucket.objects.filter(player=player)) == bets  # none counted twice, none lost
    assert Player.objects.get(pk=player.pk).status == status
    assert (RuleFiring.objects.count(), Alert.objects.count()) == (1, 1)
    assert list(StaffAction.objects.filter(system_actor="rules").values_list("action", flat=True)) == [f"rule.{action}"]
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def test_one_event_delivered_by_eight_threads_at_once_counts_once():
    enable_micro_bets(max_bets=10)
    player = funded_player(10_000)
    bet_call(player.pk, 1, "once")()
    event = OutboxEvent.objects.filter(name="wallet.transaction_posted").latest("pk")
    # As if the process died before the engine ran: no receipt, nothing counted.
    EventReceipt.objects.filter(event_id=event.pk).delete()
    WindowBucket.objects.filter(player=player).delete()

    outcomes = run_at_once(
        [lambda: receivers.evaluate_rules(None, event_id=event.pk, **event.payload) for _ in range(8)]
    )

    assert [o.error for o in outcomes] == [None] * 8
    bucket = WindowBucket.objects.get(player=player)
    assert (bucket.count, bucket.total, bucket.event_ids) == (1, 1, [event.pk])
    assert EventReceipt.objects.filter(event_id=event.pk, receiver="compliance.evaluate_rules").count() == 1


def test_eight_failed_deposits_evaluated_at_once_make_one_run_of_eight_and_fire_once():
    """The first events of a player's run race to create its row: each is counted once, in the
    one row, and the rule fires once."""
    from apps.payments.choices import EventType
    from apps.payments.tests.factories import a_provider, event, post_webhook, start_deposit, verified_player

    a_provider()
    player = verified_player()
    for _ in range(8):  # declined while no rule is on: nothing counted yet
        intent = start_deposit(player, 1_000)
        assert post_webhook(event(EventType.DEPOSIT_FAILED, intent.public_id, 1_000)).json() == {"status": "applied"}
    rule = Rule.objects.get(code="failed-deposits-1h")
    services.save_rule(
        code=rule.code, rule_type=rule.type, parameters=rule.parameters, severity=rule.severity, actions=rule.actions,
        enabled=True, acting_user=make_staff(StaffRole.COMPLIANCE), reason="concurrency test",
    )  # fmt: skip
    failures = list(OutboxEvent.objects.filter(name="payments.deposit_failed").order_by("pk"))

    outcomes = run_at_once(
        [lambda sent=sent: receivers.evaluate_failed_deposit(None, event_id=sent.pk, **sent.payload)
         for sent in failures]
    )  # fmt: skip

    assert [o.error for o in outcomes] == [None] * 8
    run = RuleRun.objects.get(player=player)
    assert (run.count, sorted(pair[0] for pair in run.events)) == (8, [sent.pk for sent in failures])
    assert (RuleFiring.objects.count(), Alert.objects.count()) == (1, 1)
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}
