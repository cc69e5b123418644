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
        ('wallet', '0018_transaction_player_currency_key'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='account',
                name='player_account_balance_not_negative',
            ),
            migrations.RemoveConstraint(
                model_name='account',
                name='account_player_xor_system_code',
            ),
            migrations.RemoveConstraint(
                model_name='adjustmentrequest',
                name='adjustment_request_status_valid',
            ),
            migrations.RemoveConstraint(
                model_name='adjustmentrequest',
                name='adjustment_request_reason_code_valid',
            ),
            migrations.RemoveConstraint(
                model_name='transaction',
                name='transaction_kind_valid',
            ),
            migrations.AddConstraint(
                model_name='account',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__one_of', ('cash', 'bonus', 'pending_withdrawal', 'debt')), _negated=True), ('balance__gte', 0), _connector='OR'), name='player_account_balance_not_negative'),
            ),
            migrations.AddConstraint(
                model_name='account',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__one_of', ('cash', 'bonus', 'pending_withdrawal', 'debt')), ('player__isnull', False), ('code', '')), models.Q(models.Q(('kind__one_of', ('cash', 'bonus', 'pending_withdrawal', 'debt')), _negated=True), ('player__isnull', True), models.Q(('code', ''), _negated=True)), _connector='OR'), name='account_player_xor_system_code'),
            ),
            migrations.AddConstraint(
                model_name='adjustmentrequest',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['pending', 'approved', 'rejected'])), name='adjustment_request_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='adjustmentrequest',
                constraint=models.CheckConstraint(condition=models.Q(('reason_code__one_of', ['goodwill', 'compensation', 'correction', 'payment_reconciliation', 'chargeback_fee', 'bonus_correction', 'test'])), name='adjustment_request_reason_code_valid'),
            ),
            migrations.AddConstraint(
                model_name='transaction',
                constraint=models.CheckConstraint(condition=models.Q(('kind__one_of', ['bet', 'win', 'rollback', 'deposit', 'withdrawal', 'adjustment', 'bonus', 'withdrawal_paid', 'withdrawal_returned', 'refund', 'chargeback', 'debt_repaid', 'bonus_converted', 'bonus_expired', 'bonus_forfeited', 'bonus_cancelled', 'bet_accepted', 'resettlement'])), name='transaction_kind_valid'),
            ),
        ),
    ]
