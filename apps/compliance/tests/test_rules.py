"""The behaviour-rule engine, driven through the real wallet services with a controlled clock: each
seeded rule type fires exactly at its threshold and not one unit below, once per firing window;
its actions (alert, notice, lock) apply once, by the system actor the trail names; a re-delivered
event counts once; the windows are read from buckets, never from the ledger; rules change only
through `save_rule`, each change a version and a staff action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from apps.accounts.choices import PlayerStatus
from apps.accounts.services import ensure_brand
from apps.common.models import EventReceipt, OutboxEvent
from apps.compliance import audit, engine, receivers, services
from apps.compliance.errors import InvalidRule, PlayerBlocked
from apps.compliance.models import Alert, Rule, RuleFiring, RuleVersion, StaffAction, WindowBucket
from apps.compliance.tests.factories import START, bet, deposit, fresh, funded_player

pytestmark = pytest.mark.django_db

EUR_1000 = 100_000
LIMIT = {"kind": "deposit", "period": "24h", "amount": 5_000, "currency": "EUR"}


@pytest.fixture
def enable(staff):
    """Enable the seeded rule `code` through the service, with `parameters` changed."""

    def enable(code: str, actions: list[str] | None = None, **parameters) -> Rule:
        rule = Rule.objects.get(code=code)
        return services.save_rule(
            code=code, rule_type=rule.type, parameters={**rule.parameters, **parameters}, severity=rule.severity,
            actions=actions or rule.actions, enabled=True, acting_user=staff, reason="enabled for the test",
        )  # fmt: skip

    return enable


def event_ids(name: str = "wallet.transaction_posted") -> list[int]:
    return list(OutboxEvent.objects.filter(name=name).order_by("pk").values_list("pk", flat=True))


def ledger_reads(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if "wallet_transaction" in q["sql"] or "wallet_entry" in q["sql"]]


# --- the seeds ------------------------------------------------------------------------------------


def test_the_default_rules_are_seeded_disabled_each_with_its_first_version():
    # The seeds of 0007 and 0012 (the cashier's rules of 0010 and the identity rules of 0011 are
    # tested with their types).
    codes = ["deposit-threshold-24h", "deposit-velocity-1h", "micro-bets-60s", "night-play"]
    seeded = {rule.code: (rule.type, rule.parameters, rule.actions, rule.enabled, rule.version)
              for rule in Rule.objects.filter(code__in=codes)}  # fmt: skip
    assert seeded == {
        "deposit-threshold-24h": ("deposit_threshold", {"amount": EUR_1000, "currency": "EUR",
                                                        "window_seconds": 86_400}, ["alert"], False, 1),
        "deposit-velocity-1h": ("deposit_velocity", {"count": 5, "window_seconds": 3_600}, ["alert"], False, 1),
        "micro-bets-60s": ("micro_bet", {"max_bets": 200, "window_seconds": 60, "max_stake": 10},
                           ["alert", "lock"], False, 1),
        "night-play": ("night_play", {"night_start_hour": 0, "night_end_hour": 6, "timezone": "Europe/London",
                                      "share_percent": 60, "min_minutes": 180}, ["alert", "notice"], False, 1),
    }  # fmt: skip
    assert RuleVersion.objects.filter(rule__code__in=codes, version=1, enabled=False, created_by=None).count() == 4
    assert RuleVersion.objects.filter(version=1, enabled=False, created_by=None).count() == 10
    # Every seed but the game RTP drift rule's (alerts only, about games: test_rules_game_rtp.py).
    assert list(Rule.objects.filter(enabled=True).values_list("code", flat=True)) == ["game-rtp-drift"]
    assert Rule.objects.filter(enabled=False).count() == 10


def test_with_every_rule_disabled_an_event_costs_no_query_and_counts_nothing(
    clock, committed, django_assert_num_queries
):
    player = funded_player(10_000)
    engine.active_rules()  # loaded once per CACHE_SECONDS, not per event
    with committed():
        posted = deposit(player, 5_000)
    with django_assert_num_queries(0):
        receivers.evaluate_rules(None, event_id=123, **_event(player, "deposit", 5_000, posted.version))
    assert WindowBucket.objects.exists() is False
    assert EventReceipt.objects.filter(receiver=engine.RECEIVER).exists() is False


def _event(player, kind, amount, version):
    return {"player_id": str(player.pk), "transaction_id": "t", "kind": kind, "amount": amount, "version": version,
            "balance": 0, "cash": 0, "bonus": 0, "currency": player.currency_id, "game_id": "",
            "created_at": START.isoformat()}  # fmt: skip


# --- deposit threshold -------------------------------------------------------------------------------


def test_deposit_threshold_fires_at_the_threshold_with_an_alert_naming_its_version_and_events(clock, committed, enable):
    rule = enable("deposit-threshold-24h")
    player = funded_player(0)
    with committed():
        deposit(player, EUR_1000 - 1)
    assert Alert.objects.exists() is False  # one unit below

    clock.move_to(START + dt.timedelta(hours=23))
    with committed():
        deposit(fresh(player), 1)

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.player_id, alert.severity, alert.status, alert.value, alert.threshold) == (
        version, player.pk, "medium", "open", EUR_1000, EUR_1000)  # fmt: skip
    assert alert.event_ids == event_ids()  # the two deposits
    assert StaffAction.objects.filter(action="rule.lock").exists() is False  # alert only: nothing locked
    assert fresh(player).status == PlayerStatus.ACTIVE


def test_deposit_threshold_one_unit_below_does_not_fire(clock, committed, enable):
    enable("deposit-threshold-24h")
    player = funded_player(0)
    with committed():
        for amount in (60_000, 39_999):
            deposit(fresh(player), amount)
    assert (Alert.objects.exists(), RuleFiring.objects.exists()) == (False, False)
    assert WindowBucket.objects.get(player=player).total == EUR_1000 - 1


def test_deposit_threshold_fires_once_per_firing_window_not_on_every_deposit_above_it(clock, committed, enable):
    enable("deposit-threshold-24h")
    player = funded_player(0)
    with committed():
        for _ in range(4):
            deposit(fresh(player), 40_000)  # reaches EUR 1,000 at the third, stays above at the fourth
    assert list(Alert.objects.values_list("value", flat=True)) == [120_000]


def test_the_window_rounds_out_to_whole_hours_never_in(clock, committed, enable):
    """Hourly buckets: a deposit 24 h later still sees the first (the window covers up to one
    bucket more); 25 h later it has left the window."""
    enable("deposit-threshold-24h")
    early, late = funded_player(0), funded_player(0)
    with committed():
        deposit(early, 50_000)
        deposit(late, 50_000)
    clock.move_to(START + dt.timedelta(hours=24))
    with committed():
        deposit(fresh(early), 50_000)
    clock.move_to(START + dt.timedelta(hours=25))
    with committed():
        deposit(fresh(late), 50_000)
    assert list(Alert.objects.values_list("player_id", flat=True)) == [early.pk]


def test_deposit_threshold_in_another_currency_at_the_reference_rate(clock, committed, enable):
    enable("deposit-threshold-24h")  # EUR 1,000 = GBP 850 at the seeded rate of 0.85
    below, at = funded_player(0, currency="GBP"), funded_player(0, currency="GBP")
    with committed():
        deposit(below, 84_999)
        deposit(at, 85_000)
    assert list(Alert.objects.values_list("player_id", "threshold")) == [(at.pk, 85_000)]


# --- deposit velocity -----------------------------------------------------------------------------------


def test_deposit_velocity_fires_at_the_fifth_deposit_within_the_hour_not_the_fourth(clock, committed, enable):
    enable("deposit-velocity-1h")
    player = funded_player(0)
    for minute in range(4):
        clock.move_to(START + dt.timedelta(minutes=minute * 10))
        with committed():
            deposit(fresh(player), 100)
    assert Alert.objects.exists() is False

    clock.move_to(START + dt.timedelta(minutes=59))
    with committed():
        deposit(fresh(player), 100)
    alert = Alert.objects.get()
    assert (alert.value, alert.threshold, alert.severity, len(alert.event_ids)) == (5, 5, "low", 5)


def test_deposit_velocity_forgets_deposits_older_than_its_window(clock, committed, enable):
    enable("deposit-velocity-1h")
    player = funded_player(0)
    with committed():
        deposit(player, 100)  # 12:00, in the 12:00 minute bucket
    clock.move_to(START + dt.timedelta(hours=1, minutes=1))  # 13:01: the window starts at 12:01
    with committed():
        for _ in range(4):
            deposit(fresh(player), 100)
    assert Alert.objects.exists() is False


# --- micro-bets -------------------------------------------------------------------------------------------


def test_micro_bets_lock_at_the_201st_bet_within_60_seconds_by_the_rules_system_actor(
    clock, committed, enable, notices
):
    rule = enable("micro-bets-60s")
    player = funded_player(10_000)
    with committed():
        for _ in range(200):
            bet(player, 10)
    assert (fresh(player).status, Alert.objects.exists()) == (PlayerStatus.ACTIVE, False)  # 200: not more than 200

    clock.move_to(START + dt.timedelta(seconds=59))
    with committed():
        bet(player, 1)  # the 201st within 60 s

    assert fresh(player).status == PlayerStatus.LOCKED
    with pytest.raises(PlayerBlocked):
        bet(fresh(player), 1)
    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.value, alert.threshold, alert.severity) == (version, 201, 201, "high")
    lock = StaffAction.objects.get(action="rule.lock")
    assert (lock.actor, lock.system_actor, lock.target_type, lock.target_id) == (
        None, "rules", "accounts.player", str(player.pk))  # fmt: skip
    assert (lock.before, lock.after) == ({"status": "active"}, {"status": "locked"})
    assert f"rule micro-bets-60s version {rule.version} (rule version id {version.pk})" in lock.reason
    assert str(lock) == f"rule.lock accounts.player:{player.pk} by system:rules"
    assert notices == []  # the lock's own notice goes through account_locked, which closes the sockets
    locked = OutboxEvent.objects.filter(name="compliance.account_locked").values_list("payload", flat=True)
    assert list(locked) == [{"player_id": str(player.pk), "message": engine.LOCK_MESSAGE, "data": {"reason": "locked"}}]
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def test_micro_bets_count_only_stakes_up_to_the_micro_stake_and_only_60_seconds(clock, committed, enable):
    enable("micro-bets-60s", max_bets=3)
    big, slow = funded_player(10_000), funded_player(10_000)
    with committed():
        for _ in range(10):
            bet(big, 11)  # above the micro-stake of 10
    for second in (0, 30, 59, 60, 90):  # never more than 3 within any 60 s
        clock.move_to(START + dt.timedelta(seconds=second))
        with committed():
            bet(fresh(slow), 1)
    assert (fresh(big).status, fresh(slow).status) == (PlayerStatus.ACTIVE, PlayerStatus.ACTIVE)
    assert RuleFiring.objects.exists() is False


def test_a_notice_action_sends_the_player_one_notice_per_firing(clock, committed, enable, notices):
    enable("micro-bets-60s", actions=["notice"], max_bets=2)
    player = funded_player(1_000)
    with committed():
        for _ in range(6):
            bet(player, 1)
    assert [(n["player_id"], n["kind"], n["data"]) for n in notices] == [
        (str(player.pk), "responsible_gambling", {"reason": "behaviour_rule"})]  # fmt: skip
    assert (fresh(player).status, Alert.objects.exists()) == (PlayerStatus.ACTIVE, False)


# --- once per event, once per firing --------------------------------------------------------------------


def test_a_redelivered_event_counts_once(clock, committed, enable):
    enable("deposit-velocity-1h")
    player = funded_player(0)
    with committed():
        deposit(player, 100)
    event = OutboxEvent.objects.filter(name="wallet.transaction_posted").latest("pk")

    for _ in range(3):  # the sweeper's re-deliveries, after a crash before the row was marked
        receivers.evaluate_rules(None, event_id=event.pk, **event.payload)

    bucket = WindowBucket.objects.get(player=player)
    assert (bucket.total, bucket.count, bucket.event_ids) == (100, 1, [event.pk])


def test_an_event_evaluated_after_a_crash_through_the_sweeper_counts_once(clock, enable):
    """The money commits, then the process dies before any receiver runs: the sweeper delivers the
    event; it counts once and fires the rule then."""
    from apps.common import outbox

    enable("deposit-velocity-1h", count=1)
    player = funded_player(0)
    deposit(player, 100)  # its after-commit work never runs (the test's transaction never commits)
    assert WindowBucket.objects.exists() is False

    clock.move_to(START + dt.timedelta(seconds=11))
    for _ in range(2):
        outbox.sweep(grace=dt.timedelta(seconds=10))
        OutboxEvent.objects.update(dispatched_at=None, claimed_until=None)  # as if never marked: again

    assert WindowBucket.objects.get(player=player).count == 1
    assert RuleFiring.objects.count() == 1


def test_a_crash_after_the_count_and_before_the_firing_fires_on_the_sweepers_redelivery(clock, enable, monkeypatch):
    """The count commits with the receipt; the firing fails (the process dies there): the event stays
    undispatched, and the sweeper's delivery counts nothing more and fires the rule once."""
    from apps.common import outbox

    enable("deposit-velocity-1h", count=1, actions=["alert"])
    player = funded_player(0)
    deposit(player, 100)
    event = OutboxEvent.objects.get(name="wallet.transaction_posted", payload__player_id=str(player.pk))

    def crash(*args, **kwargs):
        raise RuntimeError("the process died after the count")

    monkeypatch.setattr(engine, "_fire", crash)
    with pytest.raises(RuntimeError):
        receivers.evaluate_rules(None, event_id=event.pk, **event.payload)
    assert WindowBucket.objects.get(player=player).count == 1
    assert RuleFiring.objects.exists() is False
    monkeypatch.undo()

    clock.move_to(START + dt.timedelta(seconds=11))
    for _ in range(2):
        outbox.sweep(grace=dt.timedelta(seconds=10))
        OutboxEvent.objects.update(dispatched_at=None, claimed_until=None)

    assert WindowBucket.objects.get(player=player).count == 1
    assert RuleFiring.objects.count() == 1
    assert Alert.objects.get().event_ids == [event.pk]


