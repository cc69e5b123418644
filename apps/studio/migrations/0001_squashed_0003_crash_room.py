"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    replaces = [('studio', '0001_sessions'), ('studio', '0002_rounds'), ('studio', '0003_crash_room')]

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Session',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_hash', models.CharField(max_length=64, unique=True)),
                ('player_id', models.CharField(help_text="PAM's id of the player, as the wallet API gives it", max_length=100)),
                ('currency', models.CharField(max_length=3)),
                ('game_code', models.CharField(max_length=64)),
                ('jurisdiction', models.CharField(blank=True, max_length=16)),
                ('min_cycle_ms', models.PositiveIntegerField(default=0, help_text="the shortest time between two rounds' starts")),
                ('autoplay_allowed', models.BooleanField(default=True)),
                ('show_session_info', models.BooleanField(default=False, help_text='net position and time shown in play')),
                ('opened_at', models.DateTimeField()),
                ('last_round_at', models.DateTimeField(blank=True, help_text='the start of the latest round', null=True)),
                ('staked', models.BigIntegerField(default=0)),
                ('returned', models.BigIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['player_id', 'opened_at'], name='studio_session_player')],
                'constraints': [models.CheckConstraint(condition=models.Q(('returned__gte', 0), ('staked__gte', 0)), name='studio_session_sums')],
            },
        ),
        migrations.CreateModel(
            name='Round',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('request_id', models.CharField(max_length=64)),
                ('round_id', models.CharField(max_length=40, unique=True)),
                ('fingerprint', models.CharField(help_text='SHA-256 of the request: a reused request_id must match', max_length=64)),
                ('autoplay', models.BooleanField(default=False)),
                ('stake', models.BigIntegerField(help_text="the round's whole stake, in minor units")),
                ('bets', models.JSONField(blank=True, default=list, help_text='roulette: the bets as the player placed them')),
                ('state', models.CharField(choices=[('opened', 'Opened'), ('bet_placed', 'Bet Placed'), ('outcome_drawn', 'Outcome Drawn'), ('settled', 'Settled'), ('rolled_back', 'Rolled Back'), ('refused', 'Refused')], default='opened', max_length=16)),
                ('outcome', models.JSONField(blank=True, null=True)),
                ('payout', models.BigIntegerField(blank=True, null=True)),
                ('refusal_code', models.CharField(blank=True, max_length=32)),
                ('answer_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('answer', models.JSONField(blank=True, help_text='what a resend of the request is answered, once final', null=True)),
                ('started_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('claimed_until', models.DateTimeField(blank=True, help_text='while a request or recovery carries the round on (locks.claim_round)', null=True)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rounds', to='studio.session')),
            ],
            options={
                'indexes': [models.Index(fields=['state', 'updated_at'], name='studio_round_state')],
                'constraints': [models.UniqueConstraint(fields=('session', 'request_id'), name='studio_round_request_once'), models.CheckConstraint(condition=models.Q(('stake__gt', 0)), name='studio_round_stake_positive'), models.CheckConstraint(condition=models.Q(('payout__isnull', True), ('payout__gte', 0), _connector='OR'), name='studio_round_payout')],
            },
        ),
        migrations.CreateModel(
            name='CrashChain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('commitment', models.CharField(help_text='s_0, hex: public', max_length=64, unique=True)),
                ('length', models.PositiveIntegerField(help_text='N: rounds the chain can play')),
                ('next_index', models.PositiveIntegerField(default=1, help_text='the chain index of the next round to open')),
                ('terminal_seed', models.CharField(help_text='s_N, hex: server-side only, never shown', max_length=64)),
                ('created_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='CrashRound',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveBigIntegerField(unique=True)),
                ('chain_index', models.PositiveIntegerField(help_text='k: the round plays s_k')),
                ('crash_x100', models.PositiveBigIntegerField()),
                ('phase', models.CharField(choices=[('betting', 'Betting'), ('running', 'Running'), ('crashed', 'Crashed')], default='betting', max_length=8)),
                ('betting_closes_at', models.DateTimeField()),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('crashed_at', models.DateTimeField(blank=True, null=True)),
                ('settled_at', models.DateTimeField(blank=True, help_text="every bet's win call answered", null=True)),
                ('seed', models.CharField(blank=True, help_text='s_k, hex: empty until the round crashed', max_length=64)),
                ('chain', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rounds', to='studio.crashchain')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('chain', 'chain_index'), name='studio_crash_round_chain_index'), models.CheckConstraint(condition=models.Q(('crash_x100__gte', 100)), name='studio_crash_round_point')],
            },
        ),
        migrations.CreateModel(
            name='CrashBet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('player_id', models.CharField(max_length=100)),
                ('currency', models.CharField(max_length=3)),
                ('stake', models.BigIntegerField()),
                ('cashout_x100', models.PositiveBigIntegerField(blank=True, null=True)),
                ('win', models.BigIntegerField(blank=True, null=True)),
                ('state', models.CharField(choices=[('pending', 'bet sent to the wallet'), ('accepted', 'in play'), ('cashed_out', 'cashed out'), ('lost', 'lost at the crash'), ('void', 'not taken (the wallet gave no answer; rolled back)')], default='pending', max_length=10)),
                ('settled', models.BooleanField(default=False, help_text="the wallet answered the round's win call")),
                ('placed_at', models.DateTimeField()),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='crash_bets', to='studio.session')),
                ('round', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bets', to='studio.crashround')),
            ],
            options={
                'indexes': [models.Index(fields=['settled', 'state'], name='studio_crash_bet_unsettled')],
                'constraints': [models.UniqueConstraint(fields=('round', 'session'), name='studio_crash_bet_one_per_session'), models.CheckConstraint(condition=models.Q(('stake__gt', 0)), name='studio_crash_bet_stake'), models.CheckConstraint(condition=models.Q(('win__gte', 0), ('win__isnull', True), _connector='OR'), name='studio_crash_bet_win')],
            },
        ),
    ]
