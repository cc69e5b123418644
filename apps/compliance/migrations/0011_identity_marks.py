"""The identity marks the shared-identity rule reads, an alert's detail, and the rule's two
defaults, seeded disabled (docs/rules.md, "Shared identity"): an operator turns them on in the
back office (every save a new version and a staff action). The reverse keeps the seeds, as
0007's does."""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models


RULES = [
    {
        "code": "shared-instrument-or-device-30d",
        "type": "shared_identity",
        # One card or one device behind two accounts within 30 days: multi-accounting, or a
        # bonus or chargeback ring.
        "parameters": {"accounts": 2, "window_seconds": 30 * 24 * 3600, "kinds": ["instrument", "device"]},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "shared-address-24h",
        "type": "shared_identity",
        # Households and offices share an address: three accounts within a day, and low.
        "parameters": {"accounts": 3, "window_seconds": 24 * 3600, "kinds": ["address"]},
        "severity": "low",
        "actions": ["alert"],
    },
]

REASON = "seeded default (disabled until an operator enables it)"


def seed(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for spec in RULES:
        if Rule.objects.filter(code=spec["code"]).exists():
            continue
        rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **spec)
        fields = {key: value for key, value in spec.items() if key != "code"}
        RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON, **fields)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_currency_reference_rate'),
        ('compliance', '0010_cashier_rules'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='detail',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name='IdentityMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('instrument', 'Payment instrument'), ('device', 'Device'), ('address', 'Network address')], max_length=16)),
                ('value', models.CharField(max_length=64)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField()),
                ('last_event_id', models.BigIntegerField(default=0, help_text='the outbox event that last saw it (0: none)')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'db_table': 'compliance_identity_mark',
                'indexes': [models.Index(fields=['kind', 'value', 'last_seen'], name='identity_mark_seen_idx')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'value', 'player'), name='identity_mark_unique'), models.CheckConstraint(condition=models.Q(('kind__in', ['instrument', 'device', 'address'])), name='identity_mark_kind_valid')],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
