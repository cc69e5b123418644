"""The cashier's behaviour rules (structuring, rapid cycling, failed deposits in a row, loss
chasing), driven through the real wallet and payments services with a controlled clock: each
fires exactly at its threshold and not one unit below, once per firing window or run; a
re-delivered event counts once; a bet costs nothing when no enabled rule counts bets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.common.models import EventReceipt, OutboxEvent
from apps.compliance import audit, engine, receivers, services
from apps.compliance.errors import InvalidRule
from apps.compliance.models import Alert, Rule, RuleFiring, RuleRun, RuleVersion, WindowBucket
from apps.compliance.tests.factories import START, bet, deposit, fresh, funded_player
from apps.payments.choices import EventType
from apps.payments.tests.factories import a_provider, event, post_webhook, start_deposit, verified_player
from apps.payments.tests.factories import request_withdrawal as withdraw

pytestmark = pytest.mark.django_db

FAILED = "payments.deposit_failed"
POSTED = "wallet.transaction_posted"


@pytest.fixture
def enable(staff):
    """Enable the seeded rule `code` through the service, with `parameters` changed."""

    def enable(code: str, **parameters) -> Rule:
        rule = Rule.objects.get(code=code)
        return services.save_rule(
            code=code, rule_type=rule.type, parameters={**rule.parameters, **parameters}, severity=rule.severity,
            actions=rule.actions, enabled=True, acting_user=staff, reason="enabled for the test",
        )  # fmt: skip

    return enable


@pytest.fixture
def provider():
    return a_provider()


def at(**delta) -> dt.datetime:
    return START + dt.timedelta(**delta)


def event_ids(name: str) -> list[int]:
    return list(OutboxEvent.objects.filter(name=name).order_by("pk").values_list("pk", flat=True))


def paid_in(player, amount: int) -> None:
    """A deposit through the cashier: started, then the PSP's signed success webhook."""
    intent = start_deposit(fresh(player), amount)
    answer = post_webhook(event(EventType.DEPOSIT_SUCCEEDED, intent.public_id, amount, player.currency_id))
    assert answer.json() == {"status": "applied"}


def declined(player, amount: int = 1_000) -> None:
    """A deposit through the cashier that the PSP declines (its signed failure webhook)."""
    intent = start_deposit(fresh(player), amount)
    answer = post_webhook(event(EventType.DEPOSIT_FAILED, intent.public_id, amount, player.currency_id))
    assert answer.json() == {"status": "applied"}


def assert_audit_clean() -> None:
    assert {name: found for name, found in audit.run_audit().items() if found} == {}


# --- the seeds --------------------------------------------------------------------------------------------


def test_the_cashier_rules_are_seeded_disabled_each_with_its_first_version():
    codes = ["failed-deposits-1h", "loss-chasing-1h", "rapid-cycling-24h", "structuring-7d"]
    seeded = {rule.code: (rule.type, rule.parameters, rule.severity, rule.actions, rule.enabled, rule.version)
              for rule in Rule.objects.filter(code__in=codes)}  # fmt: skip
    assert seeded == {
        "structuring-7d": ("structuring", {"threshold": 200_000, "currency": "EUR", "below_percent": 10, "count": 3,
                                           "window_seconds": 7 * 86_400}, "medium", ["alert"], False, 1),
        "rapid-cycling-24h": ("rapid_cycling", {"turnover_percent": 50, "min_deposits": 10_000, "currency": "EUR",
                                                "window_seconds": 86_400}, "high", ["alert"], False, 1),
        "failed-deposits-1h": ("failed_deposits", {"count": 5, "window_seconds": 3_600}, "high", ["alert"], False, 1),
        "loss-chasing-1h": ("loss_chasing", {"count": 3, "window_seconds": 3_600, "low_balance_percent": 10},
                            "medium", ["alert", "notice"], False, 1),
    }  # fmt: skip
    assert RuleVersion.objects.filter(rule__code__in=codes, version=1, enabled=False, created_by=None).count() == 4


