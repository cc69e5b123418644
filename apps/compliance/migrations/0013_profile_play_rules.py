"""The jurisdiction profiles' rules for play (docs/player-protection.md, "Rules for play"): the
shortest game cycle, whether autoplay is allowed, whether the session's net position and elapsed
time are shown in play. The seeded profiles get their regulator's values; the reverse step leaves
the rows to the schema change, which drops the columns."""

from django.db import migrations, models

RULES = {
    # UKGC RTS 14: a slot's game cycle of at least 2.5 seconds, no autoplay, the net position and
    # the time played shown throughout the session.
    "UKGC": {"min_game_cycle_ms": 2_500, "autoplay_allowed": False, "session_info_in_play": True},
    # MGA: no pace or autoplay rule; its player protection rests on limits and reality checks.
    "MGA": {"min_game_cycle_ms": 0, "autoplay_allowed": True, "session_info_in_play": False},
    # Spelinspektionen: a slot round of at least three seconds and no automatic play; the player
    # is to follow what they have played and spent, so the session's result and time are shown.
    "SGA": {"min_game_cycle_ms": 3_000, "autoplay_allowed": False, "session_info_in_play": True},
}


def seed(apps, schema_editor):
    Profile = apps.get_model("compliance", "JurisdictionProfile")
    for code, rules in RULES.items():
        Profile.objects.filter(code=code).update(**rules)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0012_night_play_rule")]

    operations = [
        migrations.AddField(
            model_name="jurisdictionprofile",
            name="min_game_cycle_ms",
            field=models.PositiveIntegerField(
                default=0, help_text="shortest time between the starts of two game rounds, ms (0: no minimum)"
            ),
        ),
        migrations.AddField(
            model_name="jurisdictionprofile",
            name="autoplay_allowed",
            field=models.BooleanField(default=True, help_text="whether games may offer autoplay"),
        ),
        migrations.AddField(
            model_name="jurisdictionprofile",
            name="session_info_in_play",
            field=models.BooleanField(
                default=False,
                help_text="whether the game shows the session's net position and elapsed time while playing",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
