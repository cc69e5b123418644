"""Squashed with the
replaced migrations' changes to the ledger's tables in their old order, repeated steps on the
same field or constraint merged where the result is the same on PostgreSQL and SQLite: each
operation re-renders every model related to the ledger, the cost of a fresh migrate. A database
that applied the replaced migrations goes on with them; those files stay.

The replaced migrations' RunPython steps come last, in their old order: the hash chain's backfill
only needs the chain_hash fields, and still runs where 0001-0003 were applied long ago and the
ledger has rows. Their functions are copied here so that this file outlives the replaced ones.

Part of the wallet's two squashes: see 0001_squashed_0003_adjust_balance_permission."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

from apps.wallet import chain


# From 0005_zero_sum_check_by_index.
def forwards_0005(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_check_transaction_balanced() SET enable_seqscan = off")


def backwards_0005(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION wallet_check_transaction_balanced() RESET enable_seqscan")


# From 0006_hash_chain.
def backfill_0006(apps, schema_editor):
    Transaction = apps.get_model("wallet", "Transaction")
    Entry = apps.get_model("wallet", "Entry")
    Account = apps.get_model("wallet", "Account")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER TABLE wallet_transaction DISABLE TRIGGER wallet_transaction_append_only")
    heads: dict[int, str] = {}
    changed = []
    for tx, expected in chain.recompute(Transaction, Entry):
        tx.chain_hash = heads[tx.player_id] = expected
        changed.append(tx)
        if len(changed) >= 2000:
            Transaction.objects.bulk_update(changed, ["chain_hash"])
            changed = []
    Transaction.objects.bulk_update(changed, ["chain_hash"])
    for player_id, head in heads.items():
        Account.objects.filter(player_id=player_id, kind="cash").update(chain_hash=head)
    if postgresql:
        schema_editor.execute("ALTER TABLE wallet_transaction ENABLE TRIGGER wallet_transaction_append_only")


class Migration(migrations.Migration):

    replaces = [('wallet', '0004_selective_indexes'), ('wallet', '0005_zero_sum_check_by_index'), ('wallet', '0006_hash_chain'), ('wallet', '0007_cashier_accounts_and_kinds'), ('wallet', '0008_bonus_end_kinds'), ('wallet', '0009_transaction_game_idx'), ('wallet', '0010_adjustment_requests'), ('wallet', '0011_admin_list_indexes'), ('wallet', '0012_reverses_partial_unique'), ('wallet', '0013_pending_bets'), ('wallet', '0014_resettlement')]

    dependencies = [
        ('accounts', '0010_kyc_documents'),
        ('wallet', '0003_adjust_balance_permission'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AdjustmentRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.BigIntegerField()),
                ('reason_code', models.CharField(choices=[('goodwill', 'Goodwill gesture'), ('compensation', 'Compensation for a fault of ours (outage, game error)'), ('correction', 'Correction of a wrong movement'), ('payment_reconciliation', 'Payment reconciliation (PSP statement differs)'), ('chargeback_fee', 'Chargeback fee passed on to the player'), ('bonus_correction', 'Bonus correction'), ('test', 'Test account funding')], max_length=32)),
                ('reason', models.TextField()),
                ('requested_at', models.DateTimeField()),
                ('needs_approval', models.BooleanField(help_text="at or above the currency's four-eyes threshold")),
                ('status', models.CharField(choices=[('pending', 'Awaiting a second approver'), ('approved', 'Approved and posted'), ('rejected', 'Rejected')], max_length=16)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reason', models.TextField(blank=True, help_text='why it was rejected')),
                ('idempotency_key', models.CharField(max_length=64, unique=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustment_request', to='wallet.transaction')),
            ],
            options={
                'permissions': [('approve_adjustment', "Can approve or reject another staff member's balance adjustment")],
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['requested_at'], name='adjustment_request_pending_idx'), models.Index(fields=['player', 'requested_at'], name='adjustment_request_player_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount', 0), _negated=True), name='adjustment_request_amount_not_zero'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'approved', 'rejected'])), name='adjustment_request_status_valid'), models.CheckConstraint(condition=models.Q(('reason_code__in', ['goodwill', 'compensation', 'correction', 'payment_reconciliation', 'chargeback_fee', 'bonus_correction', 'test'])), name='adjustment_request_reason_code_valid'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'approved'), ('transaction__isnull', False)), models.Q(models.Q(('status', 'approved'), _negated=True), ('transaction__isnull', True)), _connector='OR'), name='adjustment_request_posted_iff_approved'), models.CheckConstraint(condition=models.Q(models.Q(('decided_by__isnull', True), ('needs_approval', False)), models.Q(('needs_approval', True), models.Q(('decided_by__isnull', True), models.Q(('decided_by', models.F('requested_by')), _negated=True), _connector='OR')), _connector='OR'), name='adjustment_request_four_eyes')],
            },
        ),
        migrations.CreateModel(
            name='AdjustmentAwaitingApproval',
            fields=[
            ],
            options={
                'verbose_name': 'adjustment awaiting approval',
                'verbose_name_plural': 'adjustments awaiting approval',
                'proxy': True,
            },
            bases=('wallet.adjustmentrequest',),
        ),
        migrations.RemoveConstraint(
            model_name='transaction',
            name='transaction_origin_external_id_unique',
        ),
        migrations.RemoveIndex(
            model_name='transaction',
            name='transaction_reverses_ext_idx',
        ),
        migrations.RemoveIndex(
            model_name='transaction',
            name='transaction_round_idx',
        ),
        migrations.AlterField(
            model_name='entry',
            name='currency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='acting_user',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='currency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='player',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(condition=models.Q(('reverses_external_id', ''), _negated=True), fields=['reverses_external_id', 'origin'], name='transaction_reverses_ext_idx'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['round_id', 'origin'], name='transaction_round_idx'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(condition=models.Q(('acting_user__isnull', False)), fields=['acting_user'], name='transaction_acting_user_idx'),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.UniqueConstraint(fields=('external_id', 'origin'), name='transaction_origin_external_id_unique'),
        ),
        migrations.AddField(
            model_name='account',
            name='chain_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='transaction',
            name='chain_hash',
            field=models.CharField(db_default='', max_length=64),
        ),
        migrations.RemoveConstraint(
            model_name='account',
            name='player_account_balance_not_negative',
        ),
        migrations.RemoveConstraint(
            model_name='account',
            name='account_player_xor_system_code',
        ),
        migrations.RemoveConstraint(
            model_name='transaction',
            name='transaction_kind_valid',
        ),
        migrations.AlterField(
            model_name='account',
            name='kind',
            field=models.CharField(choices=[('cash', 'Player cash'), ('bonus', 'Player bonus'), ('house', 'House (game results)'), ('adjustments', 'Operator adjustments'), ('bonus_pool', 'Bonus pool'), ('clearing', 'Payment or provider clearing'), ('pending_withdrawal', 'Player pending withdrawals'), ('debt', 'Player debt'), ('pending_bets', 'Bets held for an in-play delay')], max_length=24),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='kind',
            field=models.CharField(choices=[('bet', 'Bet'), ('win', 'Win'), ('rollback', 'Rollback'), ('deposit', 'Deposit'), ('withdrawal', 'Withdrawal'), ('adjustment', 'Adjustment'), ('bonus', 'Bonus'), ('withdrawal_paid', 'Withdrawal paid'), ('withdrawal_returned', 'Withdrawal returned'), ('refund', 'Deposit refunded'), ('chargeback', 'Chargeback'), ('debt_repaid', 'Debt repaid'), ('bonus_converted', 'Bonus converted'), ('bonus_expired', 'Bonus expired'), ('bonus_forfeited', 'Bonus forfeited'), ('bonus_cancelled', 'Bonus cancelled'), ('bet_accepted', 'Held bet accepted'), ('resettlement', 'Win resettled down')], max_length=24),
        ),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('cash', 'bonus', 'pending_withdrawal', 'debt')), _negated=True), ('balance__gte', 0), _connector='OR'), name='player_account_balance_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('cash', 'bonus', 'pending_withdrawal', 'debt')), ('player__isnull', False), ('code', '')), models.Q(models.Q(('kind__in', ('cash', 'bonus', 'pending_withdrawal', 'debt')), _negated=True), ('player__isnull', True), models.Q(('code', ''), _negated=True)), _connector='OR'), name='account_player_xor_system_code'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(condition=models.Q(('game_id', ''), _negated=True), fields=['game_id', 'created_at'], name='transaction_game_idx'),
        ),
        migrations.AddIndex(
            model_name='entry',
            index=models.Index(fields=['account', 'id'], name='wallet_entry_account_idx'),
        ),
        migrations.AlterField(
            model_name='entry',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='wallet.account'),
        ),
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(condition=models.Q(('kind__in', ['bet', 'win']), _negated=True), fields=['kind', 'id'], name='transaction_kind_idx'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='reverses',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.transaction'),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.UniqueConstraint(condition=models.Q(('reverses__isnull', False)), fields=('reverses',), name='transaction_reverses_once'),
        ),
        migrations.AddConstraint(
            model_name='transaction',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['bet', 'win', 'rollback', 'deposit', 'withdrawal', 'adjustment', 'bonus', 'withdrawal_paid', 'withdrawal_returned', 'refund', 'chargeback', 'debt_repaid', 'bonus_converted', 'bonus_expired', 'bonus_forfeited', 'bonus_cancelled', 'bet_accepted', 'resettlement'])), name='transaction_kind_valid'),
        ),
        migrations.RunPython(
            code=forwards_0005,
            reverse_code=backwards_0005,
        ),
        migrations.RunPython(
            code=backfill_0006,
            reverse_code=migrations.RunPython.noop,
        ),
    ]
