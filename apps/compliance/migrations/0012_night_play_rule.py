"""The default night-play rule (docs/rules.md), seeded disabled like the others (0007_seed_rules):
the night's hours and time zone are each operator's (its players' local night), so an operator
turns it on in the back office once they suit its brands. Version 1 is the seed's, with no staff
user. The reverse keeps it: versions are immutable."""

import datetime as dt

from django.db import migrations

RULE = {
    "code": "night-play",
    "type": "night_play",
    # A session of at least 3 hours, at least 60 % of it between midnight and 6 a.m. in London.
    "parameters": {
        "night_start_hour": 0,
        "night_end_hour": 6,
        "timezone": "Europe/London",
        "share_percent": 60,
        "min_minutes": 180,
    },
    "severity": "low",
    "actions": ["alert", "notice"],
}

REASON = "seeded default (disabled until an operator enables it)"


def seed(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    if Rule.objects.filter(code=RULE["code"]).exists():
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **RULE)
    fields = {key: value for key, value in RULE.items() if key != "code"}
    RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON, **fields)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0011_identity_marks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
