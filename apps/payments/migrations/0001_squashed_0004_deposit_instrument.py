"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it.

The replaced migrations' RunPython steps (triggers, seeds) come last, in their old order: none
needs an intermediate schema, and one in the middle would stop the folding. Their functions are
copied here so that this file outlives the replaced ones."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

import apps.payments.models


# From 0002_webhook_records_append_only.
APPEND_ONLY_0002 = """
CREATE OR REPLACE FUNCTION payments_webhook_event_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.verdict = 'pending'
       AND (NEW.provider_id, NEW.event_id, NEW.type, NEW.reference, NEW.received_at)
           IS NOT DISTINCT FROM (OLD.provider_id, OLD.event_id, OLD.type, OLD.reference, OLD.received_at)
       AND NEW.amount IS NOT DISTINCT FROM OLD.amount AND NEW.currency = OLD.currency
       AND NEW.body IS NOT DISTINCT FROM OLD.body THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'webhook_event_append_only: % on % is not allowed; a decided webhook record is final',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER payments_webhook_event_append_only BEFORE UPDATE OR DELETE ON payments_webhookevent
    FOR EACH ROW EXECUTE FUNCTION payments_webhook_event_reject_change();
"""


REVERSE_0002 = """
DROP TRIGGER IF EXISTS payments_webhook_event_append_only ON payments_webhookevent;
DROP FUNCTION IF EXISTS payments_webhook_event_reject_change();
"""


def forwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_0002, params=None)


def backwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_0002, params=None)


