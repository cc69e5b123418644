"""The CHECK constraints that list a column's allowed values, each list as one array constant on
PostgreSQL (apps/common/lookups.py, `one_of`): the same rules, cheaper to read back on every
insert and update. On SQLite the SQL is the `IN` it was, and the tables are left as they are."""

from django.db import migrations, models

from apps.common.lookups import OnPostgreSQL


class Migration(migrations.Migration):
    # Each constraint's validation a transaction of its own: see OnPostgreSQL.
    atomic = False

    dependencies = [
        ('accounts', '0012_check_lists_as_arrays'),
        ('bonuses', '0001_squashed_0005_campaign_every_currency'),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='bonus',
                name='bonus_status_known',
            ),
            migrations.RemoveConstraint(
                model_name='campaign',
                name='campaign_kind_known',
            ),
            migrations.RemoveConstraint(
                model_name='campaign',
                name='campaign_base_known',
            ),
            migrations.RemoveConstraint(
                model_name='campaign',
                name='campaign_trigger_known',
            ),
            migrations.AddConstraint(
                model_name='bonus',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['active', 'converted', 'expired', 'forfeited', 'cancelled'])), name='bonus_status_known'),
            ),
            migrations.AddConstraint(
                model_name='campaign',
                constraint=models.CheckConstraint(condition=models.Q(('kind__one_of', ['deposit_match', 'fixed', 'free_bet', 'cashback'])), name='campaign_kind_known'),
            ),
            migrations.AddConstraint(
                model_name='campaign',
                constraint=models.CheckConstraint(condition=models.Q(('trigger__one_of', ['registration', 'first_deposit', 'any_deposit', 'wagering_threshold', 'staff_grant', 'period_end'])), name='campaign_trigger_known'),
            ),
            migrations.AddConstraint(
                model_name='campaign',
                constraint=models.CheckConstraint(condition=models.Q(('wagering_base__one_of', ['bonus', 'bonus_and_deposit'])), name='campaign_base_known'),
            ),
        ),
    ]
