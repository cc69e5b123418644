"""The shared-identity rule, driven through real logins (the test client, REMOTE_ADDR) and real
sandbox deposits (the PSP's signed webhook) with a controlled clock: it fires for the player whose
event makes the players sharing a mark reach `accounts` within the window, and not one account
below; once per firing window; a re-delivered event counts once; the read is one bounded indexed
query; the marks hold keyed hashes, never a card number, a device id or an address."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import PASSWORD, make_player
from apps.common.models import EventReceipt, OutboxEvent
from apps.compliance import audit, receivers, services
from apps.compliance.errors import InvalidRule
from apps.compliance.models import Alert, IdentityMark, Rule, RuleFiring, RuleVersion
from apps.compliance.tests.factories import START
from apps.payments.adapters import sandbox
from apps.payments.tests.factories import a_provider, post_webhook, start_deposit, verified_player

pytestmark = pytest.mark.django_db

DEVICE_RULE = "shared-instrument-or-device-30d"
ADDRESS_RULE = "shared-address-24h"
CARD = sandbox.CARD_SUCCEEDS


@pytest.fixture
def enable(staff):
    def enable(code: str, actions: list[str] | None = None, **parameters) -> Rule:
        rule = Rule.objects.get(code=code)
        return services.save_rule(
            code=code, rule_type=rule.type, parameters={**rule.parameters, **parameters}, severity=rule.severity,
            actions=actions or rule.actions, enabled=True, acting_user=staff, reason="enabled for the test",
        )  # fmt: skip

    return enable


@pytest.fixture
def provider():
    return a_provider()


_numbers = iter(range(1, 10_000))


def a_player():
    return make_player(username=f"p{next(_numbers)}")


def log_in(player, ip: str = "203.0.113.7", client: Client | None = None) -> Client:
    """A real site login: the form (which gives the browser its device cookie), then the post."""
    client = client or Client()
    client.get("/login/", REMOTE_ADDR=ip)
    answer = client.post("/login/", {"username": player.user.username, "password": PASSWORD}, REMOTE_ADDR=ip)
    assert answer.status_code == 302
    return client


def log_out(client: Client) -> None:
    client.post("/logout/", REMOTE_ADDR="203.0.113.7")


def pay(player, card: str = CARD) -> None:
    """A real sandbox deposit: started at the cashier, paid with `card`, the PSP's webhook posted."""
    deposit = start_deposit(player, 1_000)
    assert post_webhook(sandbox.deposit_event(deposit, card)).json() == {"status": "applied"}


def events(name: str) -> list[int]:
    return list(OutboxEvent.objects.filter(name=name).order_by("pk").values_list("pk", flat=True))


def assert_audit_clean() -> None:
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


# --- the seeds and validation ------------------------------------------------------------------------


def test_the_shared_identity_rules_are_seeded_disabled():
    seeded = {rule.code: (rule.type, rule.parameters, rule.severity, rule.actions, rule.enabled)
              for rule in Rule.objects.filter(type="shared_identity")}  # fmt: skip
    assert seeded == {
        DEVICE_RULE: ("shared_identity", {"accounts": 2, "window_seconds": 30 * 86_400,
                                          "kinds": ["instrument", "device"]}, "high", ["alert"], False),
        ADDRESS_RULE: ("shared_identity", {"accounts": 3, "window_seconds": 86_400, "kinds": ["address"]}, "low",
                       ["alert"], False),
    }  # fmt: skip
    assert RuleVersion.objects.filter(rule__type="shared_identity", version=1, created_by=None).count() == 2


@pytest.mark.parametrize(
    "parameters",
    [
        {"accounts": 1, "window_seconds": 3600, "kinds": ["device"]},
        {"accounts": 2, "window_seconds": 3600, "kinds": []},
        {"accounts": 2, "window_seconds": 3600, "kinds": ["device", "device"]},
        {"accounts": 2, "window_seconds": 3600, "kinds": ["email"]},
        {"accounts": 2, "window_seconds": 3600, "kinds": "device"},
        {"accounts": 2, "window_seconds": 3600},
        {"accounts": 2, "window_seconds": 31 * 86_400, "kinds": ["device"]},
    ],
)
def test_invalid_shared_identity_parameters_are_refused(staff, parameters):
    with pytest.raises(InvalidRule):
        services.save_rule(code="shared-x", rule_type="shared_identity", parameters=parameters, severity="low",
                           actions=["alert"], enabled=True, acting_user=staff, reason="test")  # fmt: skip
    assert Rule.objects.filter(code="shared-x").exists() is False