@pytest.mark.parametrize(
    ("rule_type", "parameters"),
    [("structuring", {"threshold": 200_000, "currency": "EUR", "below_percent": 100, "count": 3,
                      "window_seconds": 3600}),
     ("structuring", {"threshold": 200_000, "below_percent": 10, "count": 3, "window_seconds": 3600}),
     ("rapid_cycling", {"turnover_percent": 0, "min_deposits": 1, "currency": "EUR", "window_seconds": 86_400}),
     ("rapid_cycling", {"turnover_percent": 50, "min_deposits": 1, "currency": "EUR", "window_seconds": 600}),
     ("failed_deposits", {"count": 1, "window_seconds": 3600}),
     ("failed_deposits", {"count": 51, "window_seconds": 3600}),
     ("loss_chasing", {"count": 3, "window_seconds": 3600, "low_balance_percent": 0}),
     ("loss_chasing", {"count": 3, "window_seconds": 3600})],
)  # fmt: skip
def test_invalid_cashier_rules_are_refused(staff, rule_type, parameters):
    with pytest.raises(InvalidRule):
        services.save_rule(code="bad", rule_type=rule_type, parameters=parameters, severity="low", actions=["alert"],
                           enabled=True, acting_user=staff, reason="try")  # fmt: skip
    assert Rule.objects.filter(code="bad").exists() is False


# --- structuring ------------------------------------------------------------------------------------------


def test_structuring_fires_at_the_third_deposit_in_the_band_within_7_days(clock, committed, enable):
    rule = enable("structuring-7d")  # EUR 2,000, within 10 % below: 1,800.00 to 1,999.99
    player = verified_player()
    with committed():
        for amount in (180_000, 199_999, 179_999, 200_000):  # the band's edges, and one step outside each
            deposit(fresh(player), amount)
    assert Alert.objects.exists() is False  # two in the band: one below the count

    clock.move_to(at(days=6, hours=23))
    with committed():
        deposit(fresh(player), 190_000)

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.value, alert.threshold, alert.severity) == (version, 3, 3, "medium")
    posted = event_ids(POSTED)
    assert alert.event_ids == [posted[0], posted[1], posted[4]]  # the deposits in the band, not the others
    assert_audit_clean()


def test_structuring_one_deposit_short_or_just_outside_the_band_does_not_fire(clock, committed, enable):
    enable("structuring-7d")
    short, outside = verified_player(), verified_player()
    with committed():
        for amount in (180_000, 199_999):
            deposit(fresh(short), amount)
        for amount in (179_999, 179_999, 200_000, 200_000):
            deposit(fresh(outside), amount)
    clock.move_to(at(days=7, hours=1))  # the first two have left the window
    with committed():
        deposit(fresh(short), 190_000)
    assert RuleFiring.objects.exists() is False


def test_structuring_in_another_currency_uses_the_band_at_the_reference_rate(clock, committed, enable):
    enable("structuring-7d")  # EUR 2,000 = GBP 1,700 at 0.85: the band is 1,530.00 to 1,699.99
    below, at_edge = verified_player(currency="GBP"), verified_player(currency="GBP")
    with committed():
        for _ in range(3):
            deposit(fresh(below), 152_999)
            deposit(fresh(at_edge), 153_000)
    assert list(Alert.objects.values_list("player_id", "value")) == [(at_edge.pk, 3)]


# --- rapid cycling ----------------------------------------------------------------------------------------


def test_rapid_cycling_fires_on_the_withdrawal_when_bets_are_under_half_the_deposits(
    clock, committed, enable, provider
):
    rule = enable("rapid-cycling-24h")  # bets under 50 % of deposits of at least EUR 100, in 24 h
    player = verified_player()
    with committed():
        paid_in(player, 10_000)
    clock.move_to(at(hours=1))
    with committed():
        bet(fresh(player), 4_999)
    assert (Alert.objects.exists(), RuleFiring.objects.exists()) == (False, False)  # bets are counted, never read

    clock.move_to(at(hours=23))
    with committed():
        withdraw(fresh(player), 5_000)

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    # the deposits (10,000) reached the least that fires: max(EUR 100, 4,999 * 100 // 50 + 1)
    assert (alert.rule_version, alert.value, alert.threshold, alert.severity) == (version, 10_000, 10_000, "high")
    deposit_event, _, withdrawal_event = event_ids(POSTED)
    assert alert.event_ids == [deposit_event, withdrawal_event]
    assert_audit_clean()


