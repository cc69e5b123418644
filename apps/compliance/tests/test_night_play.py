"""The night-play rule, driven through the real wallet services with a controlled clock: the play
session starts at the login (`start_play_session`); a bet at night fires the rule exactly when
the session has lasted `min_minutes` and `share_percent` of it was at night (not a second or a
percent below), once per player per night, on the local night of the rule's time zone; a bet by
day costs no query; a bet at night reads the session's start only; a re-delivered event fires
nothing twice."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.accounts.choices import PlayerStatus
from apps.common.models import OutboxEvent
from apps.compliance import audit, engine, night, receivers, services
from apps.compliance.errors import InvalidRule
from apps.compliance.models import Alert, Rule, RuleFiring, RuleVersion
from apps.compliance.tests.factories import bet, fresh, funded_player

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# 2026-03-03, a Tuesday: London is on GMT, its midnight is 00:00 UTC.
MIDNIGHT = dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def enable(staff):
    """Enable the seeded night-play rule through the service, with `parameters` changed."""

    def enable(**parameters) -> Rule:
        rule = Rule.objects.get(code="night-play")
        return services.save_rule(
            code=rule.code, rule_type=rule.type, parameters={**rule.parameters, **parameters},
            severity=rule.severity, actions=rule.actions, enabled=True, acting_user=staff, reason="for the test",
        )  # fmt: skip

    return enable


def log_in(clock, player, at: dt.datetime) -> None:
    """A login at `at`; the reality check every 24 hours, so that none pauses these nights' bets."""
    clock.move_to(at)
    services.set_reality_check_interval(player=player, minutes=24 * 60)
    services.start_play_session(player=player)


def bet_at(clock, committed, player, at: dt.datetime, amount: int = 10):
    clock.move_to(at)
    with committed():
        return bet(fresh(player), amount)


def last_bet_event() -> OutboxEvent:
    return OutboxEvent.objects.filter(name="wallet.transaction_posted").latest("pk")


# --- the seed and the parameters ---------------------------------------------------------------------


def test_the_night_play_rule_is_seeded_disabled_with_its_defaults():
    rule = Rule.objects.get(code="night-play")
    assert (rule.type, rule.enabled, rule.version, rule.severity, rule.actions) == (
        "night_play", False, 1, "low", ["alert", "notice"])  # fmt: skip
    assert rule.parameters == {"night_start_hour": 0, "night_end_hour": 6, "timezone": "Europe/London",
                               "share_percent": 60, "min_minutes": 180}  # fmt: skip
    assert RuleVersion.objects.filter(rule=rule, version=1, enabled=False, created_by=None).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "+01:00"},
        {"timezone": 1},
        {"night_end_hour": 0},  # starts and ends at midnight: no night
        {"night_start_hour": 24},
        {"share_percent": 0},
        {"share_percent": 101},
        {"min_minutes": 0},
        {"min_minutes": 1.5},
        {"window_seconds": 3600},
    ],
)
def test_invalid_night_play_parameters_are_refused_and_write_nothing(enable, change):
    with pytest.raises(InvalidRule):
        enable(**change)
    assert Rule.objects.get(code="night-play").version == 1


# --- the threshold -------------------------------------------------------------------------------------


def test_fires_when_the_session_reaches_min_minutes_not_a_second_before(clock, committed, enable, notices):
    rule = enable()  # 00:00 to 06:00 London, 60 % of a session of at least 180 minutes
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)

    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3) - SECOND)
    assert (RuleFiring.objects.exists(), notices) == (False, [])  # 179 min 59 s, all of it at night

    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3))

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.player_id, alert.severity, alert.value, alert.threshold) == (
        version, player.pk, "low", 100, 60)  # fmt: skip
    assert alert.event_ids == [last_bet_event().pk]  # the bet that made it fire
    assert alert.firing.window_start == MIDNIGHT  # the night's start
    assert [(n["player_id"], n["kind"]) for n in notices] == [(str(player.pk), "responsible_gambling")]
    assert fresh(player).status == PlayerStatus.ACTIVE  # alert and notice only


def test_fires_when_the_nights_share_reaches_share_percent_not_a_percent_below(clock, committed, enable):
    """A session from 21:00: at 02:59:59 the night is 10,799 s of 21,599 s (49 %); at 03:00 it is
    exactly half."""
    enable(share_percent=50, min_minutes=60)
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT - dt.timedelta(hours=3))

    bet_at(clock, committed, player, MIDNIGHT - dt.timedelta(hours=1))  # 23:00: not at night, not evaluated
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3) - SECOND)
    assert RuleFiring.objects.exists() is False

    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3))
    firing = RuleFiring.objects.get()
    assert (firing.value, firing.threshold, firing.window_start) == (50, 50, MIDNIGHT)


def test_fires_once_per_night_and_again_the_next_night(clock, committed, enable):
    enable()
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)
    for hours in (3, 4, 5):
        bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=hours))
    next_night = MIDNIGHT + dt.timedelta(days=1)
    log_in(clock, player, next_night)
    bet_at(clock, committed, player, next_night + dt.timedelta(hours=3))

    assert list(RuleFiring.objects.order_by("pk").values_list("window_start", flat=True)) == [MIDNIGHT, next_night]
    assert Alert.objects.count() == 2