def test_kinds_are_kept_in_a_fixed_order(staff):
    rule = services.save_rule(
        code="shared-x", rule_type="shared_identity", severity="low", actions=["alert"], enabled=False,
        parameters={"accounts": 2, "window_seconds": 3600, "kinds": ["address", "instrument"]},
        acting_user=staff, reason="test",
    )  # fmt: skip
    assert rule.parameters["kinds"] == ["instrument", "address"]


# --- instruments ----------------------------------------------------------------------------------------


def test_one_card_behind_two_accounts_fires_for_the_second_not_the_first(clock, committed, enable, provider):
    rule = enable(DEVICE_RULE)
    first, second = verified_player(), verified_player()
    with committed():
        pay(first)
    assert (Alert.objects.exists(), RuleFiring.objects.exists()) == (False, False)  # one account: below

    clock.move_to(START + dt.timedelta(days=29))
    with committed():
        pay(second)

    alert = Alert.objects.get()
    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert (alert.rule_version, alert.player_id, alert.severity, alert.value, alert.threshold) == (
        version, second.pk, "high", 2, 2)  # fmt: skip
    assert alert.detail == {"kind": "instrument", "players": [first.pk]}
    assert alert.event_ids == events("payments.deposit_instrument_seen")  # the two deposits' instrument events
    assert_audit_clean()


def test_a_card_used_by_another_account_outside_the_window_does_not_count(clock, committed, enable, provider):
    enable(DEVICE_RULE)
    first, second = verified_player(), verified_player()
    with committed():
        pay(first)
    clock.move_to(START + dt.timedelta(days=30))  # exactly the window later: the first sighting is out
    with committed():
        pay(second)
    assert Alert.objects.exists() is False


def test_another_card_is_another_instrument(clock, committed, enable, provider):
    enable(DEVICE_RULE)
    with committed():
        pay(verified_player(), sandbox.CARD_SUCCEEDS)
        pay(verified_player(), sandbox.CARD_SUCCEEDS_LATE)
    assert Alert.objects.exists() is False
    assert IdentityMark.objects.filter(kind="instrument").values("value").distinct().count() == 2


def test_one_player_paying_twice_with_one_card_shares_nothing(clock, committed, enable, provider):
    enable(DEVICE_RULE)
    player = verified_player()
    with committed():
        pay(player)
        pay(player)
    mark = IdentityMark.objects.get(kind="instrument")
    assert (mark.player_id, Alert.objects.exists()) == (player.pk, False)


# --- devices and addresses -------------------------------------------------------------------------------


def test_one_browser_used_by_two_accounts_fires_the_device_rule(clock, committed, enable):
    enable(DEVICE_RULE)
    first, second = a_player(), a_player()
    with committed():
        browser = log_in(first, ip="198.51.100.1")
        log_out(browser)
    assert Alert.objects.exists() is False

    clock.move_to(START + dt.timedelta(hours=5))
    with committed():
        log_in(second, ip="198.51.100.2", client=browser)  # same cookie, another address

    alert = Alert.objects.get()
    assert (alert.player_id, alert.value, alert.threshold, alert.detail) == (
        second.pk, 2, 2, {"kind": "device", "players": [first.pk]})  # fmt: skip
    assert alert.event_ids == events("accounts.player_logged_in")