def test_rapid_cycling_does_not_fire_at_half_the_deposits_or_one_unit_under_the_minimum(
    clock, committed, enable, provider
):
    enable("rapid-cycling-24h")
    wagered, small = verified_player(), verified_player()
    with committed():
        paid_in(wagered, 10_000)
        bet(fresh(wagered), 5_000)  # exactly half: not under it
        paid_in(small, 9_999)  # no bet at all, but under EUR 100 of deposits
    clock.move_to(at(hours=23))
    with committed():
        withdraw(fresh(wagered), 5_000)
        withdraw(fresh(small), 5_000)
    assert RuleFiring.objects.exists() is False


def test_rapid_cycling_forgets_deposits_older_than_its_window(clock, committed, enable, provider):
    enable("rapid-cycling-24h")
    player = verified_player()
    with committed():
        paid_in(player, 10_000)
    clock.move_to(at(hours=25))  # hourly buckets: 24 h later still inside, 25 h later out
    with committed():
        withdraw(fresh(player), 1_000)
    assert Alert.objects.exists() is False


def test_a_bet_costs_no_query_unless_an_enabled_rule_counts_bets_and_then_one_upsert(clock, committed, enable):
    for code in ("structuring-7d", "failed-deposits-1h", "loss-chasing-1h"):
        enable(code)
    player = funded_player(10_000)
    with committed():
        posted = bet(player, 100)
    payload = OutboxEvent.objects.filter(name=POSTED).latest("pk").payload
    engine.active_rules()
    with CaptureQueriesContext(connection) as nothing:
        receivers.evaluate_rules(None, event_id=posted.version + 10_000, **payload)
    assert nothing.captured_queries == []

    with committed():
        enable("rapid-cycling-24h")
    engine.active_rules()
    with CaptureQueriesContext(connection) as counted:
        receivers.evaluate_rules(None, event_id=posted.version + 20_000, **payload)
    statements = [q["sql"] for q in counted.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the receipt and one upsert in one statement: no read of the buckets on a bet
    assert len(statements) == 1, statements
    assert statements[0].startswith("WITH receipt AS (INSERT INTO common_eventreceipt")
    assert "INSERT INTO compliance_window_bucket" in statements[0]
    assert "FROM compliance_window_bucket WHERE" not in statements[0]

    with committed():
        enable("micro-bets-60s", max_stake=100)
    engine.active_rules()
    with CaptureQueriesContext(connection) as shared:
        receivers.evaluate_rules(None, event_id=posted.version + 30_000, **payload)
    statements = [q["sql"] for q in shared.captured_queries if "SAVEPOINT" not in q["sql"]]
    # both metrics in the one upsert, and micro-bets' read, in the same one statement
    assert len(statements) == 1, statements
    assert "FROM compliance_window_bucket WHERE" in statements[0]
    assert sorted(WindowBucket.objects.filter(player=player).values_list("metric", flat=True).distinct()) == [
        "bet<=100@1", "bet@3600"]  # fmt: skip


def test_a_redelivered_bet_adds_to_the_turnover_once(clock, committed, enable):
    enable("rapid-cycling-24h")
    player = funded_player(10_000)
    with committed():
        bet(player, 300)
    sent = OutboxEvent.objects.filter(name=POSTED).latest("pk")
    for _ in range(3):
        receivers.evaluate_rules(None, event_id=sent.pk, **sent.payload)
    bucket = WindowBucket.objects.get(player=player, metric="bet@3600")
    assert (bucket.total, bucket.count, bucket.event_ids) == (300, 1, [sent.pk])


# --- failed deposits in a row --------------------------------------------------------------------------


def test_failed_deposits_fire_at_the_fifth_in_a_row_within_the_hour(clock, committed, enable, provider):
    rule = enable("failed-deposits-1h")
    player = verified_player()
    for minute in (0, 10, 20, 30):
        clock.move_to(at(minutes=minute))
        with committed():
            declined(player)
    assert Alert.objects.exists() is False  # four: one below

    clock.move_to(at(minutes=59, seconds=59))
    with committed():
        declined(player)

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.value, alert.threshold, alert.severity) == (version, 5, 5, "high")
    assert alert.event_ids == event_ids(FAILED)
    failure = OutboxEvent.objects.filter(name=FAILED).latest("pk").payload
    assert set(failure) == {"player_id", "deposit_id", "amount", "currency", "created_at"}
    assert (failure["player_id"], failure["amount"], failure["currency"]) == (str(player.pk), 1_000, "EUR")
    assert RuleFiring.objects.get().window_start == START  # the run's first failure

    clock.move_to(at(minutes=59, seconds=59))
    with committed():
        declined(player)  # the sixth of the same run: no second firing
    assert RuleFiring.objects.count() == 1
    assert_audit_clean()


