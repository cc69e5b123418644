"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it. A field pointing at a model created further down is added once that model exists,
with every field after it, so that the columns keep their order.

The replaced migrations' RunPython steps (triggers, seeds) come last, in their old order: none
needs an intermediate schema, and one in the middle would stop the folding. Their functions are
copied here so that this file outlives the replaced ones.

0009 and 0010 are not in it: they drop indexes of columns created here, and a CreateModel's
indexes are only built when its migration ends; on SQLite their AlterFields also move the
columns to the end of the table, which the schema of an existing embedded database has."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

import apps.sportsbook.models


# From 0002_market_event_of_its_feed.
FORWARDS_0002 = """
ALTER TABLE sportsbook_market ADD CONSTRAINT sportsbook_market_event_of_its_feed
    FOREIGN KEY (event_id, feed_id) REFERENCES sportsbook_event (id, feed_id);
"""


BACKWARDS_0002 = "ALTER TABLE sportsbook_market DROP CONSTRAINT IF EXISTS sportsbook_market_event_of_its_feed;"


def forwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS_0002, params=None)


def backwards_0002(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS_0002, params=None)


# From 0004_breakers.
BREAKERS_0004 = ("pre_match_only", "cached_prices", "suspend_in_play")


def create_breakers_0004(apps, schema_editor):
    """The three breakers, off, so the back office lists them from the start (the services create
    a missing one too)."""
    Breaker = apps.get_model("sportsbook", "Breaker")
    for name in BREAKERS_0004:
        Breaker.objects.get_or_create(name=name)


