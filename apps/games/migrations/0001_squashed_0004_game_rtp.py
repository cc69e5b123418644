"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it. A field pointing at a model created further down is added once that model exists,
with every field after it, so that the columns keep their order."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    replaces = [('games', '0001_initial'), ('games', '0002_game_type'), ('games', '0003_provider_launch_url'), ('games', '0004_game_rtp')]

    initial = True

    dependencies = [
        ('accounts', '0003_staff_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='Game',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=100)),
                ('name', models.CharField(max_length=200)),
                ('enabled', models.BooleanField(default=True)),
            ],
            options={
                'ordering': ['provider', 'code'],
                'permissions': [('view_live_rtp', 'Can view the live RTP report')],
            },
        ),
        migrations.CreateModel(
            name='Provider',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=64, unique=True)),
                ('name', models.CharField(blank=True, max_length=100)),
                ('secret', models.CharField(max_length=256)),
                ('enabled', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('launch_url', models.CharField(blank=True, help_text="the game page's URL, {game} for the game's code; relative (/studio/play/{game}/) for one served by PAM itself; blank: its games cannot be launched from PAM", max_length=500)),
            ],
            options={
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='LaunchToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('used_at', models.DateTimeField(blank=True, null=True)),
                ('game', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='games.game')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.player')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='games.provider')),
            ],
        ),
        migrations.AddField(
            model_name='Game',
            name='provider',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='games', to='games.provider'),
        ),
        migrations.AddField(
            model_name='Game',
            name='game_type',
            field=models.CharField(choices=[('slots', 'Slots'), ('table', 'Table game'), ('live', 'Live casino'), ('crash', 'Crash'), ('other', 'Other')], default='slots', max_length=16),
        ),
        migrations.AddField(
            model_name='Game',
            name='declared_rtp',
            field=models.DecimalField(blank=True, decimal_places=10, help_text='expected return per unit staked, e.g. 0.9729729730 for 97.30 %; blank: not monitored', max_digits=12, null=True),
        ),
        migrations.AddField(
            model_name='Game',
            name='return_sigma',
            field=models.DecimalField(blank=True, decimal_places=10, help_text="standard deviation of one round's return per unit staked (sigma); blank: not monitored", max_digits=14, null=True),
        ),
        migrations.AddConstraint(
            model_name='Game',
            constraint=models.UniqueConstraint(fields=('provider', 'code'), name='game_code_unique_per_provider'),
        ),
        migrations.AddConstraint(
            model_name='Game',
            constraint=models.CheckConstraint(condition=models.Q(('game_type__in', ['slots', 'table', 'live', 'crash', 'other'])), name='game_type_known'),
        ),
        migrations.AddConstraint(
            model_name='Game',
            constraint=models.CheckConstraint(condition=models.Q(('declared_rtp__isnull', True), models.Q(('declared_rtp__gt', 0), ('declared_rtp__lt', 10)), _connector='OR'), name='game_declared_rtp_range'),
        ),
        migrations.AddConstraint(
            model_name='Game',
            constraint=models.CheckConstraint(condition=models.Q(('return_sigma__isnull', True), ('return_sigma__gt', 0), _connector='OR'), name='game_return_sigma_positive'),
        ),
    ]