def test_a_successful_deposit_ends_the_run_of_failures(clock, committed, enable, provider):
    enable("failed-deposits-1h")
    player = verified_player()
    with committed():
        for _ in range(4):
            declined(player)
        paid_in(player, 1_000)
        declined(player)
    assert (Alert.objects.exists(), RuleRun.objects.get(player=player).count) == (False, 1)


def test_failures_more_than_the_window_apart_do_not_make_a_run(clock, committed, enable, provider):
    enable("failed-deposits-1h")
    player = verified_player()
    for minute in (0, 15, 30, 45, 60):  # five, but the first is an hour before the fifth
        clock.move_to(at(minutes=minute))
        with committed():
            declined(player)
    assert Alert.objects.exists() is False


def test_a_redelivered_failure_counts_once(clock, committed, enable, provider):
    enable("failed-deposits-1h", count=2)
    player = verified_player()
    with committed():
        declined(player)
    sent = OutboxEvent.objects.get(name=FAILED)
    for _ in range(3):
        receivers.evaluate_failed_deposit(None, event_id=sent.pk, **sent.payload)
    run = RuleRun.objects.get(player=player)
    assert (run.count, [pair[0] for pair in run.events]) == (1, [sent.pk])
    assert (Alert.objects.exists(), EventReceipt.objects.filter(event_id=sent.pk).count()) == (False, 1)


def test_with_no_failed_deposits_rule_a_failure_costs_no_query(clock, committed, provider):
    player = verified_player()
    with committed():
        declined(player)
    sent = OutboxEvent.objects.get(name=FAILED)
    engine.active_rules()
    with CaptureQueriesContext(connection) as captured:
        receivers.evaluate_failed_deposit(None, event_id=sent.pk + 1, **sent.payload)
    assert (captured.captured_queries, RuleRun.objects.exists()) == ([], False)


# --- loss chasing --------------------------------------------------------------------------------------


@pytest.fixture
def chasing(clock, committed):
    """`chasing(player, left, last_gap)`: deposits of 1,000, 2,000 and 3,000, each after losing:
    everything of the first, all but `left` of the second; the second 30 minutes after the
    first, the third `last_gap` after the second."""

    def chase(player, left: int, last_gap: dt.timedelta) -> None:
        with committed():
            deposit(fresh(player), 1_000)
            bet(fresh(player), 1_000)
        clock.move_to(at(minutes=30))
        with committed():
            deposit(fresh(player), 2_000)
            bet(fresh(player), 2_000 - left)
        clock.move_to(at(minutes=30) + last_gap)
        with committed():
            deposit(fresh(player), 3_000)

    return chase


def test_loss_chasing_fires_at_the_third_rising_deposit_after_losses_with_a_notice(chasing, enable, notices):
    rule = enable("loss-chasing-1h")  # 3 rising deposits, each within 1 h, under 10 % of the last one left
    player = funded_player(0)
    chasing(player, left=199, last_gap=dt.timedelta(minutes=59, seconds=59))  # 199 < 10 % of 2,000

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.value, alert.threshold, alert.severity) == (version, 3, 3, "medium")
    deposits = [pk for pk, payload in OutboxEvent.objects.filter(name=POSTED).order_by("pk").values_list(
        "pk", "payload") if payload["kind"] == "deposit"]  # fmt: skip
    assert alert.event_ids == deposits
    assert [(n["player_id"], n["kind"]) for n in notices] == [(str(player.pk), "responsible_gambling")]
    assert_audit_clean()


