"""The back office changes limits and starts exclusions only through the services, with the
staff user and a reason in the audit trail; exclusions and the trail cannot be edited."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance.models import Exclusion, Limit, LimitChange
from apps.compliance.tests.factories import funded_player, limit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin_user = make_staff(StaffRole.ADMIN)
    client.force_login(admin_user)
    client.user = admin_user
    return client


def test_staff_sets_a_limit_with_a_reason_recorded_in_the_audit_trail(staff_client):
    player = funded_player(0)
    response = staff_client.post(
        "/backoffice/compliance/limit/add/",
        {"player": player.pk, "kind": "loss", "period": "7d", "new_amount": 5_000, "reason": "affordability"},
    )

    assert response.status_code == 302, response.content
    assert Limit.objects.get(player=player).amount == 5_000
    change = LimitChange.objects.get(player=player)
    assert (change.acting_user, change.by_player, change.reason) == (staff_client.user, False, "affordability")


def test_a_staff_increase_is_queued_like_a_players(staff_client):
    player = funded_player(0)
    existing = limit(player, "loss", "7d", 1_000)
    response = staff_client.post(
        f"/backoffice/compliance/limit/{existing.pk}/change/", {"new_amount": 9_000, "reason": "player asked"}
    )

    assert response.status_code == 302, response.content
    existing.refresh_from_db()
    assert (existing.amount, existing.has_pending, existing.pending_amount) == (1_000, True, 9_000)


def test_a_refused_change_shows_the_reason_and_records_nothing(staff_client):
    player = funded_player(0)
    response = staff_client.post(
        "/backoffice/compliance/limit/add/",
        {"player": player.pk, "kind": "loss", "period": "7d", "new_amount": 10**13, "reason": "typo"},
        follow=True,
    )

    assert "is 0 to" in response.content.decode()
    assert LimitChange.objects.exists() is False


def test_staff_starts_a_time_out_but_cannot_edit_or_delete_one(staff_client):
    player = funded_player(0)
    response = staff_client.post(
        "/backoffice/compliance/exclusion/add/",
        {"player": player.pk, "kind": "time_out", "hours": 48, "reason": "phoned support"},
    )
    assert response.status_code == 302, response.content
    exclusion = Exclusion.objects.get(player=player)
    assert (exclusion.acting_user, exclusion.reason) == (staff_client.user, "phoned support")

    page = staff_client.get(f"/backoffice/compliance/exclusion/{exclusion.pk}/change/")
    assert b'name="_save"' not in page.content
    assert staff_client.post(f"/backoffice/compliance/exclusion/{exclusion.pk}/delete/").status_code == 403
    assert staff_client.get("/backoffice/compliance/limitchange/").status_code == 200
