"""The CHECK constraints that list a column's allowed values, each list as one array constant on
PostgreSQL (apps/common/lookups.py, `one_of`): the same rules, cheaper to read back on every
insert and update. On SQLite the SQL is the `IN` it was, and the tables are left as they are."""

from django.conf import settings
from django.db import migrations, models

from apps.common.lookups import OnPostgreSQL


class Migration(migrations.Migration):
    # Each constraint's validation a transaction of its own: see OnPostgreSQL.
    atomic = False

    dependencies = [
        ('backoffice', '0001_reports'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='reportrun',
                name='report_run_kind_valid',
            ),
            migrations.RemoveConstraint(
                model_name='reportrun',
                name='report_run_status_valid',
            ),
            migrations.AddConstraint(
                model_name='reportrun',
                constraint=models.CheckConstraint(condition=models.Q(('kind__one_of', ['ggr', 'liability', 'rg', 'aml', 'payments'])), name='report_run_kind_valid'),
            ),
            migrations.AddConstraint(
                model_name='reportrun',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['queued', 'done', 'failed'])), name='report_run_status_valid'),
            ),
        ),
    ]
