"""The game RTP drift rule (docs/rtp.md, docs/rules.md): firings and alerts about a game (no
player; the firing's `subject` names the game, currency and stake band), and the seeded rule,
**enabled**, unlike the player rules (0007_seed_rules): it only raises alerts, acts on no player,
and judges only the games whose declared RTP and σ are set in the catalogue, so it cannot surprise
a player or an operator. Version 1 is the seed's, with no staff user. The reverse keeps the rule:
versions are immutable."""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models


RULE = {
    "code": "game-rtp-drift",
    "type": "game_rtp_drift",
    # Judged from 1,000 rounds of a band, outside RTP ± 3σ/√n (stake-weighted), over 30 days.
    "parameters": {"min_rounds": 1000, "sigmas": 3, "window_seconds": 30 * 24 * 3600},
    "severity": "medium",
    "actions": ["alert"],
}

REASON = "seeded default (enabled: alerts only, on games whose declared RTP and σ are set)"


def seed(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    if Rule.objects.filter(code=RULE["code"]).exists():
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    rule = Rule.objects.create(enabled=True, version=1, updated_at=now, **RULE)
    fields = {key: value for key, value in RULE.items() if key != "code"}
    RuleVersion.objects.create(rule=rule, version=1, enabled=True, created_at=now, reason=REASON, **fields)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_player_bonus_state'),
        ('compliance', '0013_profile_play_rules'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='rule',
            name='rule_type_valid',
        ),
        migrations.AddField(
            model_name='rulefiring',
            name='subject',
            field=models.CharField(blank=True, default='', max_length=240),
        ),
        migrations.AlterField(
            model_name='alert',
            name='player',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player'),
        ),
        migrations.AlterField(
            model_name='rule',
            name='type',
            field=models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)'), ('failed_deposits', 'Failed deposits in a row (card testing)'), ('structuring', 'Structuring (deposits just below a threshold)'), ('rapid_cycling', 'Rapid cycling (withdrawal after little wagering)'), ('loss_chasing', 'Loss chasing (rising deposits after losses)'), ('night_play', 'Night play (a session mostly through the night)'), ('shared_identity', 'Shared identity (an instrument, device or address shared)'), ('game_rtp_drift', "Game RTP drift (a game's return outside its expected band)")], max_length=32),
        ),
        migrations.AlterField(
            model_name='rulefiring',
            name='player',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player'),
        ),
        migrations.AlterField(
            model_name='ruleversion',
            name='type',
            field=models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)'), ('failed_deposits', 'Failed deposits in a row (card testing)'), ('structuring', 'Structuring (deposits just below a threshold)'), ('rapid_cycling', 'Rapid cycling (withdrawal after little wagering)'), ('loss_chasing', 'Loss chasing (rising deposits after losses)'), ('night_play', 'Night play (a session mostly through the night)'), ('shared_identity', 'Shared identity (an instrument, device or address shared)'), ('game_rtp_drift', "Game RTP drift (a game's return outside its expected band)")], max_length=32),
        ),
        migrations.AddConstraint(
            model_name='rule',
            constraint=models.CheckConstraint(condition=models.Q(('type__in', ['deposit_threshold', 'deposit_velocity', 'micro_bet', 'failed_deposits', 'structuring', 'rapid_cycling', 'loss_chasing', 'night_play', 'shared_identity', 'game_rtp_drift'])), name='rule_type_valid'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.UniqueConstraint(condition=models.Q(('player__isnull', True)), fields=('rule_version', 'subject', 'window_start'), name='rule_fires_once_per_window_and_subject'),
        ),
        migrations.AddConstraint(
            model_name='rulefiring',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('player__isnull', False), ('subject', '')), models.Q(('player__isnull', True), models.Q(('subject', ''), _negated=True)), _connector='OR'), name='rule_firing_player_xor_subject'),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