def test_the_address_rule_fires_at_the_third_account_not_the_second(clock, committed, enable):
    enable(ADDRESS_RULE)
    players = [a_player() for _ in range(3)]
    with committed():
        for player in players[:2]:
            log_in(player)  # each its own browser: only the address is shared
    assert Alert.objects.exists() is False  # two accounts: one below

    clock.move_to(START + dt.timedelta(hours=23, minutes=59))
    with committed():
        log_in(players[2])

    alert = Alert.objects.get()
    assert (alert.player_id, alert.severity, alert.value, alert.threshold) == (players[2].pk, "low", 3, 3)
    assert alert.detail == {"kind": "address", "players": sorted(p.pk for p in players[:2])}
    assert sorted(alert.event_ids) == events("accounts.player_logged_in")


def test_the_address_rule_forgets_logins_older_than_its_window(clock, committed, enable):
    enable(ADDRESS_RULE)
    players = [a_player() for _ in range(3)]
    with committed():
        log_in(players[0])
    clock.move_to(START + dt.timedelta(hours=12))
    with committed():
        log_in(players[1])
    clock.move_to(START + dt.timedelta(hours=24))  # the first login is now out of the window
    with committed():
        log_in(players[2])
    assert Alert.objects.exists() is False

    with committed():
        log_in(players[0])  # seen again: three accounts within 24 h
    assert Alert.objects.get().player_id == players[0].pk


def test_the_rule_fires_once_per_player_and_firing_window(clock, committed, enable):
    enable(DEVICE_RULE)
    first, second = a_player(), a_player()
    with committed():
        browser = log_in(first)
        log_out(browser)
        for _ in range(3):
            log_in(second, client=browser)
            log_out(browser)
    assert list(RuleFiring.objects.values_list("player_id", flat=True)) == [second.pk]
    assert Alert.objects.count() == 1


def test_a_lock_action_locks_the_player_by_the_rules_system_actor(clock, committed, enable):
    from apps.accounts.choices import PlayerStatus
    from apps.compliance.models import StaffAction

    enable(DEVICE_RULE, actions=["alert", "lock"])
    first, second = a_player(), a_player()
    with committed():
        browser = log_in(first)
        log_out(browser)
        log_in(second, client=browser)

    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, second.status) == (PlayerStatus.ACTIVE, PlayerStatus.LOCKED)
    action = StaffAction.objects.get(action="rule.lock")
    assert (action.system_actor, action.target_id) == ("rules", str(second.pk))
    assert_audit_clean()


def test_a_rule_scoped_to_another_brand_ignores_the_players_and_one_scoped_to_theirs_fires(clock, committed, staff):
    from apps.accounts.services import ensure_brand

    parameters = {"accounts": 2, "window_seconds": 3600, "kinds": ["device"]}
    for code, brand in (("shared-other", ensure_brand(code="other", name="Other")), ("shared-acme", None)):
        services.save_rule(code=code, rule_type="shared_identity", parameters=parameters, severity="low",
                           actions=["alert"], enabled=True, brand=brand or ensure_brand(code="acme", name="Acme"),
                           acting_user=staff, reason="one brand only")  # fmt: skip
    first, second = a_player(), a_player()  # both of acme
    with committed():
        browser = log_in(first)
        log_out(browser)
        log_in(second, client=browser)

    assert list(Alert.objects.values_list("rule_version__rule__code", "player_id")) == [("shared-acme", second.pk)]


# --- once per event, bounded, hashed ----------------------------------------------------------------------


def test_a_redelivered_login_event_counts_once(clock, committed, enable):
    enable(DEVICE_RULE)
    first, second = a_player(), a_player()
    with committed():
        browser = log_in(first)
        log_out(browser)
        log_in(second, client=browser)
    marks = list(IdentityMark.objects.order_by("pk").values())
    event = OutboxEvent.objects.filter(name="accounts.player_logged_in").latest("pk")

    clock.move_to(START + dt.timedelta(days=1))
    with committed():
        for _ in range(3):  # the sweeper's re-deliveries of the same outbox event
            receivers.index_login_marks(None, event_id=event.pk, **event.payload)

    assert list(IdentityMark.objects.order_by("pk").values()) == marks  # nothing seen again
    assert (RuleFiring.objects.count(), Alert.objects.count()) == (1, 1)
    assert EventReceipt.objects.filter(event_id=event.pk, receiver="compliance.index_login_marks").count() == 1