def test_a_player_who_never_logged_in_has_no_session_and_the_rule_does_not_fire(clock, committed, enable):
    enable(min_minutes=1)
    player = funded_player(10_000)
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3))
    assert RuleFiring.objects.exists() is False


# --- the local night -------------------------------------------------------------------------------------


def test_the_night_is_the_time_zones_in_summer_time(clock, committed, enable):
    """London on BST: its 00:00 to 06:00 is 23:00 to 05:00 UTC, and the firing window is the
    night's start in UTC."""
    enable()
    player = funded_player(10_000)
    london_midnight = dt.datetime(2026, 7, 1, 23, 0, tzinfo=dt.UTC)
    log_in(clock, player, london_midnight)

    bet_at(clock, committed, player, london_midnight + dt.timedelta(hours=3))
    assert RuleFiring.objects.get().window_start == london_midnight


def test_a_night_across_midnight_belongs_to_the_evening_it_starts(clock, committed, enable):
    enable(night_start_hour=22, night_end_hour=6, timezone="Europe/Paris", min_minutes=60)
    player = funded_player(10_000)
    paris_22h = dt.datetime(2026, 3, 2, 21, 0, tzinfo=dt.UTC)  # CET: UTC+1
    log_in(clock, player, paris_22h)

    bet_at(clock, committed, player, paris_22h + dt.timedelta(hours=4))  # 02:00 in Paris, the next day
    assert RuleFiring.objects.get().window_start == paris_22h


def test_seconds_at_night_follow_the_wall_clock_across_daylight_saving():
    """The night of the spring change is five hours long in real time, that of the autumn seven."""
    for day, hours in ((dt.date(2026, 3, 29), 5), (dt.date(2026, 10, 25), 7)):
        since = int(dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).timestamp())
        until = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON).timestamp())
        assert night.seconds_at_night(since, until, 0, 6, LONDON) == hours * 3600
        assert until - since == (hours + 18) * 3600  # the day itself: 23 and 25 hours
    a_week = int(MIDNIGHT.timestamp())
    assert night.seconds_at_night(a_week, a_week + 7 * 86_400, 22, 6, LONDON) == 7 * 8 * 3600


# --- cost and once per event ------------------------------------------------------------------------------


def test_a_bet_by_day_costs_no_query(clock, committed, enable, django_assert_num_queries):
    enable()
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=12))
    event = last_bet_event()
    engine.active_rules()  # loaded once per CACHE_SECONDS, not per event

    with django_assert_num_queries(0):
        receivers.evaluate_rules(None, event_id=event.pk + 1000, **event.payload)


def test_a_bet_at_night_reads_the_sessions_start_and_nothing_else(clock, committed, enable, django_assert_num_queries):
    enable()
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=1))  # 1 h: below min_minutes
    event = last_bet_event()
    engine.active_rules()

    # The session's start alone: night play counts nothing, so it needs no receipt and no bucket
    # (its firing is once per night by the firing's constraint).
    with django_assert_num_queries(1) as captured:
        receivers.evaluate_rules(None, event_id=event.pk + 1000, **event.payload)

    (session,) = [q["sql"] for q in captured.captured_queries]
    assert '"session_started_at" FROM "compliance_playerprotection"' in session
    assert "wallet_" not in session  # never the ledger, never the player's history


def test_beside_a_bucket_rule_the_sessions_start_comes_in_the_counting_statement(
    clock, committed, enable, staff, django_assert_num_queries
):
    """With the micro-bet rule on too, a bet at night is one statement after its commit: the
    receipt, the micro-bet bucket and the session's start together; the night rule fires then."""
    micro = Rule.objects.get(code="micro-bets-60s")
    services.save_rule(code=micro.code, rule_type=micro.type, parameters=micro.parameters, severity=micro.severity,
                       actions=["alert"], enabled=True, acting_user=staff, reason="for the test")  # fmt: skip
    enable()
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=1))  # 1 h: below min_minutes
    event = last_bet_event()
    engine.active_rules()
    with django_assert_num_queries(1) as captured:
        receivers.evaluate_rules(None, event_id=event.pk + 1000, **event.payload)
    assert "FROM compliance_playerprotection" in captured.captured_queries[0]["sql"]
    assert "INSERT INTO compliance_window_bucket" in captured.captured_queries[0]["sql"]
    assert not Alert.objects.exists()

    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3))  # the night rule is due
    assert [alert.rule_version.rule.code for alert in Alert.objects.all()] == ["night-play"]
    assert Alert.objects.get().event_ids == [last_bet_event().pk]


def test_a_redelivered_event_fires_nothing_twice(clock, committed, enable, notices):
    enable()
    player = funded_player(10_000)
    log_in(clock, player, MIDNIGHT)
    bet_at(clock, committed, player, MIDNIGHT + dt.timedelta(hours=3))
    event = last_bet_event()

    for _ in range(2):  # the sweeper's re-deliveries, after a crash before the row was marked
        receivers.evaluate_rules(None, event_id=event.pk, **event.payload)

    assert (RuleFiring.objects.count(), Alert.objects.count(), len(notices)) == (1, 1, 1)
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}
