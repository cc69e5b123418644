"""The player list's staff grant: an admin grants a `staff_grant` campaign to the selected
players with a reason (one `bonus.grant` staff action each); the same form submitted twice grants
once; other roles are not offered it."""

import pytest

from apps.accounts.choices import StaffRole
from apps.backoffice.tests.test_account_standing_actions import PLAYERS, logged_in
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign
from apps.compliance.models import StaffAction
from apps.payments.tests.factories import account_balance, assert_audit_clean, verified_player
from apps.wallet.choices import AccountKind

pytestmark = pytest.mark.django_db


def grant(client, players, **fields):
    body = {"action": "grant_bonus", "_selected_action": [p.pk for p in players], **fields}
    return client.post(PLAYERS, body)


def offered(client) -> bool:
    form = client.get(PLAYERS).context["action_form"]
    return form is not None and "grant_bonus" in {name for name, _ in form.fields["action"].choices}


def test_an_admin_grants_a_staff_bonus_to_the_selected_players_once_per_form(client):
    staff = logged_in(client, StaffRole.ADMIN)
    first, second = verified_player(), verified_player()
    campaign("GOODWILL", kind="fixed", amount=1_500, trigger="staff_grant", requires_opt_in=False,
             one_per_player=False)  # fmt: skip
    assert offered(staff) is True

    for _ in range(2):  # the same form submitted twice
        response = grant(staff, [first, second], campaign="goodwill", reason="outage", grant_id="form-1")

    assert response.status_code == 302
    assert [account_balance(p, AccountKind.BONUS) for p in (first, second)] == [1_500, 1_500]
    assert Bonus.objects.count() == 2
    records = StaffAction.objects.filter(action="bonus.grant")
    assert [(r.actor, r.reason) for r in records] == [(staff.user, "outage"), (staff.user, "outage")]
    assert_audit_clean()


def test_no_reason_grants_nothing_and_support_is_not_offered_the_action(client):
    staff = logged_in(client, StaffRole.ADMIN)
    player = verified_player()
    campaign("GOODWILL", kind="fixed", amount=1_500, trigger="staff_grant", requires_opt_in=False)

    response = grant(staff, [player], campaign="GOODWILL", reason="")

    assert [str(m) for m in response.wsgi_request._messages] == ["A staff bonus needs a campaign code and a reason."]
    assert Bonus.objects.exists() is False
    assert offered(logged_in(client, StaffRole.SUPPORT)) is False
