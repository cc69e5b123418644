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
        ('accounts', '0012_check_lists_as_arrays'),
        ('payments', '0001_squashed_0004_deposit_instrument'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='depositintent',
                name='deposit_status_valid',
            ),
            migrations.RemoveConstraint(
                model_name='depositintent',
                name='deposit_credited_has_amount',
            ),
            migrations.RemoveConstraint(
                model_name='paymentprovider',
                name='provider_adapter_known',
            ),
            migrations.RemoveConstraint(
                model_name='webhookevent',
                name='webhook_verdict_valid',
            ),
            migrations.RemoveConstraint(
                model_name='withdrawal',
                name='withdrawal_status_valid',
            ),
            migrations.AddConstraint(
                model_name='depositintent',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['pending', 'succeeded', 'failed', 'refunded', 'charged_back'])), name='deposit_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='depositintent',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['pending', 'failed']), ('credited_amount__isnull', False), _connector='OR'), name='deposit_credited_has_amount'),
            ),
            migrations.AddConstraint(
                model_name='paymentprovider',
                constraint=models.CheckConstraint(condition=models.Q(('adapter__one_of', ['sandbox'])), name='provider_adapter_known'),
            ),
            migrations.AddConstraint(
                model_name='webhookevent',
                constraint=models.CheckConstraint(condition=models.Q(('verdict__one_of', ['pending', 'applied', 'duplicate', 'ignored', 'refused'])), name='webhook_verdict_valid'),
            ),
            migrations.AddConstraint(
                model_name='withdrawal',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['requested', 'awaiting_approval', 'approved', 'paid', 'cancelled', 'failed'])), name='withdrawal_status_valid'),
            ),
        ),
    ]
