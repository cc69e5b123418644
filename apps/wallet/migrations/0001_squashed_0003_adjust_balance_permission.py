"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it.

The replaced migrations' RunPython steps (triggers, seeds) come last, in their old order: none
needs an intermediate schema, and one in the middle would stop the folding. Their functions are
copied here so that this file outlives the replaced ones.

The wallet is squashed in two parts, split where compliance depends on it (0003): compliance's
ledger index on wallet_transaction is created between them, as before. SQLite's rebuilds of that
table in 0004-0014 drop it, so an embedded database has never had it; one squash of 0001-0014
would run before compliance and keep it, and fresh embedded schemas would differ from existing
ones."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


# From 0002_ledger_triggers.
APPEND_ONLY_0002 = """
CREATE OR REPLACE FUNCTION wallet_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet_ledger_append_only: % on % is not allowed; post a correcting transaction',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER wallet_transaction_append_only BEFORE UPDATE OR DELETE ON wallet_transaction
    FOR EACH ROW EXECUTE FUNCTION wallet_reject_change();
CREATE TRIGGER wallet_entry_append_only BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_reject_change();
"""


ZERO_SUM_0002 = """
CREATE OR REPLACE FUNCTION wallet_check_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency_id, SUM(amount) AS total INTO unbalanced
      FROM wallet_entry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency_id HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'wallet_transaction_unbalanced: entries of transaction % sum to % %',
            NEW.transaction_id, unbalanced.total, unbalanced.currency_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER wallet_entry_transaction_balanced AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_check_transaction_balanced();
"""


REVERSE_0002 = """
DROP TRIGGER IF EXISTS wallet_entry_transaction_balanced ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_transaction;
DROP FUNCTION IF EXISTS wallet_check_transaction_balanced();
DROP FUNCTION IF EXISTS wallet_reject_change();
"""


def forwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_0002, params=None)
        schema_editor.execute(ZERO_SUM_0002, params=None)


def backwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_0002, params=None)


class Migration(migrations.Migration):

    replaces = [('wallet', '0001_initial'), ('wallet', '0002_ledger_triggers'), ('wallet', '0003_adjust_balance_permission')]

    initial = True

    dependencies = [
        ('accounts', '0003_staff_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Account',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('cash', 'Player cash'), ('bonus', 'Player bonus'), ('house', 'House (game results)'), ('adjustments', 'Operator adjustments'), ('bonus_pool', 'Bonus pool'), ('clearing', 'Payment or provider clearing')], max_length=16)),
                ('code', models.CharField(blank=True, max_length=80)),
                ('balance', models.BigIntegerField(default=0)),
                ('version', models.BigIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('player', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='accounts', to='accounts.player')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('cash', 'bonus')), _negated=True), ('balance__gte', 0), _connector='OR'), name='player_account_balance_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('cash', 'bonus')), ('player__isnull', False), ('code', '')), models.Q(models.Q(('kind__in', ('cash', 'bonus')), _negated=True), ('player__isnull', True), models.Q(('code', ''), _negated=True)), _connector='OR'), name='account_player_xor_system_code'), models.UniqueConstraint(condition=models.Q(('player__isnull', False)), fields=('player', 'kind'), name='one_account_per_player_and_kind'), models.UniqueConstraint(condition=models.Q(('player__isnull', True)), fields=('code', 'currency'), name='one_system_account_per_currency')],
            },
        ),
        migrations.CreateModel(
            name='Transaction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('bet', 'Bet'), ('win', 'Win'), ('rollback', 'Rollback'), ('deposit', 'Deposit'), ('withdrawal', 'Withdrawal'), ('adjustment', 'Adjustment'), ('bonus', 'Bonus')], max_length=16)),
                ('amount', models.BigIntegerField()),
                ('origin', models.CharField(max_length=80)),
                ('external_id', models.CharField(max_length=100)),
                ('fingerprint', models.CharField(max_length=64)),
                ('round_id', models.CharField(blank=True, max_length=100)),
                ('game_id', models.CharField(blank=True, max_length=100)),
                ('reverses_external_id', models.CharField(blank=True, max_length=100)),
                ('reason', models.TextField(blank=True)),
                ('balance_after', models.BigIntegerField()),
                ('wallet_version', models.BigIntegerField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('acting_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('reverses', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='wallet.transaction')),
            ],
            options={
                'indexes': [models.Index(fields=['origin', 'reverses_external_id'], name='transaction_reverses_ext_idx'), models.Index(fields=['origin', 'round_id'], name='transaction_round_idx'), models.Index(fields=['player', 'wallet_version'], name='transaction_player_version_idx')],
                'constraints': [models.UniqueConstraint(fields=('origin', 'external_id'), name='transaction_origin_external_id_unique'), models.CheckConstraint(condition=models.Q(('kind__in', ['bet', 'win', 'rollback', 'deposit', 'withdrawal', 'adjustment', 'bonus'])), name='transaction_kind_valid'), models.CheckConstraint(condition=models.Q(('kind', 'rollback'), models.Q(('reverses__isnull', True), ('reverses_external_id', '')), _connector='OR'), name='only_rollbacks_reverse')],
                'permissions': [('adjust_balance', "Can adjust a player's balance (operator adjustment)")],
            },
        ),
        migrations.CreateModel(
            name='Entry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.BigIntegerField()),
                ('balance_after', models.BigIntegerField(blank=True, null=True)),
                ('account_version', models.BigIntegerField(blank=True, null=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='wallet.account')),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('transaction', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='wallet.transaction')),
            ],
            options={
                'verbose_name_plural': 'entries',
                'constraints': [models.CheckConstraint(condition=models.Q(('amount', 0), _negated=True), name='entry_amount_not_zero'), models.CheckConstraint(condition=models.Q(('balance_after__isnull', True), ('balance_after__gte', 0), _connector='OR'), name='entry_balance_after_not_negative')],
            },
        ),
        migrations.RunPython(
            code=forwards_0002,
            reverse_code=backwards_0002,
        ),
    ]
