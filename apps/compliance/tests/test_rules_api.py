"""Micro-bet abuse through the signed wallet API, as a bot would play: 250 one-unit bets within a
minute. The seeded rule (more than 200 bets of at most 10 minor units in 60 s) locks the account at
the 201st, after its commit and before the next call; every later bet is PLAYER_BLOCKED and moves
nothing; the lock is in the staff-action trail, by the system actor, with the rule version, and
the trail verifies."""

import datetime as dt

import pytest

from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import audit, services
from apps.compliance.models import Alert, Rule, RuleVersion, StaffAction
from apps.compliance.tests.factories import START, fresh, funded_player
from apps.games import services as games
from apps.wallet.models import Transaction
from apps.wallet.tests.test_api_wallet import PROVIDER, SECRET, assert_error, call, money_body, nothing_moves

pytestmark = pytest.mark.django_db

BETS = 250


def test_250_one_unit_bets_in_a_minute_lock_the_account_before_the_250th(
    clock, client, django_capture_on_commit_callbacks
):
    games.save_provider(code=PROVIDER, secret=SECRET)
    seeded = Rule.objects.get(code="micro-bets-60s")
    rule = services.save_rule(
        code=seeded.code, rule_type=seeded.type, parameters=seeded.parameters, severity=seeded.severity,
        actions=seeded.actions, enabled=True, acting_user=make_staff(StaffRole.COMPLIANCE), reason="go live",
    )  # fmt: skip
    player = funded_player(1_000)

    answers = []
    for n in range(1, BETS + 1):
        clock.move_to(START + dt.timedelta(milliseconds=200 * n))  # 250 bets over 50 seconds
        with django_capture_on_commit_callbacks(execute=True):  # the request's commit, then its receivers
            answers.append(call(client, "bet", money_body(player, 1, tx=f"tx-{n}", round_id=f"round-{n}")))

    assert [answer.status_code for answer in answers[:201]] == [200] * 201
    assert fresh(player).status == PlayerStatus.LOCKED
    for answer in answers[201:]:
        assert_error(answer, 403, "PLAYER_BLOCKED", player)
    assert Transaction.objects.filter(player=player, kind="bet").count() == 201
    with nothing_moves():
        assert_error(call(client, "bet", money_body(player, 1, tx="tx-late", round_id="late")), 403, "PLAYER_BLOCKED")

    version = RuleVersion.objects.get(rule=rule, version=rule.version)
    assert list(Alert.objects.values_list("rule_version", "value")) == [(version.pk, 201)]
    lock = StaffAction.objects.get(action="rule.lock")
    assert (lock.actor, lock.system_actor, lock.target_id) == (None, "rules", str(player.pk))
    assert f"rule micro-bets-60s version {rule.version} (rule version id {version.pk})" in lock.reason
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}
