"""The back office changes limits and starts exclusions only through the services, with the
staff user and a reason in the audit trail; exclusions and the trail cannot be edited."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance.models import Exclusion, Limit, LimitChange
from apps.compliance.tests.factories import funded_player, limit

pytestmark = pytest.mark.django_db


def logged_in(client, role: StaffRole):
    """`client` logged in as a new staff member of `role` (kept as `client.user`)."""
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


@pytest.fixture
def staff_client(client):
    return logged_in(client, StaffRole.ADMIN)


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


# --- a change of the player's standing in the back office (accounts' admin) ---------------------


def standing_form(player, **changes) -> dict:
    form = {"email": player.email, "country": player.country, "date_of_birth": player.date_of_birth.isoformat(),
            "status": player.status, "kyc_status": player.kyc_status}  # fmt: skip
    return {**form, **changes}


def held_player():
    """Held for KYC: the money path reads the player's protection state until verified."""
    from django.utils import timezone

    from apps.accounts.models import Player
    from apps.compliance.models import PlayerProtection

    player = funded_player(0)
    PlayerProtection.objects.create(player=player, kyc_threshold_reached_at=timezone.now())
    Player.objects.filter(pk=player.pk).update(needs_compliance_checks=True)
    return Player.objects.get(pk=player.pk)


def test_verifying_a_held_player_in_the_admin_refreshes_the_checks_in_the_same_transaction(staff_client):
    from apps.accounts.models import Player

    player = held_player()

    response = staff_client.post(
        f"/backoffice/accounts/player/{player.pk}/change/", standing_form(player, kyc_status="verified", reason="ok")
    )

    assert response.status_code == 302, response.content
    after = Player.objects.get(pk=player.pk)
    assert (after.kyc_status, after.needs_compliance_checks) == ("verified", False)


def test_when_compliance_cannot_refresh_its_checks_the_kyc_change_rolls_back(staff_client, monkeypatch):
    """Accounts' signal is sent inside the change's transaction: a receiver that fails undoes it,
    so a verified player is never left refused (nor a refused one let through) by a stale flag."""
    from apps.accounts.models import Player
    from apps.compliance import services
    from apps.compliance.models import StaffAction

    player = held_player()

    def fails(player_id):
        raise RuntimeError("compliance could not refresh")

    monkeypatch.setattr(services, "refresh_checks", fails)

    form = standing_form(player, kyc_status="verified", reason="ok")
    with pytest.raises(RuntimeError, match="could not refresh"):
        staff_client.post(f"/backoffice/accounts/player/{player.pk}/change/", form)

    after = Player.objects.get(pk=player.pk)
    assert (after.kyc_status, after.needs_compliance_checks) == ("unverified", True)
    assert StaffAction.objects.exists() is False


def test_the_standing_signal_names_what_changed_and_is_not_sent_for_other_fields(staff_client):
    from apps.accounts.signals import player_standing_changed

    player = funded_player(0)
    received = []

    def receiver(sender, player_id, changed, **kwargs):
        received.append((player_id, changed))

    player_standing_changed.connect(receiver)
    try:
        url = f"/backoffice/accounts/player/{player.pk}/change/"
        assert staff_client.post(url, standing_form(player, email="new@example.com")).status_code == 302
        assert received == []
        form = standing_form(player, email="new@example.com", status="locked", reason="fraud check")
        assert staff_client.post(url, form).status_code == 302
    finally:
        player_standing_changed.disconnect(receiver)

    assert received == [(player.pk, frozenset({"status"}))]


# --- behaviour rules --------------------------------------------------------------------------------


@pytest.fixture
def officer_client(client):
    return logged_in(client, StaffRole.COMPLIANCE)


def test_a_compliance_officer_changes_a_rule_through_the_service_a_version_and_a_staff_action(officer_client):
    from apps.compliance import audit
    from apps.compliance.models import Rule, RuleVersion, StaffAction

    rule = Rule.objects.get(code="micro-bets-60s")
    response = officer_client.post(
        f"/backoffice/compliance/rule/{rule.pk}/change/",
        {"parameters": '{"max_bets": 150, "window_seconds": 60, "max_stake": 5}', "severity": "high",
         "actions": ["alert", "lock"], "enabled": "on", "reason": "our brand's micro-stake is 5"},
    )  # fmt: skip

    assert response.status_code == 302, response.content
    rule.refresh_from_db()
    assert (rule.version, rule.enabled, rule.parameters["max_bets"]) == (2, True, 150)
    version = RuleVersion.objects.get(rule=rule, version=2)
    assert (version.created_by, version.reason) == (officer_client.user, "our brand's micro-stake is 5")
    saves = StaffAction.objects.filter(action="rule.save")
    assert [(s.actor, s.target_id) for s in saves] == [(officer_client.user, str(rule.pk))]
    assert StaffAction.objects.exclude(action="rule.save").exists() is False  # the admin did not record it again
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def test_an_invalid_rule_is_refused_on_the_form_and_nothing_is_written(officer_client):
    from apps.compliance.models import Rule, RuleVersion, StaffAction

    rule = Rule.objects.get(code="micro-bets-60s")
    response = officer_client.post(
        f"/backoffice/compliance/rule/{rule.pk}/change/",
        {"parameters": '{"max_bets": 0, "window_seconds": 60, "max_stake": 5}', "severity": "high",
         "actions": ["lock"], "reason": "typo"},
    )  # fmt: skip

    assert response.status_code == 302
    assert (RuleVersion.objects.filter(rule=rule).count(), StaffAction.objects.count()) == (1, 0)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["max_bets is an integer from 1 to 1000000."]


def test_alerts_and_rule_versions_are_read_only_lists_for_compliance_and_hidden_from_support(officer_client, client):
    from apps.compliance.models import Rule

    rule = Rule.objects.get(code="deposit-velocity-1h")
    for path in ("/backoffice/compliance/alert/", "/backoffice/compliance/ruleversion/",
                 "/backoffice/compliance/rulefiring/", "/backoffice/compliance/rule/"):  # fmt: skip
        assert officer_client.get(path).status_code == 200, path
    assert officer_client.get("/backoffice/compliance/alert/add/").status_code == 403
    assert officer_client.get("/backoffice/compliance/ruleversion/add/").status_code == 403
    assert officer_client.post(f"/backoffice/compliance/rule/{rule.pk}/delete/").status_code == 403

    logged_in(client, StaffRole.SUPPORT)
    assert client.get("/backoffice/compliance/alert/").status_code == 403
    assert client.get(f"/backoffice/compliance/rule/{rule.pk}/change/").status_code == 403
