"""The back office's campaigns: a save (the campaign and its game weights) goes through
`save_campaign`, one `bonus.campaign_save` staff action with the form's reason and the trail
verifies; a refused save writes nothing; bonuses and opt-ins are read-only; who sees what."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.bonuses import services
from apps.bonuses.models import Campaign, GameWeight
from apps.bonuses.tests.factories import bonus_of, campaign
from apps.compliance import audit
from apps.compliance.models import StaffAction

pytestmark = pytest.mark.django_db

ADD = "/backoffice/bonuses/campaign/add/"


def logged_in(client, role: StaffRole):
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


def form(**fields) -> dict:
    values = {
        "code": "SPRING", "name": "Spring match", "kind": "deposit_match", "enabled": "on", "countries": "[]",
        "currency": "EUR", "match_percent": "50", "cap": "5000", "trigger": "first_deposit", "min_deposit": "1000",
        "wagering_multiple": "20", "wagering_base": "bonus_and_deposit", "default_weight_percent": "100",
        "one_per_player": "on", "requires_opt_in": "on", "reason": "spring promotion",
        "weights-TOTAL_FORMS": "2", "weights-INITIAL_FORMS": "0", "weights-MIN_NUM_FORMS": "0",
        "weights-MAX_NUM_FORMS": "1000",
        "weights-0-game_type": "table", "weights-0-game_code": "", "weights-0-percent": "10",
        "weights-1-game_type": "", "weights-1-game_code": "", "weights-1-percent": "",
    }  # fmt: skip
    return {**values, **fields}


def test_an_admin_adds_a_campaign_with_its_weights_through_the_service_and_the_trail(client):
    admin = logged_in(client, StaffRole.ADMIN)

    response = admin.post(ADD, form())

    assert response.status_code == 302, response.content
    saved = Campaign.objects.get(code="SPRING")
    assert (saved.kind, saved.match_percent, saved.cap, saved.wagering_base) == ("deposit_match", 50, 5000,
                                                                                "bonus_and_deposit")  # fmt: skip
    assert list(GameWeight.objects.filter(campaign=saved).values_list("game_type", "percent")) == [("table", 10)]
    action = StaffAction.objects.get()  # one record: the service's, not the admin's again
    assert (action.action, action.actor, action.target_id, action.reason) == (
        "bonus.campaign_save", admin.user, str(saved.pk), "spring promotion")  # fmt: skip
    assert action.after["weights"] == [{"game_type": "table", "game_code": "", "percent": 10}]
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_admin_changes_a_campaign_and_only_the_change_is_recorded(client):
    admin = logged_in(client, StaffRole.ADMIN)
    saved = campaign("SPRING", kind="fixed")
    data = form(kind="fixed", match_percent="", cap="", trigger="registration", min_deposit="", amount="700",
                wagering_base="bonus", wagering_multiple="10", reason="a bigger gift")  # fmt: skip
    data.pop("code")
    data.pop("requires_opt_in")  # a registration campaign takes none

    response = admin.post(f"/backoffice/bonuses/campaign/{saved.pk}/change/", {**data, "name": "SPRING campaign"})

    assert response.status_code == 302, response.content
    change = StaffAction.objects.filter(action="bonus.campaign_save").latest("pk")
    assert change.before == {"amount": 500, "weights": []}
    assert change.after == {"amount": 700, "weights": [{"game_type": "table", "game_code": "", "percent": 10}]}
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_invalid_campaign_is_refused_on_the_form_and_nothing_is_written(client):
    admin = logged_in(client, StaffRole.ADMIN)

    response = admin.post(ADD, form(cap=""), follow=True)

    assert "cap: Needed by a deposit_match campaign" in response.content.decode()
    assert Campaign.objects.exists() is False
    assert StaffAction.objects.exists() is False


def test_bonuses_are_read_only_and_support_sees_them_but_may_not_change_campaigns(client):
    bonus = bonus_of(make_player(), campaign("SPRING"))
    support = logged_in(client, StaffRole.SUPPORT)

    assert support.get(f"/backoffice/bonuses/bonus/{bonus.pk}/change/").status_code == 200
    assert support.get("/backoffice/bonuses/optin/").status_code == 200
    assert support.get("/backoffice/bonuses/campaign/").status_code == 200
    assert support.post(ADD, form()).status_code == 403
    assert support.post(f"/backoffice/bonuses/bonus/{bonus.pk}/change/", {"status": "converted"}).status_code == 403
    bonus.refresh_from_db()
    assert bonus.status == "active"


def test_an_admin_cancels_a_bonus_with_a_reason_through_the_service(client):
    player = make_player()
    bonus = services.grant(player, campaign("GIFT", kind="fixed", trigger="staff_grant", requires_opt_in=False),
                           trigger_ref="t")  # fmt: skip
    admin_user = logged_in(client, StaffRole.ADMIN)
    changelist = "/backoffice/bonuses/bonus/"
    selected = {"action": "cancel_bonuses", "_selected_action": [bonus.pk]}

    admin_user.post(changelist, {**selected, "reason": ""})  # no reason: refused, nothing ends
    bonus.refresh_from_db()
    assert bonus.status == "active"

    admin_user.post(changelist, {**selected, "reason": "duplicate account"})
    bonus.refresh_from_db()
    assert (bonus.status, bonus.ended_amount) == ("cancelled", 500)
    assert StaffAction.objects.filter(action="bonus.cancel", reason="duplicate account").count() == 1


def test_support_may_not_cancel_a_bonus(client):
    player = make_player()
    bonus = services.grant(player, campaign("GIFT", kind="fixed", trigger="staff_grant", requires_opt_in=False),
                           trigger_ref="t")  # fmt: skip
    support = logged_in(client, StaffRole.SUPPORT)

    support.post("/backoffice/bonuses/bonus/", {"action": "cancel_bonuses", "_selected_action": [bonus.pk],
                                                "reason": "no"})  # fmt: skip

    bonus.refresh_from_db()
    assert bonus.status == "active"