def test_the_firing_is_unique_per_rule_version_player_and_window_in_the_database(clock, committed, enable):
    enable("deposit-velocity-1h", count=1)
    player = funded_player(0)
    with committed():
        deposit(player, 100)
    firing = RuleFiring.objects.get()
    firing.pk = None
    with pytest.raises(DatabaseError, match="rule_fires_once_per_window"), transaction.atomic():
        firing.save(force_insert=True)


def test_an_edited_rule_fires_again_as_its_new_version(clock, committed, enable):
    enable("deposit-velocity-1h", count=1)
    player = funded_player(0)
    with committed():
        deposit(player, 100)
    with committed():  # the save's commit makes this process read the rules again
        enable("deposit-velocity-1h", count=2)
    with committed():
        deposit(fresh(player), 100)
    assert list(Alert.objects.order_by("pk").values_list("rule_version__version", "value")) == [(2, 1), (3, 2)]


def test_an_event_reads_only_its_windows_buckets_never_the_ledger(clock, committed, enable):
    enable("micro-bets-60s")
    enable("deposit-velocity-1h")
    player = funded_player(1_000)
    with committed():
        bet(player, 1)
    event = OutboxEvent.objects.filter(name="wallet.transaction_posted").latest("pk")
    engine.active_rules()
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        receivers.evaluate_rules(None, event_id=event.pk + 1000, **{**event.payload, "transaction_id": "x"})
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert ledger_reads(queries.captured_queries) == []
    # the receipt, the upsert and the bounded read in one statement: nothing per bucket or per rule
    assert len(statements) == 1, statements
    assert statements[0].startswith("WITH receipt AS (INSERT INTO common_eventreceipt")
    assert "INSERT INTO compliance_window_bucket" in statements[0]
    assert "FROM compliance_window_bucket WHERE player_id" in statements[0]


