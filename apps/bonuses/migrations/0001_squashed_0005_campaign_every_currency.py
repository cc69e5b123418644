"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it."""

from django.db import migrations, models
import django.db.models.deletion
import django.db.models.functions.text

import apps.bonuses.models


class Migration(migrations.Migration):

    replaces = [('bonuses', '0001_initial'), ('bonuses', '0002_bonus_grant_key_one_per_player'), ('bonuses', '0003_bonus_ends'), ('bonuses', '0004_triggers_period_end_cashback_runs'), ('bonuses', '0005_campaign_every_currency')]

    initial = True

    dependencies = [
        ('accounts', '0010_kyc_documents'),
    ]

    operations = [
        migrations.CreateModel(
            name='Campaign',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='also the opt-in code when opt-in is required', max_length=40, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('deposit_match', 'Deposit match'), ('fixed', 'Fixed bonus'), ('free_bet', 'Free-bet credit'), ('cashback', 'Cash-back on net losses')], max_length=20)),
                ('enabled', models.BooleanField(default=False)),
                ('countries', models.JSONField(blank=True, default=list, help_text='ISO 3166-1 alpha-2 codes; empty: every country')),
                ('new_players_only', models.BooleanField(default=False, help_text='players who have never deposited')),
                ('requires_opt_in', models.BooleanField(default=False)),
                ('one_per_player', models.BooleanField(default=True)),
                ('allow_concurrent', models.BooleanField(default=False, help_text='may be granted while the player wagers another active bonus')),
                ('budget', models.BigIntegerField(blank=True, help_text='minor units; empty: no budget', null=True)),
                ('match_percent', models.PositiveIntegerField(blank=True, help_text='deposit match: % of the deposit', null=True)),
                ('amount', models.BigIntegerField(blank=True, help_text='fixed or free bet: minor units', null=True)),
                ('cap', models.BigIntegerField(blank=True, help_text='deposit match: the largest bonus, minor units', null=True)),
                ('trigger', models.CharField(choices=[('registration', 'Registration'), ('first_deposit', 'First deposit'), ('any_deposit', 'Any deposit'), ('wagering_threshold', 'Wagering threshold in a period'), ('staff_grant', 'Staff grant'), ('period_end', 'End of each cash-back period')], max_length=20)),
                ('min_deposit', models.BigIntegerField(blank=True, help_text='deposit triggers: minor units', null=True)),
                ('wagering_threshold', models.BigIntegerField(blank=True, help_text='minor units staked in the period', null=True)),
                ('wagering_period_days', models.PositiveIntegerField(blank=True, null=True)),
                ('cashback_percent', models.PositiveIntegerField(blank=True, help_text='% of net losses', null=True)),
                ('cashback_period_days', models.PositiveIntegerField(blank=True, null=True)),
                ('wagering_multiple', models.PositiveIntegerField(default=0, help_text='times the wagering base; 0: none')),
                ('wagering_base', models.CharField(choices=[('bonus', 'Bonus'), ('bonus_and_deposit', 'Bonus and deposit')], default='bonus', max_length=20)),
                ('default_weight_percent', models.PositiveSmallIntegerField(default=100, help_text='how much a stake on a game without its own weight counts')),
                ('max_stake', models.BigIntegerField(blank=True, help_text='minor units while wagering; empty: none', null=True)),
                ('expires_after_days', models.PositiveIntegerField(blank=True, help_text='empty: never expires', null=True)),
                ('forfeit_on_withdrawal', models.BooleanField(default=False)),
                ('starts_at', models.DateTimeField(blank=True, null=True)),
                ('ends_at', models.DateTimeField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('brand', models.ForeignKey(blank=True, help_text='empty: every brand', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.brand')),
                ('currency', models.ForeignKey(blank=True, help_text="empty: every wallet currency, the amounts in minor units of the player's", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
            ],
            options={
                'ordering': ['code'],
                'constraints': [models.UniqueConstraint(django.db.models.functions.text.Upper('code'), name='campaign_code_unique_any_case'), models.CheckConstraint(condition=models.Q(('kind__in', ['deposit_match', 'fixed', 'free_bet', 'cashback'])), name='campaign_kind_known'), models.CheckConstraint(condition=models.Q(('wagering_base__in', ['bonus', 'bonus_and_deposit'])), name='campaign_base_known'), models.CheckConstraint(condition=models.Q(('budget__gte', 0)), name='campaign_budget_not_negative'), models.CheckConstraint(condition=models.Q(('match_percent__gt', 0)), name='campaign_match_positive'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='campaign_amount_positive'), models.CheckConstraint(condition=models.Q(('cap__gt', 0)), name='campaign_cap_positive'), models.CheckConstraint(condition=models.Q(('min_deposit__gt', 0)), name='campaign_min_deposit_positive'), models.CheckConstraint(condition=models.Q(('wagering_threshold__gt', 0)), name='campaign_threshold_positive'), models.CheckConstraint(condition=models.Q(('max_stake__gt', 0)), name='campaign_max_stake_positive'), models.CheckConstraint(condition=models.Q(('cashback_percent__gte', 0), ('cashback_percent__lte', 100)), name='campaign_cashback_percent_range'), models.CheckConstraint(condition=models.Q(('default_weight_percent__gte', 0), ('default_weight_percent__lte', 100)), name='campaign_default_weight_range'), models.CheckConstraint(condition=models.Q(('starts_at__isnull', True), ('ends_at__isnull', True), ('ends_at__gt', models.F('starts_at')), _connector='OR'), name='campaign_ends_after_start'), models.CheckConstraint(condition=models.Q(('trigger__in', ['registration', 'first_deposit', 'any_deposit', 'wagering_threshold', 'staff_grant', 'period_end'])), name='campaign_trigger_known')],
            },
        ),
        migrations.CreateModel(
            name='Bonus',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.CharField(default=apps.bonuses.models.new_bonus_id, editable=False, max_length=40, unique=True)),
                ('status', models.CharField(choices=[('active', 'Active'), ('converted', 'Converted'), ('expired', 'Expired'), ('forfeited', 'Forfeited'), ('cancelled', 'Cancelled')], default='active', max_length=20)),
                ('amount', models.BigIntegerField(help_text='minor units granted')),
                ('remaining', models.BigIntegerField(help_text='minor units of the bonus held when last written')),
                ('wagering_required', models.BigIntegerField(help_text='minor units')),
                ('wagering_done', models.BigIntegerField(default=0, help_text='minor units')),
                ('granted_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bonuses', to='bonuses.campaign')),
                ('grant_key', models.CharField(blank=True, editable=False, max_length=120, null=True, unique=True)),
                ('one_per_player', models.BooleanField(default=False, editable=False)),
                ('ended_amount', models.BigIntegerField(blank=True, help_text='minor units the end moved: to cash (converted) or to the pool', null=True)),
            ],
            options={
                'verbose_name_plural': 'bonuses',
                'indexes': [models.Index(fields=['player', '-id'], name='bonus_player_newest'), models.Index(condition=models.Q(('status', 'active')), fields=['expires_at'], name='bonus_active_expiry')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['active', 'converted', 'expired', 'forfeited', 'cancelled'])), name='bonus_status_known'), models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='bonus_amount_positive'), models.CheckConstraint(condition=models.Q(('wagering_done__gte', 0), ('wagering_required__gte', 0)), name='bonus_wagering_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('ended_at__isnull', True), ('status', 'active')), models.Q(models.Q(('status', 'active'), _negated=True), ('ended_at__isnull', False)), _connector='OR'), name='bonus_ended_iff_not_active'), models.UniqueConstraint(condition=models.Q(('one_per_player', True)), fields=('player', 'campaign'), name='bonus_one_per_player'), models.CheckConstraint(condition=models.Q(('remaining__gte', 0)), name='bonus_remaining_not_negative'), models.CheckConstraint(condition=models.Q(('ended_amount__isnull', True), ('ended_amount__gte', 0), _connector='OR'), name='bonus_ended_amount_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='GameWeight',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('game_type', models.CharField(blank=True, default='', max_length=50)),
                ('game_code', models.CharField(blank=True, default='', max_length=100)),
                ('percent', models.PositiveSmallIntegerField()),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='weights', to='bonuses.campaign')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('game_type', ''), models.Q(('game_code', ''), _negated=True)), models.Q(models.Q(('game_type', ''), _negated=True), ('game_code', '')), _connector='OR'), name='game_weight_type_or_code'), models.CheckConstraint(condition=models.Q(('percent__gte', 0), ('percent__lte', 100)), name='game_weight_percent_range'), models.UniqueConstraint(condition=models.Q(('game_type', ''), _negated=True), fields=('campaign', 'game_type'), name='game_weight_type_once'), models.UniqueConstraint(condition=models.Q(('game_code', ''), _negated=True), fields=('campaign', 'game_code'), name='game_weight_code_once')],
            },
        ),
        migrations.CreateModel(
            name='OptIn',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='opt_ins', to='bonuses.campaign')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.player')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('player', 'campaign'), name='opt_in_once')],
            },
        ),
        migrations.CreateModel(
            name='CashbackRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_start', models.DateTimeField()),
                ('period_end', models.DateTimeField()),
                ('after_player_id', models.BigIntegerField(default=0, help_text='the last player id the run has been through')),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cashback_runs', to='bonuses.campaign')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('campaign', 'period_end'), name='cashback_run_once_per_period'), models.CheckConstraint(condition=models.Q(('period_end__gt', models.F('period_start'))), name='cashback_run_period_order')],
            },
        ),
    ]
