"""Squashed for fresh databases: each model created here is one CreateModel with its final fields,
indexes and constraints, so `migrate` renders it once instead of once per operation (the cost of
a fresh migrate). A database that applied the replaced migrations goes on with them; those files
stay.

The models keep the order they were first created in: content types and permissions are numbered
in it. A field pointing at a model created further down is added once that model exists,
with every field after it, so that the columns keep their order.

On SQLite an AlterField rebuilds the table with the altered column last: Alert's player is
created as it was and altered as 0014 did, so the embedded schema keeps that column order.

The replaced migrations' RunPython steps (triggers, seeds) come last, in their old order: none
needs an intermediate schema, and one in the middle would stop the folding. Their functions are
copied here so that this file outlives the replaced ones.

It starts at 0002 because accounts' 0004 depends on 0001; 0015 is left out because it drops the
index of a column created here (indexes of a CreateModel are only built when its migration ends)
and, on SQLite, moves that column to the end of the table."""

import datetime as dt

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


# From 0002_seed_jurisdiction_profiles.
EUR_2000_0002 = 200_000  # minor units: the default KYC threshold, EUR 2,000

PROFILES_0002 = [
    {
        "code": "UKGC",
        "name": "UK Gambling Commission",
        "is_default": True,
        "deposit_limit_cooling_off": dt.timedelta(hours=24),
        "other_limit_cooling_off": dt.timedelta(hours=24),
        "increase_needs_confirmation": True,
        "deposit_limit_at_registration": True,
        "reality_check_minutes": 60,
        "shortest_self_exclusion": "6m",
        "kyc_deposit_threshold": EUR_2000_0002,
    },
    {
        "code": "MGA",
        "name": "Malta Gaming Authority",
        "is_default": False,
        "deposit_limit_cooling_off": dt.timedelta(hours=24),
        "other_limit_cooling_off": dt.timedelta(days=7),
        "increase_needs_confirmation": False,
        "deposit_limit_at_registration": True,
        "reality_check_minutes": 60,
        "shortest_self_exclusion": "6m",
        "kyc_deposit_threshold": EUR_2000_0002,
    },
    {
        "code": "SGA",
        "name": "Spelinspektionen (Swedish Gambling Authority)",
        "is_default": False,
        "deposit_limit_cooling_off": dt.timedelta(hours=72),
        "other_limit_cooling_off": dt.timedelta(hours=72),
        "increase_needs_confirmation": False,
        "deposit_limit_at_registration": True,
        "reality_check_minutes": 60,
        "shortest_self_exclusion": "6m",
        "kyc_deposit_threshold": EUR_2000_0002,
    },
]