# --- scope ------------------------------------------------------------------------------------------------


def test_a_rule_scoped_to_another_brand_ignores_the_player(clock, committed, staff):
    other = ensure_brand(code="other", name="Other")
    services.save_rule(code="velocity-other", rule_type="deposit_velocity", parameters={"count": 1,
                       "window_seconds": 3600}, severity="low", actions=["alert"], enabled=True, brand=other,
                       acting_user=staff, reason="the other brand only")  # fmt: skip
    player = funded_player(0)
    with committed():
        deposit(player, 100)
    assert (WindowBucket.objects.exists(), Alert.objects.exists()) == (False, False)


def test_a_rule_scoped_to_the_players_jurisdiction_applies(clock, committed, staff):
    from apps.compliance.selectors import get_profile

    player = funded_player(0)
    services.save_rule(code="velocity-here", rule_type="deposit_velocity", parameters={"count": 1,
                       "window_seconds": 3600}, severity="low", actions=["alert"], enabled=True,
                       jurisdiction=get_profile(player), acting_user=staff, reason="this jurisdiction")  # fmt: skip
    with committed():
        deposit(player, 100)
    assert Alert.objects.get().player_id == player.pk


# --- rules as data -------------------------------------------------------------------------------------


def test_each_save_is_a_new_version_and_a_staff_action_and_the_trail_verifies(staff):
    rule = services.save_rule(code="velocity-x", rule_type="deposit_velocity", parameters={"count": 3,
                              "window_seconds": 600}, severity="low", actions=["lock", "alert"], enabled=False,
                              acting_user=staff, reason="new")  # fmt: skip
    rule = services.save_rule(code="velocity-x", rule_type="deposit_velocity", parameters={"count": 4,
                              "window_seconds": 600}, severity="high", actions=["alert"], enabled=True,
                              acting_user=staff, reason="stricter")  # fmt: skip

    assert (rule.version, rule.actions) == (2, ["alert"])
    versions = RuleVersion.objects.filter(rule=rule).order_by("version")
    assert [(v.version, v.parameters["count"], v.actions, v.severity, v.enabled, v.created_by, v.reason)
            for v in versions] == [(1, 3, ["alert", "lock"], "low", False, staff, "new"),
                                   (2, 4, ["alert"], "high", True, staff, "stricter")]  # fmt: skip
    saves = StaffAction.objects.filter(action="rule.save").order_by("pk")
    assert [(s.actor, s.target_id, s.reason) for s in saves] == [(staff, str(rule.pk), "new"),
                                                                 (staff, str(rule.pk), "stricter")]  # fmt: skip
    assert saves[1].before == {"parameters": {"count": 3, "window_seconds": 600}, "severity": "low",
                               "actions": ["alert", "lock"], "enabled": False}  # fmt: skip
    assert saves[1].after == {"parameters": {"count": 4, "window_seconds": 600}, "severity": "high",
                              "actions": ["alert"], "enabled": True, "version": 2}  # fmt: skip
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def test_a_save_that_changes_nothing_writes_nothing(staff):
    rule = Rule.objects.get(code="deposit-velocity-1h")
    before = (RuleVersion.objects.count(), StaffAction.objects.count())
    services.save_rule(code=rule.code, rule_type=rule.type, parameters=rule.parameters, severity=rule.severity,
                       actions=rule.actions, enabled=False, acting_user=staff, reason="no change")  # fmt: skip
    assert (RuleVersion.objects.count(), StaffAction.objects.count()) == before


