"""The player list's actions lock, freeze and re-open accounts through compliance's services, with
the reason the action form asks for, for the `compliance` and `admin` roles only; each change is
one staff action in the trail, which verifies."""

import pytest

from apps.accounts import services as accounts_services
from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import audit
from apps.compliance.models import StaffAction
from apps.compliance.tests.factories import bet, fresh, funded_player

pytestmark = pytest.mark.django_db

PLAYERS = "/backoffice/accounts/player/"
ACTIONS = {"lock_accounts", "freeze_accounts", "reopen_accounts"}


def logged_in(client, role: StaffRole):
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


def act(client, action: str, players, reason: str = ""):
    return client.post(PLAYERS, {"action": action, "_selected_action": [p.pk for p in players], "reason": reason})


def offered_actions(client) -> set[str]:
    response = client.get(PLAYERS)
    assert response.status_code == 200
    form = response.context["action_form"]  # None: no action at all for this user
    return {name for name, _ in form.fields["action"].choices} & ACTIONS if form is not None else set()


@pytest.mark.parametrize("role", [StaffRole.COMPLIANCE, StaffRole.ADMIN])
def test_compliance_and_admin_reopen_locked_and_frozen_accounts_with_a_reason(client, role):
    staff = logged_in(client, role)
    locked, frozen = funded_player(1_000), funded_player(1_000)
    accounts_services.set_player_status(player_id=locked.pk, status=PlayerStatus.LOCKED)
    accounts_services.set_player_status(player_id=frozen.pk, status=PlayerStatus.FROZEN)
    assert offered_actions(staff) == ACTIONS

    response = act(staff, "reopen_accounts", [locked, frozen], reason="reviewed with the player")

    assert response.status_code == 302
    assert (fresh(locked).status, fresh(frozen).status) == (PlayerStatus.ACTIVE, PlayerStatus.ACTIVE)
    records = StaffAction.objects.filter(action="account.reopen").order_by("target_id")
    assert [(r.actor, r.target_id, r.before, r.reason) for r in records] == [
        (staff.user, str(locked.pk), {"status": "locked"}, "reviewed with the player"),
        (staff.user, str(frozen.pk), {"status": "frozen"}, "reviewed with the player"),
    ]
    assert StaffAction.objects.filter(action__startswith="admin.action").exists() is False  # never twice
    bet(fresh(locked), 10)  # plays again
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def test_lock_and_freeze_from_the_list_and_a_refusal_of_one_row_does_not_stop_the_others(client):
    staff = logged_in(client, StaffRole.COMPLIANCE)
    active, closed = funded_player(0), funded_player(0)
    accounts_services.set_player_status(player_id=closed.pk, status=PlayerStatus.CLOSED)

    response = act(staff, "freeze_accounts", [active, closed], reason="fraud team")

    assert response.status_code == 302
    assert (fresh(active).status, fresh(closed).status) == (PlayerStatus.FROZEN, PlayerStatus.CLOSED)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert f"{fresh(active)}: frozen" in shown
    assert any(m.startswith(f"{fresh(closed)}: INVALID_STANDING_CHANGE") for m in shown)
    assert list(StaffAction.objects.values_list("action", "target_id")) == [("account.freeze", str(active.pk))]


def test_an_action_without_a_reason_changes_nothing(client):
    staff = logged_in(client, StaffRole.COMPLIANCE)
    player = funded_player(0)

    response = act(staff, "lock_accounts", [player])

    assert [str(m) for m in response.wsgi_request._messages] == ["A change of an account's standing needs a reason."]
    assert fresh(player).status == PlayerStatus.ACTIVE
    assert StaffAction.objects.exists() is False


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_support_and_finance_can_neither_see_nor_run_the_actions(client, role):
    staff = logged_in(client, role)
    player = funded_player(0)
    accounts_services.set_player_status(player_id=player.pk, status=PlayerStatus.LOCKED)
    assert offered_actions(staff) == set()

    act(staff, "reopen_accounts", [player], reason="I would like to")

    assert fresh(player).status == PlayerStatus.LOCKED
    assert StaffAction.objects.exists() is False
