"""Staff roles: the four groups exist after migrate, with the permissions of roles.py."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_the_four_staff_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"support", "compliance", "finance", "admin"}


def test_role_permissions():
    support, compliance = make_staff(StaffRole.SUPPORT), make_staff(StaffRole.COMPLIANCE)
    admin = make_staff(StaffRole.ADMIN)

    assert support.has_perm("accounts.view_player")
    assert not support.has_perm("accounts.change_player")
    assert compliance.has_perm("accounts.change_player")
    assert admin.is_superuser
    assert Group.objects.get(name="admin").permissions.count() == Permission.objects.count()


def test_staff_can_open_the_back_office(client):
    client.force_login(make_staff(StaffRole.SUPPORT))
    assert client.get("/backoffice/").status_code == 200
    assert client.get("/backoffice/accounts/player/").status_code == 200
    assert client.get("/backoffice/accounts/brand/add/").status_code == 403


def test_compliance_staff_work_on_player_protection_and_support_only_sees_it(client):
    client.force_login(make_staff(StaffRole.COMPLIANCE))
    for page in (
        "compliance/limit/add/",
        "compliance/exclusion/add/",
        "compliance/limitchange/",
        "compliance/staffaction/",
        "compliance/jurisdictionprofile/",
        "compliance/playerprotection/",
    ):
        assert client.get(f"/backoffice/{page}").status_code == 200, page
    assert client.get("/backoffice/compliance/jurisdictionprofile/add/").status_code == 403

    client.force_login(make_staff(StaffRole.SUPPORT))
    assert client.get("/backoffice/compliance/limit/").status_code == 200
    assert client.get("/backoffice/compliance/limit/add/").status_code == 403
    assert client.get("/backoffice/compliance/staffaction/").status_code == 403


def test_compliance_and_admin_work_on_cases_and_support_and_finance_read_none():
    may = {"compliance.view_case", "compliance.add_case", "compliance.change_case", "compliance.view_casecomment",
           "compliance.view_caseattachment"}  # fmt: skip
    for role in (StaffRole.COMPLIANCE, StaffRole.ADMIN):
        assert all(make_staff(role).has_perm(name) for name in may), role
    for role in (StaffRole.SUPPORT, StaffRole.FINANCE):
        staff = make_staff(role)
        assert [name for name in may if staff.has_perm(name)] == [], role
    assert not make_staff(StaffRole.COMPLIANCE).has_perm("compliance.delete_case")


def test_least_privilege_choices():
    """Support answers players from the player page, not the staff users; compliance reads the
    money in and out it investigates; finance reads the threshold that fills its queue."""
    support, compliance, finance = (make_staff(role) for role in (StaffRole.SUPPORT, StaffRole.COMPLIANCE,
                                                                  StaffRole.FINANCE))  # fmt: skip

    assert not support.has_perm("accounts.view_user")
    assert compliance.has_perm("payments.view_depositintent")
    assert compliance.has_perm("payments.view_withdrawal")
    assert not compliance.has_perm("payments.approve_withdrawal")
    assert finance.has_perm("payments.view_brandpaymentsettings")
    assert not finance.has_perm("payments.change_brandpaymentsettings")
