"""Every admin add, change, delete and action is a record of the staff-action trail, written by
StaffAuditMixin in the view's transaction, with the values of the fields that changed and the
secrets redacted; driven through the back office as a logged-in superuser would."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.models import Brand, Player, User
from apps.accounts.tests.factories import make_player, make_staff
from apps.common.admin import StaffAuditMixin
from apps.common.timestamps import iso_utc
from apps.compliance import audit
from apps.compliance.models import PlayerProtection, StaffAction
from apps.games.models import Game, Provider

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-horse-battery-7"


@pytest.fixture
def superuser(client):
    user = make_staff(StaffRole.ADMIN)
    client.force_login(user)
    return user


@pytest.fixture
def games():
    provider = Provider.objects.create(code="acme-slots", secret="s3cret")
    return [Game.objects.create(provider=provider, code=f"slot-{n}", name=f"Slot {n}") for n in (1, 2, 3)]


def records() -> list[tuple]:
    return list(
        StaffAction.objects.order_by("pk").values_list("actor", "action", "target_type", "target_id", "before", "after")
    )


def assert_trail_verifies() -> None:
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_every_registered_admin_records_staff_actions():
    """Including the third-party ones (groups), wrapped in apps/backoffice/admin.py."""
    unaudited = [model._meta.label for model, model_admin in admin.site._registry.items()
                 if not isinstance(model_admin, StaffAuditMixin)]  # fmt: skip
    assert unaudited == []


def test_an_add_records_every_field_of_the_new_row(client, superuser):
    response = client.post("/backoffice/accounts/brand/add/", {"code": "nova", "name": "Nova Casino"})

    assert response.status_code == 302, response.content
    brand = Brand.objects.get(code="nova")
    assert records() == [
        (superuser.pk, "admin.add", "accounts.brand", str(brand.pk), {},
         {"code": "nova", "name": "Nova Casino", "jurisdiction": None, "created_at": iso_utc(brand.created_at)}),
    ]  # fmt: skip
    assert_trail_verifies()


def test_a_change_records_only_the_fields_that_changed(client, superuser):
    player = make_player()
    before = Player.objects.get(pk=player.pk)
    form = {"email": player.email, "country": "MT", "date_of_birth": "1990-01-01", "status": "active",
            "kyc_status": "verified", "reason": "passport checked"}  # fmt: skip

    response = client.post(f"/backoffice/accounts/player/{player.pk}/change/", form)

    assert response.status_code == 302, response.content
    after = Player.objects.get(pk=player.pk)
    assert records() == [
        (superuser.pk, "admin.change", "accounts.player", str(player.pk),
         {"kyc_status": "unverified", "updated_at": iso_utc(before.updated_at)},
         {"kyc_status": "verified", "updated_at": iso_utc(after.updated_at)}),
    ]  # fmt: skip
    assert StaffAction.objects.get().reason == "passport checked"


def test_the_players_standing_changes_only_with_a_reason(client, superuser):
    player = make_player()
    form = {"email": player.email, "country": "MT", "date_of_birth": "1990-01-01", "status": "locked",
            "kyc_status": "unverified"}  # fmt: skip

    response = client.post(f"/backoffice/accounts/player/{player.pk}/change/", form)

    assert response.status_code == 200  # the form again, with the error
    assert "Say why the player" in response.content.decode()
    assert Player.objects.get(pk=player.pk).status == "active"
    assert records() == []
    form["email"] = "other@example.com"  # other fields need no reason
    form["status"] = "active"
    assert client.post(f"/backoffice/accounts/player/{player.pk}/change/", form).status_code == 302


def test_verifying_a_held_player_lets_the_money_path_skip_the_checks_again(client, superuser):
    player = make_player()
    PlayerProtection.objects.create(player=player, kyc_threshold_reached_at=timezone.now())
    Player.objects.filter(pk=player.pk).update(needs_compliance_checks=True)
    form = {"email": player.email, "country": "MT", "date_of_birth": "1990-01-01", "status": "active",
            "kyc_status": "verified", "reason": "documents checked"}  # fmt: skip

    assert client.post(f"/backoffice/accounts/player/{player.pk}/change/", form).status_code == 302
    assert Player.objects.get(pk=player.pk).needs_compliance_checks is False


def test_a_many_to_many_change_records_the_related_ids(client, superuser):
    group = Group.objects.get(name="support")
    old = sorted(group.permissions.values_list("pk", flat=True))
    added = Permission.objects.get(codename="change_player")

    response = client.post(
        f"/backoffice/auth/group/{group.pk}/change/", {"name": "support", "permissions": [*old, added.pk]}
    )

    assert response.status_code == 302, response.content
    assert records() == [
        (superuser.pk, "admin.change", "auth.group", str(group.pk), {"permissions": old},
         {"permissions": sorted([*old, added.pk])}),
    ]  # fmt: skip


def test_passwords_are_redacted_when_a_user_is_added_and_when_the_password_changes(client, superuser):
    added = client.post(
        "/backoffice/accounts/user/add/",
        {"username": "newstaff", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert added.status_code == 302, added.content
    user = User.objects.get(username="newstaff")
    old_hash = user.password

    changed = client.post(
        f"/backoffice/accounts/user/{user.pk}/password/",
        {"password1": "x" + NEW_PASSWORD, "password2": "x" + NEW_PASSWORD},
    )

    assert changed.status_code == 302, changed.content
    user.refresh_from_db()
    assert user.password != old_hash
    add, change = StaffAction.objects.order_by("pk")
    assert (add.action, add.target_id, add.after["username"], add.after["password"]) == (
        "admin.add",
        str(user.pk),
        "newstaff",
        "[redacted]",
    )
    assert (change.action, change.before, change.after) == (
        "admin.change",
        {"password": "[redacted]"},
        {"password": "[redacted]"},
    )
    stored = StaffAction.objects.values_list("before", "after")
    assert not any(old_hash in str(row) or user.password in str(row) for row in stored)


def test_a_provider_secret_is_redacted(client, superuser):
    response = client.post("/backoffice/games/provider/add/", {"code": "nova-games", "name": "Nova", "enabled": "on"})

    assert response.status_code == 302, response.content
    (record,) = StaffAction.objects.all()
    assert (record.action, record.after["code"], record.after["secret"]) == ("admin.add", "nova-games", "[redacted]")


def test_a_delete_records_the_row_as_it_was(client, superuser, games):
    game = games[0]

    response = client.post(f"/backoffice/games/game/{game.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302, response.content
    assert Game.objects.filter(pk=game.pk).exists() is False
    assert records() == [
        (superuser.pk, "admin.delete", "games.game", str(game.pk),
         {"provider": game.provider_id, "code": "slot-1", "name": "Slot 1", "game_type": "slots", "enabled": True,
          "declared_rtp": None, "return_sigma": None},
         {}),
    ]  # fmt: skip


def test_a_bulk_delete_records_each_row_once_it_is_confirmed(client, superuser, games):
    selected = {"action": "delete_selected", "_selected_action": [games[0].pk, games[2].pk]}

    confirmation = client.post("/backoffice/games/game/", selected)
    assert confirmation.status_code == 200
    assert StaffAction.objects.exists() is False  # asking is not deleting

    response = client.post("/backoffice/games/game/", {**selected, "post": "yes"})

    assert response.status_code == 302, response.content
    assert list(Game.objects.filter(provider__code="acme-slots").values_list("code", flat=True)) == ["slot-2"]
    assert [(r[1], r[3], r[4]["code"], r[5]) for r in records()] == [
        ("admin.delete", str(games[0].pk), "slot-1", {}),
        ("admin.delete", str(games[2].pk), "slot-3", {}),
    ]
    assert_trail_verifies()


@admin.action(description="Disable the selected games")
def disable_games(modeladmin, request, queryset):
    queryset.update(enabled=False)


@admin.action(description="Disable, then fail")
def disable_then_fail(modeladmin, request, queryset):
    queryset.update(enabled=False)
    raise RuntimeError("the action failed half-way")


@pytest.fixture
def game_actions(monkeypatch):
    monkeypatch.setattr(admin.site.get_model_admin(Game), "actions", [disable_games, disable_then_fail])


def test_an_admin_action_records_what_it_changed_on_each_selected_object(client, superuser, games, game_actions):
    response = client.post(
        "/backoffice/games/game/", {"action": "disable_games", "_selected_action": [games[0].pk, games[1].pk]}
    )

    assert response.status_code == 302, response.content
    assert records() == [
        (superuser.pk, "admin.action:disable_games", "games.game", str(game.pk), {"enabled": True}, {"enabled": False})
        for game in games[:2]
    ]
    assert_trail_verifies()


def test_an_admin_action_that_fails_leaves_neither_its_changes_nor_a_record(client, superuser, games, game_actions):
    with pytest.raises(RuntimeError, match="half-way"):
        client.post("/backoffice/games/game/", {"action": "disable_then_fail", "_selected_action": [games[0].pk]})

    assert Game.objects.get(pk=games[0].pk).enabled is True
    assert StaffAction.objects.exists() is False


def test_a_list_editable_save_records_the_change(client, superuser, games, monkeypatch):
    game = games[0]
    Game.objects.exclude(pk=game.pk).delete()
    monkeypatch.setattr(admin.site.get_model_admin(Game), "list_editable", ("enabled",))

    response = client.post(
        "/backoffice/games/game/",
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(game.pk), "_save": "Save"},
    )

    assert response.status_code == 302, response.content
    assert records() == [
        (superuser.pk, "admin.change", "games.game", str(game.pk), {"enabled": True}, {"enabled": False})
    ]


def test_a_save_through_a_service_is_recorded_once_by_the_service(client, superuser):
    player = make_player()

    response = client.post(
        "/backoffice/compliance/limit/add/",
        {"player": player.pk, "kind": "loss", "period": "7d", "new_amount": 5_000, "reason": "affordability"},
    )

    assert response.status_code == 302, response.content
    assert [(r.action, r.reason, r.after) for r in StaffAction.objects.all()] == [
        ("limit.set", "affordability", {"amount": 5_000})
    ]


def test_the_trail_is_read_only_in_the_back_office(client, superuser):
    client.post("/backoffice/accounts/brand/add/", {"code": "nova", "name": "Nova Casino"})
    record = StaffAction.objects.get()

    assert client.get("/backoffice/compliance/staffaction/").status_code == 200
    page = client.get(f"/backoffice/compliance/staffaction/{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/backoffice/compliance/staffaction/{record.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"/backoffice/compliance/staffaction/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/backoffice/compliance/staffaction/add/").status_code == 403
    assert StaffAction.objects.get().reason == ""
