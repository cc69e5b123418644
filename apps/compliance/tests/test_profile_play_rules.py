"""The jurisdiction profiles' rules for play (docs/player-protection.md, "Rules for play"): seeded
per regulator by migration 0013, listed and edited in the admin."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance.models import JurisdictionProfile

pytestmark = pytest.mark.django_db


def test_the_seeded_profiles_carry_their_regulators_rules_for_play():
    rules = {
        p.code: (p.min_game_cycle_ms, p.autoplay_allowed, p.session_info_in_play)
        for p in JurisdictionProfile.objects.filter(code__in=["UKGC", "MGA", "SGA"])
    }
    assert rules == {"UKGC": (2_500, False, True), "MGA": (0, True, False), "SGA": (3_000, False, True)}


def test_the_admin_lists_and_edits_the_rules_for_play(client):
    client.force_login(make_staff(StaffRole.ADMIN))
    profile = JurisdictionProfile.objects.get(code="MGA")

    listing = client.get("/backoffice/compliance/jurisdictionprofile/").content.decode()
    form = client.get(f"/backoffice/compliance/jurisdictionprofile/{profile.pk}/change/").content.decode()

    for column in ("Min game cycle ms", "Autoplay allowed", "Session info in play"):
        assert column in listing
    for field in ("min_game_cycle_ms", "autoplay_allowed", "session_info_in_play"):
        assert f'name="{field}"' in form