@pytest.mark.parametrize(
    ("left", "last_gap"),
    [(200, dt.timedelta(minutes=59, seconds=59)),  # 10 % of 2,000 left: not under it
     (199, dt.timedelta(hours=1))],  # a whole hour after the last deposit
)  # fmt: skip
def test_loss_chasing_one_unit_short_does_not_fire(chasing, enable, notices, left, last_gap):
    enable("loss-chasing-1h")
    player = funded_player(0)
    chasing(player, left=left, last_gap=last_gap)
    assert (Alert.objects.exists(), notices) == (False, [])
    assert RuleRun.objects.get(player=player).count == 1  # the third deposit started a new run


def test_loss_chasing_needs_each_deposit_larger_than_the_last(clock, committed, enable):
    enable("loss-chasing-1h")
    player = funded_player(0)
    with committed():
        for amount in (1_000, 2_000, 2_000):
            deposit(fresh(player), amount)
            bet(fresh(player), amount)
    assert Alert.objects.exists() is False


def test_a_redelivered_deposit_moves_the_run_once(clock, committed, enable):
    enable("loss-chasing-1h", count=2)
    player = funded_player(0)
    with committed():
        deposit(player, 1_000)
    sent = OutboxEvent.objects.filter(name=POSTED).latest("pk")
    for _ in range(3):
        receivers.evaluate_rules(None, event_id=sent.pk, **sent.payload)
    run = RuleRun.objects.get(player=player)
    assert (run.count, run.last_value, run.events) == (1, 1_000, [[sent.pk, int(START.timestamp())]])
    assert Alert.objects.exists() is False


def test_a_failure_webhook_delivered_twice_sends_one_failure_event(clock, committed, provider):
    player = verified_player()
    intent = start_deposit(player, 1_000)
    body = event(EventType.DEPOSIT_FAILED, intent.public_id, 1_000)
    with committed():
        answers = [post_webhook(body).json() for _ in range(2)]
    assert answers == [{"status": "applied"}, {"status": "duplicate"}]
    assert OutboxEvent.objects.filter(name=FAILED).count() == 1


def test_failures_evaluated_out_of_order_still_make_their_run(clock, enable, provider):
    """Two failures whose events are evaluated newest first (two at once, or a sweeper's late
    delivery): both are in the run, in time order, and the rule fires."""
    enable("failed-deposits-1h", count=2)
    player = verified_player()
    for minute in (0, 10):  # outside `committed`: their events wait, as after a crash
        clock.move_to(at(minutes=minute))
        declined(player)
    first, second = OutboxEvent.objects.filter(name=FAILED).order_by("pk")
    for sent in (second, first):
        receivers.evaluate_failed_deposit(None, event_id=sent.pk, **sent.payload)
    run = RuleRun.objects.get(player=player)
    assert (run.count, run.events) == (
        2,
        [[first.pk, int(START.timestamp())], [second.pk, int(at(minutes=10).timestamp())]],
    )
    assert Alert.objects.get().event_ids == [first.pk, second.pk]


def test_a_redelivered_deposit_counts_once_towards_structuring(clock, committed, enable):
    enable("structuring-7d", count=2)
    player = verified_player()
    with committed():
        deposit(player, 190_000)
    sent = OutboxEvent.objects.filter(name=POSTED).latest("pk")
    for _ in range(3):
        receivers.evaluate_rules(None, event_id=sent.pk, **sent.payload)
    bucket = WindowBucket.objects.get(player=player)
    assert (bucket.metric, bucket.count, bucket.event_ids) == ("deposit<200000EUR-10%@3600", 1, [sent.pk])
    assert Alert.objects.exists() is False
