"""The three seeded jurisdiction profiles (UKGC, MGA, SGA). Admins edit them afterwards; the reverse
removes only profiles no brand uses."""

import datetime as dt

from django.db import migrations

EUR_2000 = 200_000  # minor units: the default KYC threshold, EUR 2,000

PROFILES = [
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
        "kyc_deposit_threshold": EUR_2000,
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
        "kyc_deposit_threshold": EUR_2000,
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
        "kyc_deposit_threshold": EUR_2000,
    },
]


def seed(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    for fields in PROFILES:
        Profile.objects.get_or_create(code=fields["code"], defaults=fields)


def unseed(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    Profile.objects.filter(code__in=[p["code"] for p in PROFILES], brands__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial"), ("accounts", "0004_player_protection_fields")]
    operations = [migrations.RunPython(seed, unseed)]
