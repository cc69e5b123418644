"""The runs of the rules that follow events in a row (`RuleRun`), and the cashier's default
rules (docs/rules.md), seeded disabled as 0007's are: an operator turns them on in the back office
once the numbers suit its brands. Version 1 of each is the seed's, with no staff user. The reverse
keeps the rules (versions are immutable) and drops the runs."""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models

RULES = [
    {
        "code": "structuring-7d",
        "type": "structuring",
        # 3 deposits within 10 % below EUR 2,000 (EUR 1,800 to 1,999.99) in 7 days: near the line
        # where an operator's KYC or reporting starts; another currency's players at the rates.
        "parameters": {"threshold": 200_000, "currency": "EUR", "below_percent": 10, "count": 3,
                       "window_seconds": 7 * 24 * 3600},
        "severity": "medium",
        "actions": ["alert"],
    },
    {
        "code": "rapid-cycling-24h",
        "type": "rapid_cycling",
        # A withdrawal requested when the bets of the last 24 h are under half the deposits of
        # the last 24 h, and those deposits are at least EUR 100.
        "parameters": {"turnover_percent": 50, "min_deposits": 10_000, "currency": "EUR",
                       "window_seconds": 24 * 3600},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "failed-deposits-1h",
        "type": "failed_deposits",
        # 5 failed deposits in a row (no successful one between) within an hour: card testing.
        "parameters": {"count": 5, "window_seconds": 3600},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "loss-chasing-1h",
        "type": "loss_chasing",
        # 3 deposits, each larger than the one before, within an hour of it, and made with under
        # 10 % of the one before left: responsible gambling, so the player gets a notice too.
        "parameters": {"count": 3, "window_seconds": 3600, "low_balance_percent": 10},
        "severity": "medium",
        "actions": ["alert", "notice"],
    },
]  # fmt: skip

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
    dependencies = [
        ("accounts", "0005_currency_reference_rate"),
        ("compliance", "0009_rule_types"),
    ]

    operations = [
        migrations.CreateModel(
            name="RuleRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=40)),
                ("count", models.IntegerField(default=0, help_text="the events of the run so far")),
                (
                    "started_at",
                    models.BigIntegerField(help_text="the run's first event (Unix seconds): its firing window"),
                ),
                ("last_at", models.BigIntegerField(help_text="the run's last event (Unix seconds)")),
                ("last_value", models.BigIntegerField(default=0, help_text="the last event's amount (minor units)")),
                ("events", models.JSONField(default=list)),
                (
                    "player",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.player"
                    ),
                ),
            ],
            options={
                "db_table": "compliance_rule_run",
                "constraints": [models.UniqueConstraint(fields=("player", "key"), name="rule_run_unique")],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
