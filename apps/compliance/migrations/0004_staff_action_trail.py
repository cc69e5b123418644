"""The staff-action trail (apps/compliance/staff_audit.py): the table, its chain's head, and on
PostgreSQL the trigger that makes the table append-only. Embedded SQLite has no trigger;
`staff_audit` re-verifies the chain either way.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION compliance_staff_action_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_action_append_only: % on % is not allowed; the staff-action trail is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER compliance_staff_action_append_only BEFORE UPDATE OR DELETE ON compliance_staffaction
    FOR EACH ROW EXECUTE FUNCTION compliance_staff_action_reject_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS compliance_staff_action_append_only ON compliance_staffaction;
DROP FUNCTION IF EXISTS compliance_staff_action_reject_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0003_ledger_usage_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StaffActionHead',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('chain_hash', models.CharField(max_length=64)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='staff_action_head_single_row')],
            },
        ),
        migrations.CreateModel(
            name='StaffAction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('action', models.CharField(help_text='a stable code: admin.change, limit.set, wallet.adjust …', max_length=100)),
                ('target_type', models.CharField(help_text='app_label.model', max_length=100)),
                ('target_id', models.CharField(help_text="the object's primary key", max_length=255)),
                ('before', models.JSONField(blank=True, default=dict)),
                ('after', models.JSONField(blank=True, default=dict)),
                ('reason', models.TextField(blank=True)),
                ('previous_hash', models.CharField(max_length=64)),
                ('chain_hash', models.CharField(max_length=64)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-pk'],
                'indexes': [models.Index(fields=['target_type', 'target_id'], name='staff_action_target_idx')],
                'constraints': [models.UniqueConstraint(fields=('previous_hash',), name='staff_action_one_successor')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