def seed_0002(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    for fields in PROFILES_0002:
        Profile.objects.get_or_create(code=fields["code"], defaults=fields)


def unseed_0002(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    Profile.objects.filter(code__in=[p["code"] for p in PROFILES_0002], brands__isnull=True).delete()


# From 0003_ledger_usage_index.
NAME_0003 = "compliance_tx_player_time_idx"


def create_0003(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = f"CREATE INDEX IF NOT EXISTS {NAME_0003} ON wallet_transaction (player_id, created_at) INCLUDE (kind, amount)"
    else:
        sql = f"CREATE INDEX IF NOT EXISTS {NAME_0003} ON wallet_transaction (player_id, created_at)"
    schema_editor.execute(sql)


def drop_0003(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_0003}")


# From 0004_staff_action_trail.
APPEND_ONLY_0004 = """
CREATE OR REPLACE FUNCTION compliance_staff_action_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_action_append_only: % on % is not allowed; the staff-action trail is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER compliance_staff_action_append_only BEFORE UPDATE OR DELETE ON compliance_staffaction
    FOR EACH ROW EXECUTE FUNCTION compliance_staff_action_reject_change();
"""


REVERSE_0004 = """
DROP TRIGGER IF EXISTS compliance_staff_action_append_only ON compliance_staffaction;
DROP FUNCTION IF EXISTS compliance_staff_action_reject_change();
"""


def forwards_0004(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_0004, params=None)


def backwards_0004(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_0004, params=None)


# From 0006_rule_engine.
IMMUTABLE_VERSIONS_0006 = """
CREATE OR REPLACE FUNCTION compliance_rule_version_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An UPDATE that writes the same values changes nothing (a test database restored from its
    -- serialised copy saves every row again): only a real change is refused.
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'rule_version_immutable: % on % is not allowed; a change of a rule is a new version',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER compliance_rule_version_immutable BEFORE UPDATE OR DELETE ON compliance_ruleversion
    FOR EACH ROW EXECUTE FUNCTION compliance_rule_version_reject_change();
"""


REVERSE_0006 = """
DROP TRIGGER IF EXISTS compliance_rule_version_immutable ON compliance_ruleversion;
DROP FUNCTION IF EXISTS compliance_rule_version_reject_change();
"""


def forwards_0006(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_VERSIONS_0006, params=None)


def backwards_0006(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_0006, params=None)


# From 0007_seed_rules.
RULES_0007 = [
    {
        "code": "deposit-threshold-24h",
        "type": "deposit_threshold",
        # EUR 1,000 within 24 hours; another currency's players at the reference rates.
        "parameters": {"amount": 100_000, "currency": "EUR", "window_seconds": 24 * 3600},
        "severity": "medium",
        "actions": ["alert"],
    },
    {
        "code": "deposit-velocity-1h",
        "type": "deposit_velocity",
        "parameters": {"count": 5, "window_seconds": 3600},
        "severity": "low",
        "actions": ["alert"],
    },
    {
        "code": "micro-bets-60s",
        "type": "micro_bet",
        # More than 200 bets of at most 10 minor units within 60 seconds.
        "parameters": {"max_bets": 200, "window_seconds": 60, "max_stake": 10},
        "severity": "high",
        "actions": ["alert", "lock"],
    },
]


REASON_0007 = "seeded default (disabled until an operator enables it)"


def seed_0007(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    for spec in RULES_0007:
        if Rule.objects.filter(code=spec["code"]).exists():
            continue
        rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **spec)
        fields = {key: value for key, value in spec.items() if key != "code"}
        RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON_0007, **fields)


# From 0008_cases.
APPEND_ONLY_COMMENTS_0008 = """
CREATE OR REPLACE FUNCTION compliance_case_comment_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An UPDATE that writes the same values changes nothing (a test database restored from its
    -- serialised copy saves every row again): only a real change is refused.
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'case_comment_append_only: % on % is not allowed; add a comment instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER compliance_case_comment_append_only BEFORE UPDATE OR DELETE ON compliance_casecomment
    FOR EACH ROW EXECUTE FUNCTION compliance_case_comment_reject_change();
"""


REVERSE_0008 = """
DROP TRIGGER IF EXISTS compliance_case_comment_append_only ON compliance_casecomment;
DROP FUNCTION IF EXISTS compliance_case_comment_reject_change();
"""


def forwards_0008(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_COMMENTS_0008, params=None)


def backwards_0008(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_0008, params=None)


# From 0010_cashier_rules.
RULES_0010 = [
    {
        "code": "structuring-7d",
        "type": "structuring",
        # 3 deposits within 10 % below EUR 2,000 (EUR 1,800 to 1,999.99) in 7 days: near the line
        # where an operator's KYC or reporting starts; another currency's players at the rates.
        "parameters": {"threshold": 200_000, "currency": "EUR", "below_percent": 10, "count": 3,
                       "window_seconds": 7 * 24 * 3600},
        "severity": "medium",
        "actions": ["alert"],
    },
    {
        "code": "rapid-cycling-24h",
        "type": "rapid_cycling",
        # A withdrawal requested when the bets of the last 24 h are under half the deposits of
        # the last 24 h, and those deposits are at least EUR 100.
        "parameters": {"turnover_percent": 50, "min_deposits": 10_000, "currency": "EUR",
                       "window_seconds": 24 * 3600},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "failed-deposits-1h",
        "type": "failed_deposits",
        # 5 failed deposits in a row (no successful one between) within an hour: card testing.
        "parameters": {"count": 5, "window_seconds": 3600},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "loss-chasing-1h",
        "type": "loss_chasing",
        # 3 deposits, each larger than the one before, within an hour of it, and made with under
        # 10 % of the one before left: responsible gambling, so the player gets a notice too.
        "parameters": {"count": 3, "window_seconds": 3600, "low_balance_percent": 10},
        "severity": "medium",
        "actions": ["alert", "notice"],
    },
]  # fmt: skip


REASON_0010 = "seeded default (disabled until an operator enables it)"


def seed_0010(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    for spec in RULES_0010:
        if Rule.objects.filter(code=spec["code"]).exists():
            continue
        rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **spec)
        fields = {key: value for key, value in spec.items() if key != "code"}
        RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON_0010, **fields)


# From 0011_identity_marks.
RULES_0011 = [
    {
        "code": "shared-instrument-or-device-30d",
        "type": "shared_identity",
        # One card or one device behind two accounts within 30 days: multi-accounting, or a
        # bonus or chargeback ring.
        "parameters": {"accounts": 2, "window_seconds": 30 * 24 * 3600, "kinds": ["instrument", "device"]},
        "severity": "high",
        "actions": ["alert"],
    },
    {
        "code": "shared-address-24h",
        "type": "shared_identity",
        # Households and offices share an address: three accounts within a day, and low.
        "parameters": {"accounts": 3, "window_seconds": 24 * 3600, "kinds": ["address"]},
        "severity": "low",
        "actions": ["alert"],
    },
]


REASON_0011 = "seeded default (disabled until an operator enables it)"


def seed_0011(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for spec in RULES_0011:
        if Rule.objects.filter(code=spec["code"]).exists():
            continue
        rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **spec)
        fields = {key: value for key, value in spec.items() if key != "code"}
        RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON_0011, **fields)