class Migration(migrations.Migration):

    replaces = [('sportsbook', '0001_initial'), ('sportsbook', '0002_market_event_of_its_feed'), ('sportsbook', '0003_watchdog'), ('sportsbook', '0004_breakers'), ('sportsbook', '0005_bets'), ('sportsbook', '0006_throttle'), ('sportsbook', '0007_settlement'), ('sportsbook', '0008_selection_feed_id_index')]

    initial = True

    dependencies = [
        ('accounts', '0010_kyc_documents'),
        ('wallet', '0014_resettlement'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Feed',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=64, unique=True)),
                ('secret', models.CharField(max_length=256)),
                ('last_seq', models.BigIntegerField(default=0, help_text='the highest message number applied')),
                ('last_message_at', models.DateTimeField(blank=True, help_text='when the feed last sent a batch', null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('stale_since', models.DateTimeField(blank=True, help_text='when the watchdog found it silent; empty while it talks', null=True)),
            ],
            options={
                'ordering': ['code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('secret', ''), _negated=True), name='sportsbook_feed_secret_set'), models.CheckConstraint(condition=models.Q(('last_seq__gte', 0)), name='sportsbook_feed_last_seq_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.CharField(help_text="the feed's id for the event", max_length=100)),
                ('name', models.CharField(max_length=200)),
                ('sport', models.CharField(max_length=50)),
                ('starts_at', models.DateTimeField()),
                ('in_play_delay_s', models.PositiveIntegerField(default=0, help_text='seconds an in-play bet waits')),
                ('status', models.CharField(choices=[('upcoming', 'Upcoming'), ('live', 'Live'), ('ended', 'Ended')], default='upcoming', max_length=16)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('feed', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='sportsbook.feed')),
            ],
            options={
                'ordering': ['starts_at', 'id'],
                'indexes': [models.Index(fields=['status', 'starts_at'], name='sportsbook_event_listing')],
                'constraints': [models.UniqueConstraint(fields=('feed', 'event_id'), name='sportsbook_event_id_unique_per_feed'), models.UniqueConstraint(fields=('id', 'feed'), name='sportsbook_event_id_feed_unique'), models.CheckConstraint(condition=models.Q(('status__in', ['upcoming', 'live', 'ended'])), name='sportsbook_event_status_known'), models.CheckConstraint(condition=models.Q(('in_play_delay_s__gte', 0), ('in_play_delay_s__lte', 600)), name='sportsbook_event_in_play_delay_range')],
            },
        ),
        migrations.CreateModel(
            name='Market',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('market_id', models.CharField(help_text="the feed's id for the market", max_length=100)),
                ('name', models.CharField(max_length=200)),
                ('status', models.CharField(choices=[('open', 'Open'), ('suspended', 'Suspended'), ('settled', 'Settled')], default='open', max_length=16)),
                ('version', models.BigIntegerField(default=1, help_text='+1 with each change of its prices or status')),
                ('suspended_version', models.BigIntegerField(default=0, help_text='the version its last suspension gave it')),
                ('last_word_at', models.DateTimeField(help_text='when the feed last said anything of this market')),
                ('winners', models.JSONField(blank=True, default=list)),
                ('void', models.JSONField(blank=True, default=list)),
                ('settled_at', models.DateTimeField(blank=True, help_text='when its last result changed it', null=True)),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='markets', to='sportsbook.event')),
                ('feed', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='markets', to='sportsbook.feed')),
                ('watchdog_suspended', models.BooleanField(db_default=False, default=False, help_text="suspended by PAM's staleness watchdog, not by the feed")),
                ('breaker_suspended', models.BooleanField(db_default=False, default=False, help_text='suspended (or held suspended) by the suspend_in_play breaker')),
                ('throttle_suspended', models.BooleanField(db_default=False, default=False, help_text='suspended by the liability throttle: its exposure grew too fast')),
                ('throttled_at', models.DateTimeField(blank=True, help_text='when the liability throttle last suspended it', null=True)),
            ],
            options={
                'ordering': ['event', 'id'],
                'constraints': [models.UniqueConstraint(fields=('feed', 'market_id'), name='sportsbook_market_id_unique_per_feed'), models.CheckConstraint(condition=models.Q(('status__in', ['open', 'suspended', 'settled'])), name='sportsbook_market_status_known'), models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='sportsbook_market_version_positive'), models.CheckConstraint(condition=models.Q(('suspended_version__gte', 0), ('suspended_version__lte', models.F('version'))), name='sportsbook_market_suspended_version_range'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'suspended'), _negated=True), ('suspended_version__gte', 1), _connector='OR'), name='sportsbook_market_suspension_recorded'), models.CheckConstraint(condition=models.Q(models.Q(('settled_at__isnull', False), ('status', 'settled')), models.Q(models.Q(('status', 'settled'), _negated=True), ('settled_at__isnull', True)), _connector='OR'), name='sportsbook_market_settled_when_resulted'), models.CheckConstraint(condition=models.Q(('watchdog_suspended', False), ('status', 'suspended'), _connector='OR'), name='sportsbook_market_watchdog_suspension_is_a_suspension'), models.CheckConstraint(condition=models.Q(('breaker_suspended', False), models.Q(('status', 'suspended'), ('watchdog_suspended', False)), _connector='OR'), name='sportsbook_market_breaker_suspension_is_a_suspension'), models.CheckConstraint(condition=models.Q(('throttle_suspended', False), models.Q(('breaker_suspended', False), ('status', 'suspended'), ('watchdog_suspended', False)), ('status', 'settled'), _connector='OR'), name='sportsbook_market_throttle_suspension_is_a_suspension')],
                'permissions': [('resume_throttled_market', 'Can resume a market the liability throttle suspended')],
            },
        ),
        migrations.CreateModel(
            name='Selection',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('selection_id', models.CharField(help_text="the feed's id for the selection", max_length=100)),
                ('name', models.CharField(max_length=200)),
                ('price', models.DecimalField(decimal_places=2, max_digits=7)),
                ('position', models.PositiveSmallIntegerField()),
                ('market', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='selections', to='sportsbook.market')),
            ],
            options={
                'ordering': ['market', 'position', 'id'],
                'indexes': [models.Index(fields=['selection_id'], name='sportsbook_selection_feed_id')],
                'constraints': [models.UniqueConstraint(fields=('market', 'selection_id'), name='sportsbook_selection_id_unique_per_market'), models.CheckConstraint(condition=models.Q(('price__gt', 1)), name='sportsbook_selection_price_above_one')],
            },
        ),
        migrations.CreateModel(
            name='Breaker',
            fields=[
                ('name', models.CharField(choices=[('pre_match_only', 'Pre-match only'), ('cached_prices', 'Cached prices (delayed)'), ('suspend_in_play', 'Suspend all in play')], max_length=32, primary_key=True, serialize=False)),
                ('is_on', models.BooleanField(default=False)),
                ('changed_at', models.DateTimeField(blank=True, help_text='empty: never changed', null=True)),
                ('reason', models.TextField(blank=True)),
                ('changed_by', models.ForeignKey(blank=True, help_text='the approver; empty once changed: the automatic trigger', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='BreakerRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('turn_on', models.BooleanField(help_text='on (true) or off (false)')),
                ('reason', models.TextField()),
                ('requested_at', models.DateTimeField()),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='pending', max_length=16)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reason', models.TextField(blank=True, help_text='why it was rejected')),
                ('breaker', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='sportsbook.breaker')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-requested_at', '-id'],
                'permissions': [('approve_breakerrequest', "Can approve or reject another staff member's circuit-breaker change")],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'approved', 'rejected'])), name='sportsbook_breaker_request_status_known'), models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='sportsbook_breaker_request_has_reason'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('status', 'pending')), models.Q(models.Q(('status', 'pending'), _negated=True), ('decided_at__isnull', False), ('decided_by__isnull', False)), _connector='OR'), name='sportsbook_breaker_request_decided_when_not_pending'), models.CheckConstraint(condition=models.Q(('decided_by__isnull', True), models.Q(('decided_by', models.F('requested_by')), _negated=True), _connector='OR'), name='sportsbook_breaker_request_four_eyes'), models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('breaker',), name='sportsbook_breaker_one_pending_request')],
            },
        ),
        migrations.CreateModel(
            name='Bet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.CharField(default=apps.sportsbook.models.new_bet_id, editable=False, max_length=40, unique=True)),
                ('stake', models.BigIntegerField(help_text='minor units')),
                ('potential_payout', models.BigIntegerField(help_text='stake x the product of the prices taken, rounded down')),
                ('status', models.CharField(choices=[('pending', 'Pending (in-play delay)'), ('accepted', 'Accepted'), ('rejected', 'Rejected after the delay'), ('won', 'Won'), ('lost', 'Lost'), ('void', 'Void (stake back)')], max_length=16)),
                ('reject_reason', models.CharField(blank=True, choices=[('MARKET_SUSPENDED', 'A market was suspended during the delay'), ('PRICE_CHANGED', 'A price moved against the slip during the delay'), ('MARKET_SETTLED', 'A market was settled during the delay')], max_length=32)),
                ('accept_price_changes', models.CharField(choices=[('none', 'Only the price seen'), ('higher', 'The price seen or a better one'), ('any', 'Any price')], max_length=8)),
                ('idempotency_key', models.CharField(max_length=100)),
                ('request_fingerprint', models.CharField(max_length=64)),
                ('placed_at', models.DateTimeField()),
                ('release_at', models.DateTimeField(blank=True, null=True)),
                ('decided_at', models.DateTimeField(blank=True, help_text='when a pending bet was accepted or rejected', null=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('stake_transaction', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.transaction')),
                ('outcome_at', models.DateTimeField(blank=True, help_text='the latest result of its markets its settlement is based on', null=True)),
                ('payout', models.BigIntegerField(blank=True, help_text='minor units; empty until settled', null=True)),
                ('settle_lease_until', models.DateTimeField(blank=True, null=True)),
                ('settled_at', models.DateTimeField(blank=True, help_text='when its last settlement was', null=True)),
                ('settlement_count', models.PositiveIntegerField(db_default=0, default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['player', 'id'], name='sportsbook_bet_player_idx'), models.Index(condition=models.Q(('status', 'pending')), fields=['release_at'], name='sportsbook_bet_pending_idx'), models.Index(condition=models.Q(('status', 'accepted')), fields=['id'], name='sportsbook_bet_accepted_idx')],
                'constraints': [models.UniqueConstraint(fields=('player', 'idempotency_key'), name='sportsbook_bet_key_per_player'), models.CheckConstraint(condition=models.Q(('stake__gt', 0)), name='sportsbook_bet_stake_positive'), models.CheckConstraint(condition=models.Q(('potential_payout__gte', models.F('stake'))), name='sportsbook_bet_payout_covers_stake'), models.CheckConstraint(condition=models.Q(('accept_price_changes__in', ['none', 'higher', 'any'])), name='sportsbook_bet_price_changes_known'), models.CheckConstraint(condition=models.Q(models.Q(('reject_reason__in', ['MARKET_SUSPENDED', 'PRICE_CHANGED', 'MARKET_SETTLED']), ('status', 'rejected')), models.Q(models.Q(('status', 'rejected'), _negated=True), ('reject_reason', '')), _connector='OR'), name='sportsbook_bet_rejected_with_reason'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'pending'), _negated=True), models.Q(('decided_at__isnull', True), ('release_at__isnull', False)), _connector='OR'), name='sportsbook_bet_pending_has_release'), models.CheckConstraint(condition=models.Q(('status', 'pending'), ('release_at__isnull', True), ('decided_at__isnull', False), _connector='OR'), name='sportsbook_bet_released_when_decided'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'accepted', 'rejected', 'won', 'lost', 'void'])), name='sportsbook_bet_status_known'), models.CheckConstraint(condition=models.Q(models.Q(('outcome_at__isnull', False), ('payout__isnull', False), ('settled_at__isnull', False), ('settlement_count__gte', 1), ('status__in', ('won', 'lost', 'void'))), models.Q(models.Q(('status__in', ('won', 'lost', 'void')), _negated=True), ('outcome_at__isnull', True), ('payout__isnull', True), ('settled_at__isnull', True), ('settlement_count', 0)), _connector='OR'), name='sportsbook_bet_settled_with_payout'), models.CheckConstraint(condition=models.Q(('payout__isnull', True), models.Q(('payout__gte', 0), ('payout__lte', models.F('potential_payout'))), _connector='OR'), name='sportsbook_bet_payout_range'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'lost'), _negated=True), ('payout', 0), _connector='OR'), name='sportsbook_bet_lost_pays_nothing'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'void'), _negated=True), ('payout', models.F('stake')), _connector='OR'), name='sportsbook_bet_void_pays_the_stake')],
            },
        ),
        migrations.CreateModel(
            name='BetLeg',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField(help_text='its place in the slip, from 0')),
                ('price', models.DecimalField(decimal_places=2, help_text='the price taken', max_digits=7)),
                ('seen_price', models.DecimalField(decimal_places=2, help_text='the price the slip named', max_digits=7)),
                ('market_version', models.BigIntegerField(help_text="the market's version the player saw")),
                ('bet', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='legs', to='sportsbook.bet')),
                ('event', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sportsbook.event')),
                ('market', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sportsbook.market')),
                ('selection', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sportsbook.selection')),
            ],
            options={
                'ordering': ['bet', 'position'],
                'constraints': [models.UniqueConstraint(fields=('bet', 'position'), name='sportsbook_leg_position_unique'), models.UniqueConstraint(fields=('bet', 'market'), name='sportsbook_leg_market_unique'), models.CheckConstraint(condition=models.Q(('price__gt', 1), ('seen_price__gt', 1)), name='sportsbook_leg_prices_above_one'), models.CheckConstraint(condition=models.Q(('market_version__gte', 1)), name='sportsbook_leg_version_positive')],
            },
        ),
        migrations.CreateModel(
            name='Exposure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(choices=[('selection', 'Selection'), ('market', 'Market'), ('event', 'Event'), ('platform', 'Platform')], max_length=16)),
                ('target_id', models.BigIntegerField()),
                ('amount', models.BigIntegerField(default=0)),
                ('cap', models.BigIntegerField(blank=True, help_text="minor units; empty: the platform's default for this scope", null=True)),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency')),
                ('previous_window_amount', models.BigIntegerField(db_default=0, default=0)),
                ('window_amount', models.BigIntegerField(db_default=0, default=0)),
                ('window_started_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('scope', 'target_id', 'currency'), name='sportsbook_exposure_unique'), models.CheckConstraint(condition=models.Q(('scope__in', ['selection', 'market', 'event', 'platform'])), name='sportsbook_exposure_scope_known'), models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='sportsbook_exposure_not_negative'), models.CheckConstraint(condition=models.Q(('cap__isnull', True), ('cap__gte', 0), _connector='OR'), name='sportsbook_exposure_cap_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('scope', 'platform'), _negated=True), ('target_id', 0), _connector='OR'), name='sportsbook_exposure_platform_target'), models.CheckConstraint(condition=models.Q(('previous_window_amount__gte', 0), ('window_amount__gte', 0)), name='sportsbook_exposure_window_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='StakeFactor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('factor', models.DecimalField(decimal_places=2, max_digits=6)),
                ('reason', models.TextField(blank=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('player', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('factor__gte', 0), ('factor__lte', 1000)), name='sportsbook_stake_factor_range')],
            },
        ),
        migrations.CreateModel(
            name='BetSettlement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('n', models.PositiveIntegerField()),
                ('status', models.CharField(choices=[('pending', 'Pending (in-play delay)'), ('accepted', 'Accepted'), ('rejected', 'Rejected after the delay'), ('won', 'Won'), ('lost', 'Lost'), ('void', 'Void (stake back)')], max_length=16)),
                ('payout', models.BigIntegerField(help_text='minor units: what the bet pays in all after this settlement')),
                ('difference', models.BigIntegerField(help_text="payout minus the previous settlement's (the first: minus 0)")),
                ('outcome', models.JSONField()),
                ('market_settled_at', models.DateTimeField(help_text='the latest result of its markets it was based on')),
                ('settled_at', models.DateTimeField()),
                ('bet', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='settlements', to='sportsbook.bet')),
                ('transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.transaction')),
            ],
            options={
                'ordering': ['bet', 'n'],
                'constraints': [models.UniqueConstraint(fields=('bet', 'n'), name='sportsbook_settlement_once_per_n'), models.CheckConstraint(condition=models.Q(('n__gte', 1)), name='sportsbook_settlement_n_positive'), models.CheckConstraint(condition=models.Q(('status__in', ('won', 'lost', 'void'))), name='sportsbook_settlement_status'), models.CheckConstraint(condition=models.Q(('payout__gte', 0)), name='sportsbook_settlement_payout_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'lost'), _negated=True), ('payout', 0), _connector='OR'), name='sportsbook_settlement_lost_pays_nothing'), models.CheckConstraint(condition=models.Q(models.Q(('difference', 0), ('transaction__isnull', True)), models.Q(models.Q(('difference', 0), _negated=True), ('transaction__isnull', False)), _connector='OR'), name='sportsbook_settlement_transaction_when_moved'), models.CheckConstraint(condition=models.Q(('n__gt', 1), ('difference', models.F('payout')), _connector='OR'), name='sportsbook_settlement_first_pays_all')],
            },
        ),
        migrations.CreateModel(
            name='SettledMarket',
            fields=[
                ('market', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='+', serialize=False, to='sportsbook.market')),
                ('outcome_at', models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name='Breaker',
            name='request',
            field=models.ForeignKey(blank=True, help_text="the approved request of its last change; empty: the automatic trigger's", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sportsbook.breakerrequest'),
        ),
        migrations.AddConstraint(
            model_name='Breaker',
            constraint=models.CheckConstraint(condition=models.Q(('name__in', ['pre_match_only', 'cached_prices', 'suspend_in_play'])), name='sportsbook_breaker_name_known'),
        ),
        migrations.AddConstraint(
            model_name='Breaker',
            constraint=models.CheckConstraint(condition=models.Q(('is_on', False), ('changed_at__isnull', False), _connector='OR'), name='sportsbook_breaker_on_when_changed'),
        ),
        migrations.AddConstraint(
            model_name='Breaker',
            constraint=models.CheckConstraint(condition=models.Q(('changed_at__isnull', True), models.Q(('changed_by__isnull', False), ('request__isnull', False)), models.Q(('changed_by__isnull', True), ('is_on', True), ('request__isnull', True)), _connector='OR'), name='sportsbook_breaker_off_by_approval'),
        ),
        migrations.RunPython(
            code=forwards_0002,
            reverse_code=backwards_0002,
        ),
        migrations.RunPython(
            code=create_breakers_0004,
            reverse_code=migrations.RunPython.noop,
        ),
    ]