@pytest.mark.parametrize(
    ("rule_type", "parameters", "actions"),
    [("deposit_velocity", {"count": 0, "window_seconds": 600}, ["alert"]),
     ("deposit_velocity", {"count": 2}, ["alert"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "extra": 1}, ["alert"]),
     ("deposit_velocity", {"count": 2.0, "window_seconds": 600}, ["alert"]),
     ("deposit_velocity", {"count": True, "window_seconds": 600}, ["alert"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600}, []),
     ("deposit_velocity", {"count": 2, "window_seconds": 600}, ["alert", "alert"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600}, ["ban"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": LIMIT}, ["alert"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "kind": "session"}}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "period": "1h"}}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "amount": -1}}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "amount": 1.5}}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "currency": "XXY"}}, ["limit"]),
     ("deposit_velocity", {"count": 2, "window_seconds": 600, "limit": {**LIMIT, "extra": 1}}, ["limit"]),
     ("deposit_threshold", {"amount": 100, "currency": "eur", "window_seconds": 600}, ["alert"]),
     ("deposit_threshold", {"amount": 100, "currency": "XXY", "window_seconds": 600}, ["alert"]),
     ("micro_bet", {"max_bets": 5, "window_seconds": 3601, "max_stake": 10}, ["alert"]),
     ("structuring", {}, ["alert"])],
)  # fmt: skip
def test_invalid_rules_are_refused_and_write_nothing(staff, rule_type, parameters, actions):
    before = (Rule.objects.count(), RuleVersion.objects.count(), StaffAction.objects.count())
    with pytest.raises(InvalidRule):
        services.save_rule(code="bad", rule_type=rule_type, parameters=parameters, severity="low", actions=actions,
                           enabled=True, acting_user=staff, reason="try")  # fmt: skip
    assert (Rule.objects.count(), RuleVersion.objects.count(), StaffAction.objects.count()) == before


def test_a_rules_type_never_changes_and_a_save_needs_a_reason(staff):
    with pytest.raises(InvalidRule, match="type never changes"):
        services.save_rule(code="deposit-velocity-1h", rule_type="micro_bet", parameters={"max_bets": 5,
                           "window_seconds": 60, "max_stake": 1}, severity="low", actions=["alert"], enabled=True,
                           acting_user=staff, reason="x")  # fmt: skip
    with pytest.raises(InvalidRule, match="reason"):
        services.save_rule(code="new", rule_type="deposit_velocity", parameters={"count": 1, "window_seconds": 60},
                           severity="low", actions=["alert"], enabled=True, acting_user=staff, reason=" ")  # fmt: skip


@pytest.mark.parametrize("statement", ["UPDATE compliance_ruleversion SET enabled = true",
                                       "DELETE FROM compliance_ruleversion"])  # fmt: skip
def test_the_database_refuses_to_change_a_rule_version(statement):
    with pytest.raises(DatabaseError, match="rule_version_immutable"), transaction.atomic(), connection.cursor() as c:
        c.execute(statement)


def test_a_staff_action_has_a_staff_actor_or_a_system_actor_not_both(staff):
    from apps.compliance.staff_audit import record_staff_action

    with pytest.raises(ValueError, match="not both"), transaction.atomic():
        record_staff_action(actor=staff, system_actor="rules", action="rule.lock", target=("x.y", "1"))