class Migration(migrations.Migration):

    replaces = [('payments', '0001_initial'), ('payments', '0002_webhook_records_append_only'), ('payments', '0003_withdrawal_claims_dropped'), ('payments', '0004_deposit_instrument')]

    initial = True

    dependencies = [
        ('accounts', '0005_currency_reference_rate'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PaymentProvider',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=32, unique=True)),
                ('name', models.CharField(blank=True, max_length=100)),
                ('adapter', models.CharField(choices=[('sandbox', "PAM's sandbox PSP")], max_length=32)),
                ('webhook_secret', models.CharField(max_length=200)),
                ('min_deposit', models.BigIntegerField(default=1, help_text='minor units')),
                ('max_deposit', models.BigIntegerField(default=1000000000, help_text='minor units')),
                ('enabled', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('min_deposit__gt', 0)), name='provider_min_deposit_positive'), models.CheckConstraint(condition=models.Q(('max_deposit__gte', models.F('min_deposit'))), name='provider_max_ge_min'), models.CheckConstraint(condition=models.Q(('adapter__in', ['sandbox'])), name='provider_adapter_known'), models.CheckConstraint(condition=models.Q(('webhook_secret', ''), _negated=True), name='provider_webhook_secret_set')],
            },
        ),
        migrations.CreateModel(
            name='Withdrawal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.BigIntegerField(help_text='minor units, as the player asked')),
                ('idempotency_key', models.CharField(max_length=100)),
                ('request_fingerprint', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('public_id', models.CharField(default=apps.payments.models.new_withdrawal_id, editable=False, max_length=40, unique=True)),
                ('status', models.CharField(choices=[('requested', 'Requested'), ('awaiting_approval', 'Awaiting approval'), ('approved', 'Approved'), ('paid', 'Paid'), ('cancelled', 'Cancelled'), ('failed', 'Failed')], default='requested', max_length=20)),
                ('initial_status', models.CharField(blank=True, choices=[('requested', 'Requested'), ('awaiting_approval', 'Awaiting approval'), ('approved', 'Approved'), ('paid', 'Paid'), ('cancelled', 'Cancelled'), ('failed', 'Failed')], help_text='the status of the first answer', max_length=20)),
                ('reason', models.TextField(blank=True, help_text='why staff rejected it, or why the payout failed')),
                ('risk_flags', models.JSONField(blank=True, default=list)),
                ('approved_by', models.ForeignKey(blank=True, help_text='empty for an automatic approval', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('last_touched_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='accounts.player')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='payments.paymentprovider')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'permissions': [('approve_withdrawal', 'Can approve or reject withdrawals')],
                'abstract': False,
                'indexes': [models.Index(fields=['player', '-id'], name='withdrawal_player_newest'), models.Index(fields=['status'], name='withdrawal_status')],
                'constraints': [models.UniqueConstraint(fields=('player', 'idempotency_key'), name='withdrawal_key_per_player'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='withdrawal_amount_positive'), models.CheckConstraint(condition=models.Q(('status__in', ['requested', 'awaiting_approval', 'approved', 'paid', 'cancelled', 'failed'])), name='withdrawal_status_valid')],
            },
        ),
        migrations.CreateModel(
            name='WithdrawalAwaitingApproval',
            fields=[
            ],
            options={
                'verbose_name': 'withdrawal awaiting approval',
                'verbose_name_plural': 'withdrawals awaiting approval',
                'proxy': True,
            },
            bases=('payments.withdrawal',),
        ),
        migrations.CreateModel(
            name='BrandPaymentSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('auto_approve_up_to', models.BigIntegerField(default=100000, help_text='minor units')),
                ('brand', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='payment_settings', to='accounts.brand')),
            ],
            options={
                'verbose_name_plural': 'brand payment settings',
                'constraints': [models.CheckConstraint(condition=models.Q(('auto_approve_up_to__gte', 0)), name='brand_auto_approve_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='DepositIntent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.BigIntegerField(help_text='minor units, as the player asked')),
                ('idempotency_key', models.CharField(max_length=100)),
                ('request_fingerprint', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('public_id', models.CharField(default=apps.payments.models.new_deposit_id, editable=False, max_length=40, unique=True)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('refunded', 'Refunded'), ('charged_back', 'Charged back')], default='pending', max_length=16)),
                ('credited_amount', models.BigIntegerField(blank=True, help_text='minor units the PSP reported', null=True)),
                ('reversal_event', models.CharField(blank=True, help_text='the refund or chargeback event that took the money back', max_length=100)),
                ('redirect_url', models.URLField(blank=True, max_length=2000)),
                ('flagged_for_staff', models.BooleanField(default=False)),
                ('flag_reason', models.TextField(blank=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='accounts.player')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='payments.paymentprovider')),
                ('instrument_fingerprint', models.CharField(blank=True, max_length=64)),
            ],
            options={
                'abstract': False,
                'indexes': [models.Index(fields=['player', '-id'], name='deposit_player_newest')],
                'constraints': [models.UniqueConstraint(fields=('player', 'idempotency_key'), name='depositintent_key_per_player'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='depositintent_amount_positive'), models.CheckConstraint(condition=models.Q(('credited_amount__isnull', True), ('credited_amount__gt', 0), _connector='OR'), name='deposit_credited_amount_positive'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'succeeded', 'failed', 'refunded', 'charged_back'])), name='deposit_status_valid'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'failed']), ('credited_amount__isnull', False), _connector='OR'), name='deposit_credited_has_amount')],
            },
        ),
        migrations.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.CharField(blank=True, max_length=100)),
                ('type', models.CharField(blank=True, max_length=32)),
                ('reference', models.CharField(blank=True, max_length=100)),
                ('amount', models.BigIntegerField(blank=True, null=True)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('body', models.JSONField(blank=True, null=True)),
                ('verdict', models.CharField(choices=[('pending', 'Pending'), ('applied', 'Applied'), ('duplicate', 'Duplicate'), ('ignored', 'Ignored'), ('refused', 'Refused')], max_length=16)),
                ('reason', models.TextField(blank=True)),
                ('received_at', models.DateTimeField(auto_now_add=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='webhook_events', to='payments.paymentprovider')),
            ],
            options={
                'indexes': [models.Index(fields=['reference'], name='webhook_reference')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('verdict__in', ['duplicate', 'refused']), _negated=True), fields=('provider', 'event_id'), name='webhook_event_once_per_provider'), models.CheckConstraint(condition=models.Q(('verdict__in', ['pending', 'applied', 'duplicate', 'ignored', 'refused'])), name='webhook_verdict_valid'), models.CheckConstraint(condition=models.Q(('verdict', 'refused'), models.Q(('event_id', ''), _negated=True), _connector='OR'), name='webhook_event_id_unless_refused')],
            },
        ),
        migrations.RunPython(
            code=forwards_0002,
            reverse_code=backwards_0002,
        ),
    ]
