"""Jurisdiction profiles: seeded with the default numbers, one per brand, the default otherwise."""

import datetime as dt

import pytest

from apps.accounts.tests.factories import make_brand, make_player
from apps.compliance import selectors
from apps.compliance.models import JurisdictionProfile

pytestmark = pytest.mark.django_db


def test_the_three_profiles_are_seeded_with_the_issues_values():
    profiles = {p.code: p for p in JurisdictionProfile.objects.all()}

    assert set(profiles) == {"UKGC", "MGA", "SGA"}
    ukgc, mga, sga = profiles["UKGC"], profiles["MGA"], profiles["SGA"]
    assert (ukgc.deposit_limit_cooling_off, ukgc.other_limit_cooling_off) == (dt.timedelta(hours=24),) * 2
    assert ukgc.increase_needs_confirmation is True
    assert (mga.deposit_limit_cooling_off, mga.other_limit_cooling_off) == (
        dt.timedelta(hours=24),
        dt.timedelta(days=7),
    )
    assert mga.increase_needs_confirmation is False
    assert (sga.deposit_limit_cooling_off, sga.other_limit_cooling_off) == (dt.timedelta(hours=72),) * 2
    assert {p.kyc_deposit_threshold for p in profiles.values()} == {200_000}
    assert [p.code for p in profiles.values() if p.is_default] == ["UKGC"]


def test_a_brand_without_a_profile_runs_under_the_default():
    player = make_player()

    assert selectors.get_profile(player).code == "UKGC"


def test_a_brands_profile_applies_to_its_players():
    brand = make_brand("malta", "Malta Casino")
    brand.jurisdiction = JurisdictionProfile.objects.get(code="MGA")
    brand.save()

    assert selectors.get_profile(make_player(brand="malta")).code == "MGA"


def test_only_one_profile_can_be_the_default():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="one_default_profile"), transaction.atomic():
        JurisdictionProfile.objects.filter(code="MGA").update(is_default=True)
