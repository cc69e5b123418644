"""Compliance's checks reach the wallet's money transaction through the wallet's extension point,
registered by `ComplianceConfig.ready()`: in every process that ran `django.setup()`, once per
moment, first in order (bonuses' participants after them, then the sportsbook's)."""

import json

from django.apps import apps

from apps.bonuses import wagering
from apps.compliance import gate
from apps.sportsbook import intake
from apps.wallet import extensions
from tests.support import PYTHON, clean_env, run

COMPLIANCE_CHECKS = {
    "stake": (
        (extensions.COMPLIANCE, gate.assert_may_stake),
        (extensions.BONUSES, wagering.on_stake),
        (extensions.SPORTSBOOK, intake.on_stake),
    ),
    "refund": ((extensions.BONUSES, wagering.on_refund),),
    "deposit": ((extensions.COMPLIANCE, gate.deposit_credited),),
    "withdrawal": ((extensions.COMPLIANCE, gate.assert_may_withdraw), (extensions.BONUSES, wagering.on_withdrawal)),
    "chargeback": ((extensions.COMPLIANCE, gate.lock_for_chargeback),),
}
MOMENTS = (extensions.STAKE, extensions.REFUND, extensions.DEPOSIT, extensions.WITHDRAWAL, extensions.CHARGEBACK)


def test_each_moment_has_compliance_s_check_exactly_once():
    assert {moment.name: moment.registered() for moment in MOMENTS} == COMPLIANCE_CHECKS


def test_a_second_ready_registers_nothing_twice():
    apps.get_app_config("compliance").ready()

    assert {moment.name: moment.registered() for moment in MOMENTS} == COMPLIANCE_CHECKS


SHOW_PARTICIPANTS = (
    "import django, json; django.setup(); from apps.wallet import extensions as x; print(json.dumps({"
    "m.name: [[order, f'{p.__module__}.{p.__qualname__}'] for order, p in m.registered()]"
    " for m in (x.STAKE, x.REFUND, x.DEPOSIT, x.WITHDRAWAL, x.CHARGEBACK)}))"
)


def test_a_process_that_only_ran_django_setup_has_them_in_embedded_mode(tmp_path):
    """What uvicorn workers, the outbox sweeper and management commands start from; embedded mode
    (no DATABASE_URL, SQLite) is the one with the least configured."""
    env = clean_env(PAM_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="pam.settings")

    shown = run([PYTHON, "-c", SHOW_PARTICIPANTS], env)

    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "stake": [
            [100, "apps.compliance.gate.assert_may_stake"],
            [200, "apps.bonuses.wagering.on_stake"],
            [300, "apps.sportsbook.intake.on_stake"],
        ],
        "refund": [[200, "apps.bonuses.wagering.on_refund"]],
        "deposit": [[100, "apps.compliance.gate.deposit_credited"]],
        "withdrawal": [[100, "apps.compliance.gate.assert_may_withdraw"], [200, "apps.bonuses.wagering.on_withdrawal"]],
        "chargeback": [[100, "apps.compliance.gate.lock_for_chargeback"]],
    }
