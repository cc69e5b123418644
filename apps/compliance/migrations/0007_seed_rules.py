"""The default behaviour rules (docs/rules.md), seeded disabled: each locks or alerts on players,
so an operator turns them on in the back office once the numbers suit its brands (every save is a
new version and a staff action). Version 1 of each is the seed's, with no staff user. The reverse
keeps them: versions are immutable, and reversing 0006 drops the tables anyway."""

import datetime as dt

from django.db import migrations

RULES = [
    {
        "code": "deposit-threshold-24h",
        "type": "deposit_threshold",
        # EUR 1,000 within 24 hours; another currency's players at the reference rates.
        "parameters": {"amount": 100_000, "currency": "EUR", "window_seconds": 24 * 3600},
        "severity": "medium",
        "actions": ["alert"],
    },
    {
        "code": "deposit-velocity-1h",
        "type": "deposit_velocity",
        "parameters": {"count": 5, "window_seconds": 3600},
        "severity": "low",
        "actions": ["alert"],
    },
    {
        "code": "micro-bets-60s",
        "type": "micro_bet",
        # More than 200 bets of at most 10 minor units within 60 seconds.
        "parameters": {"max_bets": 200, "window_seconds": 60, "max_stake": 10},
        "severity": "high",
        "actions": ["alert", "lock"],
    },
]

REASON = "seeded default (disabled until an operator enables it)"


def seed(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    for spec in RULES:
        if Rule.objects.filter(code=spec["code"]).exists():
            continue
        rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **spec)
        fields = {key: value for key, value in spec.items() if key != "code"}
        RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON, **fields)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0006_rule_engine")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