def test_a_redelivered_instrument_event_counts_once(clock, committed, enable, provider):
    enable(DEVICE_RULE, accounts=3)
    first, second = verified_player(), verified_player()
    with committed():
        pay(first)
    event = OutboxEvent.objects.get(name="payments.deposit_instrument_seen")
    with committed():
        for _ in range(3):
            receivers.index_instrument_mark(None, event_id=event.pk, **event.payload)
        pay(second)

    assert IdentityMark.objects.filter(kind="instrument").count() == 2
    assert Alert.objects.exists() is False  # two accounts, not four sightings


def test_an_event_reads_one_bounded_indexed_query_never_the_logins_or_deposits(clock, committed, enable):
    enable(ADDRESS_RULE)
    with committed():
        for _ in range(5):
            log_in(a_player())  # more players than the rule needs
    event = OutboxEvent.objects.filter(name="accounts.player_logged_in").latest("pk")
    EventReceipt.objects.filter(event_id=event.pk).delete()  # as if the process died before its commit

    with CaptureQueriesContext(connection) as queries:
        receivers.index_login_marks(None, event_id=event.pk, **event.payload)

    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "accounts_playerlogin" in s or "payments_" in s]
    reads = [s for s in sql if s.startswith("SELECT") and "compliance_identity_mark" in s]
    assert len(reads) == 1
    assert "LIMIT 2" in reads[0]  # accounts - 1 others, however many share it
    with connection.cursor() as cursor:  # the index serves it (the table is too small to need it here)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + reads[0])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "identity_mark_seen_idx" in plan


def test_with_the_rules_disabled_the_marks_are_still_kept_and_nothing_fires(clock, committed, provider):
    first, second = verified_player(), verified_player()
    with committed():
        browser = log_in(first)
        log_out(browser)
        log_in(second, client=browser)
        pay(first)
        pay(second)
    assert sorted(IdentityMark.objects.values_list("kind", flat=True)) == [
        "address", "address", "device", "device", "instrument", "instrument"]  # fmt: skip
    assert (RuleFiring.objects.exists(), Alert.objects.exists()) == (False, False)


def test_the_marks_hold_keyed_hashes_never_a_card_number_device_id_or_address(clock, committed, enable, provider):
    enable(DEVICE_RULE)
    player = verified_player()
    with committed():
        browser = log_in(player, ip="198.51.100.77")
        pay(player)
    device_id = browser.cookies["pam_device"].value
    stored = json.dumps(list(IdentityMark.objects.values()), default=str)
    for secret in (CARD, device_id, "198.51.100.77"):
        assert secret not in stored
    assert {len(value) for value in IdentityMark.objects.values_list("value", flat=True)} == {64}


# --- the back office ---------------------------------------------------------------------------------------


def test_compliance_staff_read_the_marks_logins_and_an_alerts_detail_support_only_the_logins(clock, committed, enable):
    from apps.accounts.choices import StaffRole
    from apps.accounts.tests.factories import make_staff

    enable(DEVICE_RULE)
    first, second = a_player(), a_player()
    with committed():
        browser = log_in(first)
        log_out(browser)
        log_in(second, client=browser)
    alert = Alert.objects.get()
    officer, support = Client(), Client()
    officer.force_login(make_staff(StaffRole.COMPLIANCE))
    support.force_login(make_staff(StaffRole.SUPPORT))

    for path in ("/backoffice/compliance/identitymark/", "/backoffice/accounts/playerlogin/"):
        assert officer.get(path).status_code == 200, path
    page = officer.get(f"/backoffice/compliance/alert/{alert.pk}/change/")
    assert page.status_code == 200
    assert b"&quot;players&quot;: [" + str(first.pk).encode() in page.content
    assert officer.get("/backoffice/accounts/playerlogin/add/").status_code == 403
    assert support.get("/backoffice/accounts/playerlogin/").status_code == 200
    assert support.get("/backoffice/compliance/identitymark/").status_code == 403
