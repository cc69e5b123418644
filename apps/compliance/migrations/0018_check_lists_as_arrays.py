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
        ('compliance', '0017_stake_flag_without_deposit_limits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='case',
                name='case_status_valid',
            ),
            migrations.RemoveConstraint(
                model_name='case',
                name='case_outcome_when_resolved',
            ),
            migrations.RemoveConstraint(
                model_name='identitymark',
                name='identity_mark_kind_valid',
            ),
            migrations.RemoveConstraint(
                model_name='limit',
                name='limit_period_matches_kind',
            ),
            migrations.RemoveConstraint(
                model_name='rule',
                name='rule_severity_valid',
            ),
            migrations.RemoveConstraint(
                model_name='rule',
                name='rule_type_valid',
            ),
            migrations.AddConstraint(
                model_name='case',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['open', 'investigating', 'resolved'])), name='case_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='case',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('outcome__one_of', ['no_action', 'sar_filed', 'account_closed', 'other']), ('resolved_at__isnull', False), ('status', 'resolved'), models.Q(('resolution_note', ''), _negated=True)), models.Q(models.Q(('status', 'resolved'), _negated=True), ('outcome', ''), ('resolved_at__isnull', True)), _connector='OR'), name='case_outcome_when_resolved'),
            ),
            migrations.AddConstraint(
                model_name='identitymark',
                constraint=models.CheckConstraint(condition=models.Q(('kind__one_of', ['instrument', 'device', 'address'])), name='identity_mark_kind_valid'),
            ),
            migrations.AddConstraint(
                model_name='limit',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'session'), ('period', '')), models.Q(models.Q(('kind', 'session'), _negated=True), ('period__one_of', ['24h', '7d', '30d'])), _connector='OR'), name='limit_period_matches_kind'),
            ),
            migrations.AddConstraint(
                model_name='rule',
                constraint=models.CheckConstraint(condition=models.Q(('type__one_of', ['deposit_threshold', 'deposit_velocity', 'micro_bet', 'failed_deposits', 'structuring', 'rapid_cycling', 'loss_chasing', 'night_play', 'shared_identity', 'game_rtp_drift'])), name='rule_type_valid'),
            ),
            migrations.AddConstraint(
                model_name='rule',
                constraint=models.CheckConstraint(condition=models.Q(('severity__one_of', ['low', 'medium', 'high'])), name='rule_severity_valid'),
            ),
        ),
    ]
