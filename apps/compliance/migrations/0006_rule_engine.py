"""The behaviour-rule engine's tables (docs/rules.md): rules and their immutable versions (on
PostgreSQL a trigger rejects a DELETE or a changing UPDATE of a version), the windowed buckets, firings and
alerts; and the staff-action trail's `system_actor`, which names the part of the system that acted
(the rule engine's locks)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


IMMUTABLE_VERSIONS = """
CREATE OR REPLACE FUNCTION compliance_rule_version_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An UPDATE that writes the same values changes nothing (a test database restored from its
    -- serialised copy saves every row again): only a real change is refused.
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'rule_version_immutable: % on % is not allowed; a change of a rule is a new version',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER compliance_rule_version_immutable BEFORE UPDATE OR DELETE ON compliance_ruleversion
    FOR EACH ROW EXECUTE FUNCTION compliance_rule_version_reject_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS compliance_rule_version_immutable ON compliance_ruleversion;
DROP FUNCTION IF EXISTS compliance_rule_version_reject_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_VERSIONS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_currency_reference_rate'),
        ('compliance', '0005_kyc_threshold_currency'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='staffaction',
            name='system_actor',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.CreateModel(
            name='Rule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='a stable name, e.g. micro-bets-60s', max_length=64, unique=True)),
                ('type', models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)')], max_length=32)),
                ('parameters', models.JSONField(default=dict)),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], default='medium', max_length=8)),
                ('actions', models.JSONField(default=list, help_text='a list of "alert", "notice", "lock"')),
                ('enabled', models.BooleanField(default=False)),
                ('version', models.PositiveIntegerField(default=0, help_text='the number of the current RuleVersion')),
                ('updated_at', models.DateTimeField()),
                ('brand', models.ForeignKey(blank=True, help_text='empty: every brand', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.brand')),
                ('jurisdiction', models.ForeignKey(blank=True, help_text='empty: every jurisdiction', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.jurisdictionprofile')),
            ],
            options={
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='RuleVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('type', models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)')], max_length=32)),
                ('parameters', models.JSONField(default=dict)),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=8)),
                ('actions', models.JSONField(default=list)),
                ('enabled', models.BooleanField()),
                ('created_at', models.DateTimeField()),
                ('reason', models.TextField(blank=True)),
                ('brand', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.brand')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('jurisdiction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.jurisdictionprofile')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='compliance.rule')),
            ],
            options={
                'ordering': ['rule', '-version'],
            },
        ),
        migrations.CreateModel(
            name='RuleFiring',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('window_start', models.DateTimeField(help_text="the start of the firing window (the rule's window, aligned)")),
                ('value', models.BigIntegerField(help_text='the sum or count that reached the threshold')),
                ('threshold', models.BigIntegerField()),
                ('event_id', models.BigIntegerField(help_text='the outbox event that made it fire')),
                ('actions', models.JSONField(default=list)),
                ('created_at', models.DateTimeField()),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('rule_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.ruleversion')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=8)),
                ('status', models.CharField(choices=[('open', 'Open')], default='open', max_length=8)),
                ('event_ids', models.JSONField(default=list)),
                ('value', models.BigIntegerField()),
                ('threshold', models.BigIntegerField()),
                ('created_at', models.DateTimeField()),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('firing', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='alert', to='compliance.rulefiring')),
                ('rule_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='compliance.ruleversion')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='WindowBucket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('metric', models.CharField(max_length=40)),
                ('bucket_start', models.BigIntegerField()),
                ('total', models.BigIntegerField(default=0)),
                ('count', models.IntegerField(default=0)),
                ('event_ids', models.JSONField(default=list)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'db_table': 'compliance_window_bucket',
            },
        ),
        migrations.AddConstraint(
            model_name='rule',
            constraint=models.CheckConstraint(condition=models.Q(('type__in', ['deposit_threshold', 'deposit_velocity', 'micro_bet'])), name='rule_type_valid'),
        ),
        migrations.AddConstraint(
            model_name='rule',
            constraint=models.CheckConstraint(condition=models.Q(('severity__in', ['low', 'medium', 'high'])), name='rule_severity_valid'),
        ),
        migrations.AddConstraint(
            model_name='ruleversion',
            constraint=models.UniqueConstraint(fields=('rule', 'version'), name='rule_version_unique'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.UniqueConstraint(fields=('rule_version', 'player', 'window_start'), name='rule_fires_once_per_window'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['status', '-created_at'], name='alert_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='windowbucket',
            constraint=models.UniqueConstraint(fields=('player', 'metric', 'bucket_start'), name='window_bucket_unique'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