# From 0012_night_play_rule.
RULE_0012 = {
    "code": "night-play",
    "type": "night_play",
    # A session of at least 3 hours, at least 60 % of it between midnight and 6 a.m. in London.
    "parameters": {
        "night_start_hour": 0,
        "night_end_hour": 6,
        "timezone": "Europe/London",
        "share_percent": 60,
        "min_minutes": 180,
    },
    "severity": "low",
    "actions": ["alert", "notice"],
}


REASON_0012 = "seeded default (disabled until an operator enables it)"


def seed_0012(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    if Rule.objects.filter(code=RULE_0012["code"]).exists():
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    rule = Rule.objects.create(enabled=False, version=1, updated_at=now, **RULE_0012)
    fields = {key: value for key, value in RULE_0012.items() if key != "code"}
    RuleVersion.objects.create(rule=rule, version=1, enabled=False, created_at=now, reason=REASON_0012, **fields)


# From 0013_profile_play_rules.
RULES_0013 = {
    # UKGC RTS 14: a slot's game cycle of at least 2.5 seconds, no autoplay, the net position and
    # the time played shown throughout the session.
    "UKGC": {"min_game_cycle_ms": 2_500, "autoplay_allowed": False, "session_info_in_play": True},
    # MGA: no pace or autoplay rule; its player protection rests on limits and reality checks.
    "MGA": {"min_game_cycle_ms": 0, "autoplay_allowed": True, "session_info_in_play": False},
    # Spelinspektionen: a slot round of at least three seconds and no automatic play; the player
    # is to follow what they have played and spent, so the session's result and time are shown.
    "SGA": {"min_game_cycle_ms": 3_000, "autoplay_allowed": False, "session_info_in_play": True},
}


def seed_0013(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    for code, rules in RULES_0013.items():
        Profile.objects.filter(code=code).update(**rules)


# From 0014_game_rtp_drift.
RULE_0014 = {
    "code": "game-rtp-drift",
    "type": "game_rtp_drift",
    # Judged from 1,000 rounds of a band, outside RTP ± 3σ/√n (stake-weighted), over 30 days.
    "parameters": {"min_rounds": 1000, "sigmas": 3, "window_seconds": 30 * 24 * 3600},
    "severity": "medium",
    "actions": ["alert"],
}


REASON_0014 = "seeded default (enabled: alerts only, on games whose declared RTP and σ are set)"


def seed_0014(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleVersion = apps.get_model("compliance", "RuleVersion")
    if Rule.objects.filter(code=RULE_0014["code"]).exists():
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # whole seconds: a JSON copy of the row is the row
    rule = Rule.objects.create(enabled=True, version=1, updated_at=now, **RULE_0014)
    fields = {key: value for key, value in RULE_0014.items() if key != "code"}
    RuleVersion.objects.create(rule=rule, version=1, enabled=True, created_at=now, reason=REASON_0014, **fields)


class Migration(migrations.Migration):

    replaces = [('compliance', '0002_seed_jurisdiction_profiles'), ('compliance', '0003_ledger_usage_index'), ('compliance', '0004_staff_action_trail'), ('compliance', '0005_kyc_threshold_currency'), ('compliance', '0006_rule_engine'), ('compliance', '0007_seed_rules'), ('compliance', '0008_cases'), ('compliance', '0009_rule_types'), ('compliance', '0010_cashier_rules'), ('compliance', '0011_identity_marks'), ('compliance', '0012_night_play_rule'), ('compliance', '0013_profile_play_rules'), ('compliance', '0014_game_rtp_drift')]

    dependencies = [
        ('accounts', '0007_player_bonus_state'),
        ('compliance', '0001_initial'),
        ('wallet', '0003_adjust_balance_permission'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StaffActionHead',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('chain_hash', models.CharField(max_length=64)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='staff_action_head_single_row')],
            },
        ),
        migrations.CreateModel(
            name='StaffAction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('action', models.CharField(help_text='a stable code: admin.change, limit.set, wallet.adjust …', max_length=100)),
                ('target_type', models.CharField(help_text='app_label.model', max_length=100)),
                ('target_id', models.CharField(help_text="the object's primary key", max_length=255)),
                ('before', models.JSONField(blank=True, default=dict)),
                ('after', models.JSONField(blank=True, default=dict)),
                ('reason', models.TextField(blank=True)),
                ('previous_hash', models.CharField(max_length=64)),
                ('chain_hash', models.CharField(max_length=64)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('system_actor', models.CharField(blank=True, default='', max_length=64)),
            ],
            options={
                'ordering': ['-pk'],
                'indexes': [models.Index(fields=['target_type', 'target_id'], name='staff_action_target_idx')],
                'constraints': [models.UniqueConstraint(fields=('previous_hash',), name='staff_action_one_successor')],
            },
        ),
        migrations.CreateModel(
            name='Rule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='a stable name, e.g. micro-bets-60s', max_length=64, unique=True)),
                ('type', models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)'), ('failed_deposits', 'Failed deposits in a row (card testing)'), ('structuring', 'Structuring (deposits just below a threshold)'), ('rapid_cycling', 'Rapid cycling (withdrawal after little wagering)'), ('loss_chasing', 'Loss chasing (rising deposits after losses)'), ('night_play', 'Night play (a session mostly through the night)'), ('shared_identity', 'Shared identity (an instrument, device or address shared)'), ('game_rtp_drift', "Game RTP drift (a game's return outside its expected band)")], max_length=32)),
                ('parameters', models.JSONField(default=dict)),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], default='medium', max_length=8)),
                ('actions', models.JSONField(default=list, help_text='a list among alert, notice, limit, require_kyc, lock, freeze')),
                ('enabled', models.BooleanField(default=False)),
                ('version', models.PositiveIntegerField(default=0, help_text='the number of the current RuleVersion')),
                ('updated_at', models.DateTimeField()),
                ('brand', models.ForeignKey(blank=True, help_text='empty: every brand', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.brand')),
                ('jurisdiction', models.ForeignKey(blank=True, help_text='empty: every jurisdiction', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.jurisdictionprofile')),
            ],
            options={
                'ordering': ['code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('severity__in', ['low', 'medium', 'high'])), name='rule_severity_valid'), models.CheckConstraint(condition=models.Q(('type__in', ['deposit_threshold', 'deposit_velocity', 'micro_bet', 'failed_deposits', 'structuring', 'rapid_cycling', 'loss_chasing', 'night_play', 'shared_identity', 'game_rtp_drift'])), name='rule_type_valid')],
            },
        ),
        migrations.CreateModel(
            name='RuleVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('type', models.CharField(choices=[('deposit_threshold', 'Deposit threshold (sum within a window)'), ('deposit_velocity', 'Deposit velocity (count within a window)'), ('micro_bet', 'Micro-bet abuse (tiny stakes within a window)'), ('failed_deposits', 'Failed deposits in a row (card testing)'), ('structuring', 'Structuring (deposits just below a threshold)'), ('rapid_cycling', 'Rapid cycling (withdrawal after little wagering)'), ('loss_chasing', 'Loss chasing (rising deposits after losses)'), ('night_play', 'Night play (a session mostly through the night)'), ('shared_identity', 'Shared identity (an instrument, device or address shared)'), ('game_rtp_drift', "Game RTP drift (a game's return outside its expected band)")], max_length=32)),
                ('parameters', models.JSONField(default=dict)),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=8)),
                ('actions', models.JSONField(default=list)),
                ('enabled', models.BooleanField()),
                ('created_at', models.DateTimeField()),
                ('reason', models.TextField(blank=True)),
                ('brand', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.brand')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('jurisdiction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.jurisdictionprofile')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='compliance.rule')),
            ],
            options={
                'ordering': ['rule', '-version'],
                'constraints': [models.UniqueConstraint(fields=('rule', 'version'), name='rule_version_unique')],
            },
        ),
        migrations.CreateModel(
            name='RuleFiring',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('window_start', models.DateTimeField(help_text="the start of the firing window (the rule's window, aligned)")),
                ('value', models.BigIntegerField(help_text='the sum or count that reached the threshold')),
                ('threshold', models.BigIntegerField()),
                ('event_id', models.BigIntegerField(help_text='the outbox event that made it fire')),
                ('actions', models.JSONField(default=list)),
                ('created_at', models.DateTimeField()),
                ('player', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('rule_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='compliance.ruleversion')),
                ('subject', models.CharField(blank=True, default='', max_length=240)),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
                'constraints': [models.UniqueConstraint(fields=('rule_version', 'player', 'window_start'), name='rule_fires_once_per_window'), models.UniqueConstraint(condition=models.Q(('player__isnull', True)), fields=('rule_version', 'subject', 'window_start'), name='rule_fires_once_per_window_and_subject'), models.CheckConstraint(condition=models.Q(models.Q(('player__isnull', False), ('subject', '')), models.Q(('player__isnull', True), models.Q(('subject', ''), _negated=True)), _connector='OR'), name='rule_firing_player_xor_subject')],
            },
        ),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=8)),
                ('status', models.CharField(choices=[('open', 'Open')], default='open', max_length=8)),
                ('event_ids', models.JSONField(default=list)),
                ('value', models.BigIntegerField()),
                ('threshold', models.BigIntegerField()),
                ('created_at', models.DateTimeField()),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
                ('firing', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='alert', to='compliance.rulefiring')),
                ('rule_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='compliance.ruleversion')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='WindowBucket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('metric', models.CharField(max_length=40)),
                ('bucket_start', models.BigIntegerField()),
                ('total', models.BigIntegerField(default=0)),
                ('count', models.IntegerField(default=0)),
                ('event_ids', models.JSONField(default=list)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'db_table': 'compliance_window_bucket',
                'constraints': [models.UniqueConstraint(fields=('player', 'metric', 'bucket_start'), name='window_bucket_unique')],
            },
        ),
        migrations.CreateModel(
            name='Case',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200)),
                ('status', models.CharField(choices=[('open', 'Open'), ('investigating', 'Investigating'), ('resolved', 'Resolved')], default='open', max_length=16)),
                ('outcome', models.CharField(blank=True, choices=[('no_action', 'No action needed'), ('sar_filed', 'Suspicious-activity report filed'), ('account_closed', 'Account closed'), ('other', 'Other (see the note)')], max_length=16)),
                ('resolution_note', models.TextField(blank=True)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('period_start', models.DateTimeField()),
                ('period_end', models.DateTimeField()),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['status', '-created_at'], name='case_status_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['open', 'investigating', 'resolved'])), name='case_status_valid'), models.CheckConstraint(condition=models.Q(models.Q(('outcome__in', ['no_action', 'sar_filed', 'account_closed', 'other']), ('resolved_at__isnull', False), ('status', 'resolved'), models.Q(('resolution_note', ''), _negated=True)), models.Q(models.Q(('status', 'resolved'), _negated=True), ('outcome', ''), ('resolved_at__isnull', True)), _connector='OR'), name='case_outcome_when_resolved'), models.CheckConstraint(condition=models.Q(('period_start__lt', models.F('period_end'))), name='case_period_valid')],
            },
        ),
        migrations.CreateModel(
            name='CaseAttachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(upload_to='cases/%Y/%m/')),
                ('name', models.CharField(help_text="the file's name as uploaded", max_length=200)),
                ('content_type', models.CharField(max_length=100)),
                ('size', models.PositiveIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField()),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='compliance.case')),
                ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='CaseComment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField()),
                ('created_at', models.DateTimeField()),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='comments', to='compliance.case')),
            ],
            options={
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='RuleRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=40)),
                ('count', models.IntegerField(default=0, help_text='the events of the run so far')),
                ('started_at', models.BigIntegerField(help_text="the run's first event (Unix seconds): its firing window")),
                ('last_at', models.BigIntegerField(help_text="the run's last event (Unix seconds)")),
                ('last_value', models.BigIntegerField(default=0, help_text="the last event's amount (minor units)")),
                ('events', models.JSONField(default=list)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'db_table': 'compliance_rule_run',
                'constraints': [models.UniqueConstraint(fields=('player', 'key'), name='rule_run_unique')],
            },
        ),
        migrations.CreateModel(
            name='IdentityMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('instrument', 'Payment instrument'), ('device', 'Device'), ('address', 'Network address')], max_length=16)),
                ('value', models.CharField(max_length=64)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField()),
                ('last_event_id', models.BigIntegerField(default=0, help_text='the outbox event that last saw it (0: none)')),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player')),
            ],
            options={
                'db_table': 'compliance_identity_mark',
                'indexes': [models.Index(fields=['kind', 'value', 'last_seen'], name='identity_mark_seen_idx')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'value', 'player'), name='identity_mark_unique'), models.CheckConstraint(condition=models.Q(('kind__in', ['instrument', 'device', 'address'])), name='identity_mark_kind_valid')],
            },
        ),
        migrations.AddField(
            model_name='Alert',
            name='case',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='compliance.case'),
        ),
        migrations.AddField(
            model_name='Alert',
            name='detail',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddIndex(
            model_name='Alert',
            index=models.Index(fields=['status', '-created_at'], name='alert_status_idx'),
        ),
        migrations.AlterField(
            model_name='Alert',
            name='player',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.player'),
        ),
        migrations.AddField(
            model_name='jurisdictionprofile',
            name='kyc_threshold_currency',
            field=models.ForeignKey(default='EUR', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.currency'),
        ),
        migrations.AlterField(
            model_name='jurisdictionprofile',
            name='kyc_deposit_threshold',
            field=models.BigIntegerField(help_text="cumulative deposits (minor units of the threshold's currency) an unverified player may make"),
        ),
        migrations.AddField(
            model_name='jurisdictionprofile',
            name='min_game_cycle_ms',
            field=models.PositiveIntegerField(default=0, help_text='shortest time between the starts of two game rounds, ms (0: no minimum)'),
        ),
        migrations.AddField(
            model_name='jurisdictionprofile',
            name='autoplay_allowed',
            field=models.BooleanField(default=True, help_text='whether games may offer autoplay'),
        ),
        migrations.AddField(
            model_name='jurisdictionprofile',
            name='session_info_in_play',
            field=models.BooleanField(default=False, help_text="whether the game shows the session's net position and elapsed time while playing"),
        ),
        migrations.RunPython(
            code=seed_0002,
            reverse_code=unseed_0002,
        ),
        migrations.RunPython(
            code=create_0003,
            reverse_code=drop_0003,
        ),
        migrations.RunPython(
            code=forwards_0004,
            reverse_code=backwards_0004,
        ),
        migrations.RunPython(
            code=forwards_0006,
            reverse_code=backwards_0006,
        ),
        migrations.RunPython(
            code=seed_0007,
            reverse_code=migrations.RunPython.noop,
        ),
        migrations.RunPython(
            code=forwards_0008,
            reverse_code=backwards_0008,
        ),
        migrations.RunPython(
            code=seed_0010,
            reverse_code=migrations.RunPython.noop,
        ),
        migrations.RunPython(
            code=seed_0011,
            reverse_code=migrations.RunPython.noop,
        ),
        migrations.RunPython(
            code=seed_0012,
            reverse_code=migrations.RunPython.noop,
        ),
        migrations.RunPython(
            code=seed_0013,
            reverse_code=migrations.RunPython.noop,
        ),
        migrations.RunPython(
            code=seed_0014,
            reverse_code=migrations.RunPython.noop,
        ),
    ]
