"""The behaviour rules' interventions beyond the alert, notice and lock, driven through the real
wallet services with a controlled clock: `limit` (a money limit, only ever lowered), `require_kyc`
(an unverified player's deposits and bets wait for verification) and `freeze` (no bets, deposits or
withdrawals; wins and rollbacks of rounds already played still paid). Each applies once per firing,
is a staff action by the system actor `rules` naming the rule version, and leaves the trail
verifiable."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts import services as accounts_services
from apps.accounts.choices import KycStatus, PlayerStatus, StaffRole
from apps.common.models import OutboxEvent
from apps.compliance import audit, engine, services
from apps.compliance.errors import InvalidRule, KycRequired, LimitReached, PlayerBlocked
from apps.compliance.models import Alert, Limit, LimitChange, Rule, RuleFiring, RuleVersion, StaffAction
from apps.compliance.tests.factories import START, a_ref, bet, deposit, fresh, funded_player, limit, win, withdraw
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet
from apps.wallet.choices import TransactionKind, clearing_code
from apps.wallet.tests.factories import rollback

pytestmark = pytest.mark.django_db

DEPOSIT_LIMIT = {"kind": "deposit", "period": "24h", "amount": 5_000, "currency": "EUR"}


@pytest.fixture
def enable(staff):
    """Enable the seeded rule `code` with `actions` and `parameters` changed, through the service."""

    def enable(code: str, actions: list[str], **parameters) -> RuleVersion:
        rule = Rule.objects.get(code=code)
        rule = services.save_rule(
            code=code, rule_type=rule.type, parameters={**rule.parameters, **parameters}, severity=rule.severity,
            actions=actions, enabled=True, acting_user=staff, reason="enabled for the test",
        )  # fmt: skip
        return RuleVersion.objects.get(rule=rule, version=rule.version)

    return enable


def verified(player):
    accounts_services.set_kyc_status(player_id=player.pk, kyc_status=KycStatus.VERIFIED, reason="documents checked")
    return fresh(player)


def by_rules(action: str) -> list[StaffAction]:
    return list(StaffAction.objects.filter(action=action, actor=None, system_actor="rules"))


def names_version(record: StaffAction, version: RuleVersion) -> bool:
    return f"rule {version.rule.code} version {version.version} (rule version id {version.pk}) fired" in record.reason


def trail_verifies() -> bool:
    return audit.run_audit() == {name: [] for name in audit.run_audit()}


# --- validation -----------------------------------------------------------------------------------------


def test_the_limit_action_is_saved_with_its_parameter_and_actions_in_their_fixed_order(enable):
    version = enable("deposit-velocity-1h", ["freeze", "limit", "alert", "require_kyc"], limit=DEPOSIT_LIMIT)
    assert version.actions == ["alert", "limit", "require_kyc", "freeze"]
    assert version.parameters == {"count": 5, "window_seconds": 3_600, "limit": DEPOSIT_LIMIT}


def test_a_limit_in_an_unknown_currency_is_refused(enable):
    with pytest.raises(InvalidRule, match="Unknown currency 'XXY'"):
        enable("deposit-velocity-1h", ["limit"], limit={**DEPOSIT_LIMIT, "currency": "XXY"})
    assert RuleVersion.objects.filter(rule__code="deposit-velocity-1h").count() == 1


def test_the_rule_form_saves_the_new_actions_through_the_service(client):
    from apps.compliance.tests.test_admin import logged_in

    officer = logged_in(client, StaffRole.COMPLIANCE)
    rule = Rule.objects.get(code="deposit-velocity-1h")
    response = officer.post(
        f"/backoffice/compliance/rule/{rule.pk}/change/",
        {"parameters": '{"count": 5, "window_seconds": 3600, "limit": {"kind": "deposit", "period": "24h", '
                       '"amount": 5000, "currency": "EUR"}}',
         "severity": "high", "actions": ["alert", "limit", "require_kyc", "freeze"], "enabled": "on",
         "reason": "card testing: stop and review"},
    )  # fmt: skip

    assert response.status_code == 302, response.content
    version = RuleVersion.objects.get(rule=rule, version=2)
    assert version.actions == ["alert", "limit", "require_kyc", "freeze"]
    assert version.parameters["limit"] == DEPOSIT_LIMIT
    assert trail_verifies()


def test_the_rule_form_refuses_the_limit_action_without_its_parameter(client):
    from apps.compliance.tests.test_admin import logged_in

    officer = logged_in(client, StaffRole.COMPLIANCE)
    rule = Rule.objects.get(code="deposit-velocity-1h")
    response = officer.post(
        f"/backoffice/compliance/rule/{rule.pk}/change/",
        {"parameters": '{"count": 5, "window_seconds": 3600}', "severity": "high", "actions": ["limit"],
         "reason": "typo"},
    )  # fmt: skip

    assert response.status_code == 302
    assert (RuleVersion.objects.filter(rule=rule).count(), StaffAction.objects.count()) == (1, 0)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["The limit action and the limit parameter go together."]


# --- limit ------------------------------------------------------------------------------------------------


def test_the_limit_action_sets_the_deposit_limit_once_at_the_firing_by_the_rules(clock, committed, enable):
    version = enable("deposit-velocity-1h", ["alert", "limit"], count=3, limit=DEPOSIT_LIMIT)
    player = funded_player(0)
    with committed():
        deposit(player, 100)
        deposit(fresh(player), 100)
    assert Limit.objects.filter(player=player).exists() is False  # two deposits: not yet

    with committed():
        deposit(fresh(player), 100)  # the third within the hour
    clock.move_to(START + dt.timedelta(minutes=10))
    with committed():
        deposit(fresh(player), 100)  # the fourth: same firing window, nothing applied again

    assert list(Limit.objects.filter(player=player).values_list("kind", "period", "amount")) == [
        ("deposit", "24h", 5_000)
    ]
    change = LimitChange.objects.get(player=player)
    assert (change.status, change.old_amount, change.new_amount, change.acting_user, change.by_player) == (
        "applied", None, 5_000, None, False)  # fmt: skip
    [record] = by_rules("rule.limit")
    assert (record.target_type, record.before, record.after) == (
        "compliance.limit", {"amount": None}, {"amount": 5_000})  # fmt: skip
    assert names_version(record, version)
    assert names_version(change, version)
    assert (RuleFiring.objects.count(), Alert.objects.count()) == (1, 1)
    with pytest.raises(LimitReached):
        deposit(fresh(player), 4_601)  # 400 used of 5,000 in 24 h
    deposit(fresh(player), 4_600)
    assert trail_verifies()


@pytest.mark.parametrize(("players_own", "after", "by_the_rule"), [(20_000, 5_000, True), (1_000, 1_000, False)])
def test_the_limit_action_lowers_a_higher_limit_at_once_and_never_raises_a_lower_one(
    clock, committed, enable, players_own, after, by_the_rule
):
    enable("deposit-velocity-1h", ["limit"], count=1, limit=DEPOSIT_LIMIT)
    player = funded_player(0)
    limit(player, "deposit", "24h", players_own)
    with committed():
        deposit(fresh(player), 100)
    stored = Limit.objects.get(player=player)
    assert (stored.amount, stored.has_pending) == (after, False)  # never an increase queued
    changes = LimitChange.objects.filter(player=player).order_by("pk")
    assert [(c.new_amount, c.by_player) for c in changes] == [(players_own, True)] + by_the_rule * [(5_000, False)]
    expected = [({"amount": players_own}, {"amount": 5_000})] if by_the_rule else []
    assert [(r.before, r.after) for r in by_rules("rule.limit")] == expected
    assert RuleFiring.objects.count() == 1


# --- require KYC --------------------------------------------------------------------------------------------


def test_require_kyc_holds_an_unverified_players_deposits_and_bets_once(clock, committed, enable, notices):
    version = enable("deposit-velocity-1h", ["require_kyc"], count=2)
    player = funded_player(1_000)
    with committed():
        deposit(player, 100)
    bet(fresh(player), 10)  # one deposit: nothing held
    with committed():
        deposit(fresh(player), 100)

    balance = wallet_selectors.get_wallet_state(player.pk).balance
    with pytest.raises(KycRequired):
        bet(fresh(player), 10)
    with pytest.raises(KycRequired):
        deposit(fresh(player), 100)
    assert wallet_selectors.get_wallet_state(player.pk).balance == balance  # nothing moved
    [record] = by_rules("rule.require_kyc")
    assert (record.target_id, record.before, record.after) == (str(player.pk), {"kyc_hold": False}, {"kyc_hold": True})
    assert names_version(record, version)
    assert [(n["kind"], n["message"], n["data"]) for n in notices] == [
        ("account_locked", engine.KYC_MESSAGE, {"reason": "kyc_required"})
    ]
    bet(verified(player), 10)  # verification lifts the hold
    assert trail_verifies()


def test_a_rule_with_both_limit_and_require_kyc_applies_both_once(clock, committed, enable):
    version = enable("deposit-velocity-1h", ["limit", "require_kyc"], count=1, limit=DEPOSIT_LIMIT)
    player = funded_player(1_000)
    with committed():
        deposit(player, 100)
    assert Limit.objects.get(player=player).amount == 5_000
    with pytest.raises(KycRequired):
        bet(fresh(player), 10)
    records = StaffAction.objects.filter(system_actor="rules").order_by("pk")
    assert [r.action for r in records] == ["rule.limit", "rule.require_kyc"]
    assert all(names_version(r, version) for r in records)
    assert trail_verifies()


def test_require_kyc_leaves_a_verified_player_alone(clock, committed, enable, notices):
    enable("deposit-velocity-1h", ["alert", "require_kyc"], count=1)
    player = verified(funded_player(1_000))
    with committed():
        deposit(player, 100)
    bet(fresh(player), 10)
    assert (Alert.objects.count(), by_rules("rule.require_kyc"), notices) == (1, [], [])


# --- freeze ---------------------------------------------------------------------------------------------


def test_a_frozen_player_cannot_bet_deposit_or_withdraw_but_is_paid_for_rounds_already_played(
    clock, committed, enable, notices
):
    version = enable("micro-bets-60s", ["alert", "freeze"], max_bets=3)
    player = verified(funded_player(1_000))
    played = a_ref()
    with committed():
        bet(player, 1, ref=played, round_id="round-1")
        for _ in range(3):
            bet(player, 1, round_id="round-2")  # the 4th micro-bet within 60 s: frozen

    assert fresh(player).status == PlayerStatus.FROZEN
    balance = wallet_selectors.get_wallet_state(player.pk).balance
    assert balance == 996
    for refused in (lambda: bet(fresh(player), 1), lambda: deposit(fresh(player), 100),
                    lambda: withdraw(fresh(player), 100)):  # fmt: skip
        with pytest.raises(PlayerBlocked):
            refused()
    assert wallet_selectors.get_wallet_state(player.pk).balance == balance  # nothing moved

    assert win(player, 50, round_id="round-2").balance == 1_046  # rounds already played are paid:
    assert rollback(player, played.external_id, round_id="round-1").balance == 1_047  # won, and rolled back
    [record] = by_rules("rule.freeze")
    assert (record.before, record.after) == ({"status": "active"}, {"status": "frozen"})
    assert names_version(record, version)
    assert by_rules("rule.lock") == []
    frozen = OutboxEvent.objects.filter(name="compliance.account_locked").values_list("payload", flat=True)
    assert list(frozen) == [
        {"player_id": str(player.pk), "message": engine.FREEZE_MESSAGE, "data": {"reason": "frozen"}}
    ]
    assert trail_verifies()


def test_a_rule_that_locks_and_freezes_freezes_once(clock, committed, enable):
    enable("micro-bets-60s", ["lock", "freeze"], max_bets=1)
    player = funded_player(100)
    with committed():
        bet(player, 1)
        bet(player, 1)
    with pytest.raises(PlayerBlocked):
        bet(fresh(player), 1)
    assert fresh(player).status == PlayerStatus.FROZEN
    assert (len(by_rules("rule.freeze")), by_rules("rule.lock")) == (1, [])
    assert OutboxEvent.objects.filter(name="compliance.account_locked").count() == 1


def test_a_freeze_applies_to_an_account_a_lock_already_closed(clock, committed, enable):
    enable("micro-bets-60s", ["lock"], max_bets=1)
    enable("deposit-velocity-1h", ["freeze"], count=1)
    player = funded_player(100)
    with committed():
        bet(player, 1)
        bet(player, 1)  # locked
    assert fresh(player).status == PlayerStatus.LOCKED
    with committed():  # a deposit the provider confirms is credited, even to a locked account
        wallet.credit(player_id=player.pk, currency="EUR", amount=100, kind=TransactionKind.DEPOSIT,
                      ref=a_ref("payments:test"), counter=clearing_code("test-psp"))  # fmt: skip
    assert fresh(player).status == PlayerStatus.FROZEN
    [record] = by_rules("rule.freeze")
    assert (record.before, record.after) == ({"status": "locked"}, {"status": "frozen"})
    assert trail_verifies()
