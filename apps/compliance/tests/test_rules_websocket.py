"""The behaviour rules' effects reach sockets at once, on a real Redis channel layer: a
threshold-crossing deposit's alert reaches a compliance officer's back-office socket (and not a
staff member who may not read alerts); a rule's lock or freeze sends the player's open socket a
notice and closes it; a locked or frozen player opens no new socket, gets only the notice."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from apps.accounts import services as accounts_services
from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import engine, services
from apps.compliance.models import Alert, Rule
from apps.compliance.tests.factories import bet, deposit, funded_player
from apps.compliance.tests.test_websocket import open_socket
from apps.realtime import services as realtime
from apps.realtime.tests.test_consumers import connect, session_cookie
from pam.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@database_sync_to_async
def enable(code: str, actions: list[str] | None = None, **parameters) -> None:
    rule = Rule.objects.get(code=code)
    services.save_rule(
        code=code, rule_type=rule.type, parameters={**rule.parameters, **parameters}, severity=rule.severity,
        actions=actions or rule.actions, enabled=True, acting_user=make_staff(StaffRole.ADMIN),
        reason="enabled for the test",
    )  # fmt: skip


async def next_of_type(communicator, frame_type: str) -> dict:
    """The next frame of `frame_type` (the feed also carries every wallet frame)."""
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == frame_type:
            return frame


async def test_a_threshold_crossing_deposits_alert_reaches_the_back_office_socket_at_once():
    await enable("deposit-threshold-24h")
    officer = await database_sync_to_async(make_staff)(StaffRole.COMPLIANCE)
    finance = await database_sync_to_async(make_staff)(StaffRole.FINANCE)  # sees money, not alerts
    feed, connected = await connect("/ws/backoffice/", await session_cookie(officer))
    other, other_connected = await connect("/ws/backoffice/", await session_cookie(finance))
    assert (connected, other_connected) == (True, True)
    player = await database_sync_to_async(funded_player)(0)
    await database_sync_to_async(deposit)(player, 99_999)
    await database_sync_to_async(deposit)(player, 1)

    frame = await next_of_type(feed, "alert")

    alert = await database_sync_to_async(Alert.objects.select_related("rule_version__rule").get)()
    assert frame == {
        "type": "alert", "event": "alert", "brand": "acme", "alert_id": str(alert.pk),
        "player_id": str(player.pk), "rule": "deposit-threshold-24h",
        "rule_version": alert.rule_version.version, "rule_type": "deposit_threshold", "severity": "medium",
        "value": 100_000, "threshold": 100_000, "currency": "EUR",
        "created_at": alert.created_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    wallet_frames = [await other.receive_json_from(timeout=5) for _ in range(2)]
    assert [f["type"] for f in wallet_frames] == ["wallet.updated", "wallet.updated"]
    assert await other.receive_nothing(timeout=0.3)  # no alert for finance
    await feed.disconnect()
    await other.disconnect()


@pytest.mark.parametrize(("action", "message"), [("lock", engine.LOCK_MESSAGE), ("freeze", engine.FREEZE_MESSAGE)])
async def test_a_rules_lock_or_freeze_sends_the_notice_and_closes_the_players_socket(action, message):
    await enable("micro-bets-60s", [action], max_bets=3)
    player = await database_sync_to_async(funded_player)(1_000)
    socket = await open_socket(player)

    for _ in range(4):
        await database_sync_to_async(bet)(player, 1)

    notice = await next_of_type(socket, "notice")
    reason = {"lock": "locked", "freeze": "frozen"}[action]
    assert (notice["kind"], notice["message"], notice["data"]) == ("account_locked", message, {"reason": reason})
    while (frame := await socket.receive_output(timeout=5))["type"] != "websocket.close":
        pass
    assert frame == {"type": "websocket.close", "code": 4403}


@database_sync_to_async
def closed_player(close):
    player = funded_player(1_000)
    with transaction.atomic():
        close(player=player, message="closed for the test")
    return player


def close_for_good(*, player, message):
    accounts_services.set_player_status(player_id=player.pk, status="closed")


@pytest.mark.parametrize(
    ("close", "status", "message"),
    [(services.lock_account, "locked", "This account is locked: contact support."),
     (services.freeze_account, "frozen", "This account is frozen until it is reviewed: contact support."),
     (close_for_good, "closed", "This account is closed: contact support.")],
)  # fmt: skip
async def test_a_locked_frozen_or_closed_player_gets_no_new_socket_only_the_notice_and_4403(close, status, message):
    player = await closed_player(close)
    ticket = await database_sync_to_async(realtime.issue_ticket)(player=player)
    communicator = WebsocketCommunicator(application, f"/ws/player/?ticket={ticket}")

    connected, _ = await communicator.connect(timeout=5)

    assert connected  # accepted only to say why, then closed: never a hello
    notice = await communicator.receive_json_from(timeout=5)
    assert notice == {"type": "notice", "kind": "account_locked", "message": message, "data": {"reason": status}}
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert await communicator.receive_nothing(timeout=0.2)
