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
        ('sportsbook', '0012_bet_player_currency_key'),
        ('wallet', '0019_check_lists_as_arrays'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        OnPostgreSQL(
            migrations.RemoveConstraint(
                model_name='bet',
                name='sportsbook_bet_price_changes_known',
            ),
            migrations.RemoveConstraint(
                model_name='bet',
                name='sportsbook_bet_rejected_with_reason',
            ),
            migrations.RemoveConstraint(
                model_name='bet',
                name='sportsbook_bet_status_known',
            ),
            migrations.RemoveConstraint(
                model_name='bet',
                name='sportsbook_bet_settled_with_payout',
            ),
            migrations.RemoveConstraint(
                model_name='betsettlement',
                name='sportsbook_settlement_status',
            ),
            migrations.RemoveConstraint(
                model_name='breaker',
                name='sportsbook_breaker_name_known',
            ),
            migrations.RemoveConstraint(
                model_name='breakerrequest',
                name='sportsbook_breaker_request_status_known',
            ),
            migrations.RemoveConstraint(
                model_name='event',
                name='sportsbook_event_status_known',
            ),
            migrations.RemoveConstraint(
                model_name='exposure',
                name='sportsbook_exposure_scope_known',
            ),
            migrations.RemoveConstraint(
                model_name='market',
                name='sportsbook_market_status_known',
            ),
            migrations.AddConstraint(
                model_name='bet',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['pending', 'accepted', 'rejected', 'won', 'lost', 'void'])), name='sportsbook_bet_status_known'),
            ),
            migrations.AddConstraint(
                model_name='bet',
                constraint=models.CheckConstraint(condition=models.Q(('accept_price_changes__one_of', ['none', 'higher', 'any'])), name='sportsbook_bet_price_changes_known'),
            ),
            migrations.AddConstraint(
                model_name='bet',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('reject_reason__one_of', ['MARKET_SUSPENDED', 'PRICE_CHANGED', 'MARKET_SETTLED']), ('status', 'rejected')), models.Q(models.Q(('status', 'rejected'), _negated=True), ('reject_reason', '')), _connector='OR'), name='sportsbook_bet_rejected_with_reason'),
            ),
            migrations.AddConstraint(
                model_name='bet',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('outcome_at__isnull', False), ('payout__isnull', False), ('settled_at__isnull', False), ('settlement_count__gte', 1), ('status__one_of', ('won', 'lost', 'void'))), models.Q(models.Q(('status__one_of', ('won', 'lost', 'void')), _negated=True), ('outcome_at__isnull', True), ('payout__isnull', True), ('settled_at__isnull', True), ('settlement_count', 0)), _connector='OR'), name='sportsbook_bet_settled_with_payout'),
            ),
            migrations.AddConstraint(
                model_name='betsettlement',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ('won', 'lost', 'void'))), name='sportsbook_settlement_status'),
            ),
            migrations.AddConstraint(
                model_name='breaker',
                constraint=models.CheckConstraint(condition=models.Q(('name__one_of', ['pre_match_only', 'cached_prices', 'suspend_in_play'])), name='sportsbook_breaker_name_known'),
            ),
            migrations.AddConstraint(
                model_name='breakerrequest',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['pending', 'approved', 'rejected'])), name='sportsbook_breaker_request_status_known'),
            ),
            migrations.AddConstraint(
                model_name='event',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['upcoming', 'live', 'ended'])), name='sportsbook_event_status_known'),
            ),
            migrations.AddConstraint(
                model_name='exposure',
                constraint=models.CheckConstraint(condition=models.Q(('scope__one_of', ['selection', 'market', 'event', 'platform'])), name='sportsbook_exposure_scope_known'),
            ),
            migrations.AddConstraint(
                model_name='market',
                constraint=models.CheckConstraint(condition=models.Q(('status__one_of', ['open', 'suspended', 'settled'])), name='sportsbook_market_status_known'),
            ),
        ),
    ]
