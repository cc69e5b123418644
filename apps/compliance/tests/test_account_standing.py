"""Staff lock, freeze and re-open accounts through compliance's services, each with a reason, in
the hash-chained staff-action trail: an account a rule locked stays locked until staff re-open it,
and then the player bets, deposits and opens a socket again. Promotions stop for a locked, frozen
or closed account as for an excluded one."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts import services as accounts_services
from apps.accounts.choices import PlayerStatus
from apps.common.models import OutboxEvent
from apps.compliance import audit, selectors, services
from apps.compliance.errors import InvalidStandingChange, PlayerBlocked
from apps.compliance.models import Rule, StaffAction
from apps.compliance.tests.factories import bet, deposit, fresh, funded_player
from apps.realtime import services as realtime
from pam.asgi import application

pytestmark = pytest.mark.django_db


def assert_trail_verifies() -> None:
    assert audit.run_audit() == {name: [] for name in audit.run_audit()}


def locked_by_a_rule(staff, committed) -> object:
    """A player whose first deposit made the velocity rule (count 1, action lock) lock them."""
    rule = Rule.objects.get(code="deposit-velocity-1h")
    with committed():
        services.save_rule(code=rule.code, rule_type=rule.type, parameters={**rule.parameters, "count": 1},
                           severity=rule.severity, actions=["lock"], enabled=True, acting_user=staff,
                           reason="test")  # fmt: skip
    player = funded_player(1_000)
    with committed():
        deposit(player, 100)
    assert fresh(player).status == PlayerStatus.LOCKED
    return player


def test_an_account_a_rule_locked_stays_locked_until_staff_reopen_it_then_the_player_plays(clock, committed, staff):
    player = locked_by_a_rule(staff, committed)
    with pytest.raises(PlayerBlocked):
        bet(fresh(player), 10)

    services.reopen_account(player=fresh(player), acting_user=staff, reason="reviewed: a genuine player")

    assert fresh(player).status == PlayerStatus.ACTIVE
    with committed():
        bet(fresh(player), 10)
        deposit(fresh(player), 100)  # the same firing window: the rule does not lock again
    assert fresh(player).status == PlayerStatus.ACTIVE
    record = StaffAction.objects.get(action="account.reopen")
    assert (record.actor, record.system_actor, record.target_type, record.target_id) == (
        staff, "", "accounts.player", str(player.pk))  # fmt: skip
    assert (record.before, record.after, record.reason) == (
        {"status": "locked"}, {"status": "active"}, "reviewed: a genuine player")  # fmt: skip
    assert_trail_verifies()


def test_staff_freeze_an_account_then_reopen_it_each_recorded_with_its_reason(clock, committed, staff):
    player = funded_player(1_000)

    with committed():
        services.freeze_account_by_staff(player=player, acting_user=staff, reason="source of funds unclear")

    assert fresh(player).status == PlayerStatus.FROZEN
    frozen = OutboxEvent.objects.filter(name="compliance.account_locked").values_list("payload", flat=True)
    assert list(frozen) == [{"player_id": str(player.pk), "message": services.STAFF_FREEZE_MESSAGE,
                             "data": {"reason": "frozen"}}]  # fmt: skip
    with pytest.raises(PlayerBlocked):
        deposit(fresh(player), 100)

    services.reopen_account(player=fresh(player), acting_user=staff, reason="documents received")
    with committed():
        bet(fresh(player), 10)

    trail = (
        StaffAction.objects.filter(action__startswith="account.")
        .order_by("pk")
        .values_list("action", "before", "after", "reason")
    )
    assert list(trail) == [
        ("account.freeze", {"status": "active"}, {"status": "frozen"}, "source of funds unclear"),
        ("account.reopen", {"status": "frozen"}, {"status": "active"}, "documents received"),
    ]
    assert_trail_verifies()


def test_staff_lock_an_active_account_and_its_sockets_are_told(clock, committed, staff):
    player = funded_player(1_000)
    with committed():
        services.lock_account_by_staff(player=player, acting_user=staff, reason="asked by the player's bank")
    assert fresh(player).status == PlayerStatus.LOCKED
    assert OutboxEvent.objects.get(name="compliance.account_locked").payload["data"] == {"reason": "locked"}
    assert StaffAction.objects.get(action__startswith="account.").action == "account.lock"
    assert_trail_verifies()


@pytest.mark.parametrize(
    ("status", "change"),
    [
        (PlayerStatus.ACTIVE, services.reopen_account),  # nothing to re-open
        (PlayerStatus.CLOSED, services.reopen_account),  # closed is final
        (PlayerStatus.LOCKED, services.lock_account_by_staff),
        (PlayerStatus.FROZEN, services.lock_account_by_staff),  # a lock would loosen a freeze
        (PlayerStatus.FROZEN, services.freeze_account_by_staff),
        (PlayerStatus.CLOSED, services.freeze_account_by_staff),
    ],
)
def test_a_change_that_does_not_apply_to_the_standing_is_refused_and_records_nothing(staff, status, change):
    player = funded_player(0)
    accounts_services.set_player_status(player_id=player.pk, status=status)

    with pytest.raises(InvalidStandingChange):
        change(player=fresh(player), acting_user=staff, reason="review")

    assert fresh(player).status == status
    assert StaffAction.objects.exists() is False


@pytest.mark.parametrize("change", [services.lock_account_by_staff, services.freeze_account_by_staff,
                                    services.reopen_account])  # fmt: skip
def test_a_change_of_standing_needs_a_reason(staff, change):
    player = funded_player(0)
    accounts_services.set_player_status(player_id=player.pk, status=PlayerStatus.LOCKED)

    with pytest.raises(InvalidStandingChange):
        change(player=fresh(player), acting_user=staff, reason="  ")

    assert (fresh(player).status, StaffAction.objects.exists()) == (PlayerStatus.LOCKED, False)


# --- promotions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "may"),
    [(PlayerStatus.ACTIVE, True), (PlayerStatus.LOCKED, False), (PlayerStatus.FROZEN, False),
     (PlayerStatus.CLOSED, False)],
)  # fmt: skip
def test_promotions_stop_for_a_locked_frozen_or_closed_account(status, may):
    player = funded_player(0)
    accounts_services.set_player_status(player_id=player.pk, status=status)
    assert selectors.may_receive_promotions(player) is may  # the status as committed, not the object's


def test_promotions_stop_for_an_excluded_player_and_resume_when_staff_reopen_a_locked_one(staff):
    excluded, locked = funded_player(0), funded_player(0)
    services.start_time_out(player=excluded, hours=24)
    services.lock_account_by_staff(player=locked, acting_user=staff, reason="review")
    assert (selectors.may_receive_promotions(excluded), selectors.may_receive_promotions(locked)) == (False, False)

    services.reopen_account(player=fresh(locked), acting_user=staff, reason="reviewed")
    assert selectors.may_receive_promotions(locked) is True


# --- the socket -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_reopened_player_opens_a_socket_again():
    from apps.accounts.choices import StaffRole
    from apps.accounts.tests.factories import make_staff

    player = await database_sync_to_async(funded_player)(1_000)
    staff = await database_sync_to_async(make_staff)(StaffRole.COMPLIANCE)
    await database_sync_to_async(services.freeze_account_by_staff)(player=player, acting_user=staff, reason="review")

    refused = await _connect(player)
    notice = await refused.receive_json_from(timeout=5)
    assert (notice["type"], notice["data"]) == ("notice", {"reason": "frozen"})
    assert await refused.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}

    await database_sync_to_async(services.reopen_account)(player=player, acting_user=staff, reason="reviewed")

    socket = await _connect(player)
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    await socket.disconnect()


async def _connect(player) -> WebsocketCommunicator:
    ticket = await database_sync_to_async(realtime.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.mark.parametrize("status", ["locked", "frozen", "closed"])
def test_a_status_changed_on_the_players_page_closes_the_players_sockets_too(admin_client, status):
    player = funded_player(1_000)
    form = {"email": player.email, "country": player.country, "date_of_birth": player.date_of_birth.isoformat(),
            "status": status, "kyc_status": player.kyc_status, "reason": "reviewed"}  # fmt: skip

    response = admin_client.post(f"/backoffice/accounts/player/{player.pk}/change/", form)

    assert response.status_code == 302
    (event,) = OutboxEvent.objects.filter(name="compliance.account_locked")
    assert (event.payload["player_id"], event.payload["data"]) == (str(player.pk), {"reason": status})
    assert_trail_verifies()


def test_a_status_set_back_to_active_on_the_players_page_sends_no_notice(admin_client):
    player = funded_player(1_000)
    accounts_services.set_player_status(player_id=player.pk, status=PlayerStatus.LOCKED)
    form = {"email": player.email, "country": player.country, "date_of_birth": player.date_of_birth.isoformat(),
            "status": "active", "kyc_status": player.kyc_status, "reason": "reviewed"}  # fmt: skip

    assert admin_client.post(f"/backoffice/accounts/player/{player.pk}/change/", form).status_code == 302
    assert not OutboxEvent.objects.filter(name="compliance.account_locked").exists()
