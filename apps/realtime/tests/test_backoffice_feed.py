"""The back-office feed's permissions and filters, on a real Redis channel layer: each role gets
exactly the event types its permissions allow, and a socket's subscription (type, brand, amount,
player) is applied on the server, so a frame it filters out never reaches the socket."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from apps.accounts import services as accounts
from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.compliance import services as compliance
from apps.compliance import signals as compliance_signals
from apps.compliance.tests.factories import deposit, withdraw
from apps.realtime import feed
from apps.realtime.tests.test_consumers import assert_closed_with, connect, session_cookie
from apps.wallet.tests.factories import bet, funded_player

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ALL = {"bet", "deposit", "money", "withdrawal", "alert", "limit", "exclusion"}
# What each role's permissions (accounts/roles.py) let it see, written out: support reads no
# alerts, finance nothing of player protection (compliance reads withdrawals, for AML reviews).
EXPECTED = {
    StaffRole.SUPPORT: ALL - {"alert"},
    StaffRole.COMPLIANCE: ALL,
    StaffRole.FINANCE: {"bet", "deposit", "money", "withdrawal"},
    StaffRole.ADMIN: ALL,
}


@database_sync_to_async
def player_with_cash(amount: int = 10_000, brand: str = "acme"):
    player = funded_player(amount, brand=brand)  # the funding is an adjustment: a "money" event
    accounts.set_kyc_status(player_id=player.pk, kyc_status="verified", reason="test")
    return player


@database_sync_to_async
def one_of_each(player) -> None:
    """A bet, a deposit, a withdrawal, an alert, a limit set and an exclusion, each committed."""
    bet(player, 150)
    deposit(player, 2_000)
    withdraw(player, 1_000)
    with transaction.atomic():  # an alert as the rule engine sends it: after its commit
        from apps.common.events import send_after_commit

        send_after_commit(
            compliance_signals.alert_raised, alert_id="a-1", player_id=str(player.pk), rule="r", rule_version=1,
            rule_type="deposit_threshold", severity="high", value=1, threshold=1, currency="EUR",
            created_at="2026-03-02T12:00:00Z",
        )  # fmt: skip
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=50_000)
    compliance.start_time_out(player=player, hours=24)


async def drain(socket, quiet: float = 1.0) -> list[dict]:
    frames = []
    while not await socket.receive_nothing(timeout=quiet):
        frames.append(await socket.receive_json_from(timeout=5))
    return frames


async def staff_socket(role: StaffRole, query: str = ""):
    staff = await database_sync_to_async(make_staff)(role)
    socket, connected = await connect(f"/ws/backoffice/{query}", await session_cookie(staff))
    assert connected
    return socket


async def subscribe(socket, **fields) -> dict:
    await socket.send_json_to({"type": "subscribe", **fields})
    answer = await socket.receive_json_from(timeout=5)
    assert answer["type"] == "subscribed", answer
    return answer


async def test_each_role_gets_exactly_the_event_types_its_permissions_allow():
    sockets = {role: await staff_socket(role) for role in EXPECTED}
    player = await player_with_cash()
    await one_of_each(player)

    for role, socket in sockets.items():
        frames = await drain(socket)
        assert {f["event"] for f in frames} == EXPECTED[role], role
        assert all(f["player_id"] == str(player.pk) and f["brand"] == "acme" for f in frames)
        await socket.disconnect()


async def test_the_frames_carry_what_the_filters_need():
    socket = await staff_socket(StaffRole.ADMIN)
    player = await player_with_cash()
    await one_of_each(player)

    frames = {f["event"]: f for f in await drain(socket)}

    assert (frames["bet"]["type"], frames["bet"]["amount"], frames["bet"]["transaction"]["amount"]) == (
        "wallet.updated", 150, -150,
    )  # fmt: skip
    assert (frames["deposit"]["amount"], frames["withdrawal"]["amount"]) == (2_000, 1_000)
    assert {k: frames["limit"][k] for k in ("type", "kind", "period", "status", "new_amount", "currency")} == {
        "type": "limit.changed", "kind": "deposit", "period": "24h", "status": "applied", "new_amount": 50_000,
        "currency": "EUR",
    }  # fmt: skip
    assert (frames["exclusion"]["type"], frames["exclusion"]["kind"]) == ("player.excluded", "time_out")
    assert (frames["alert"]["type"], frames["alert"]["alert_id"]) == ("alert", "a-1")
    await socket.disconnect()


async def test_a_player_filter_means_another_players_frames_never_arrive():
    watched, other = await player_with_cash(), await player_with_cash()
    socket = await staff_socket(StaffRole.ADMIN, f"?player_id={watched.pk}")

    await one_of_each(other)
    assert await drain(socket) == []
    await database_sync_to_async(bet)(watched, 10)
    [frame] = await drain(socket)
    assert (frame["player_id"], frame["event"]) == (str(watched.pk), "bet")
    await socket.disconnect()


async def test_subscribe_changes_the_filters_by_type_brand_and_amount_without_reconnecting():
    acme, other_brand = await player_with_cash(), await player_with_cash(brand="other")
    socket = await staff_socket(StaffRole.ADMIN)

    answer = await subscribe(socket, types=["bet"], brand="acme", min_amount=100)
    assert answer == {"type": "subscribed", "types": ["bet"], "brand": "acme", "min_amount": 100, "player_id": None}
    await database_sync_to_async(bet)(acme, 99)  # too small
    await database_sync_to_async(bet)(other_brand, 500)  # another brand
    await database_sync_to_async(deposit)(acme, 5_000)  # another type
    await database_sync_to_async(bet)(acme, 100)
    [frame] = await drain(socket)
    assert (frame["event"], frame["amount"], frame["brand"]) == ("bet", 100, "acme")

    await subscribe(socket, types=["deposit"], brand="other")
    await database_sync_to_async(deposit)(acme, 700)
    await database_sync_to_async(deposit)(other_brand, 800)
    [frame] = await drain(socket)
    assert (frame["event"], frame["amount"], frame["player_id"]) == ("deposit", 800, str(other_brand.pk))
    await socket.disconnect()


async def test_a_role_asking_for_types_it_may_not_see_gets_only_its_own():
    socket = await staff_socket(StaffRole.SUPPORT)

    answer = await subscribe(socket, types=["alert", "bet"])

    assert answer["types"] == ["bet"]
    player = await player_with_cash()
    await one_of_each(player)
    assert {f["event"] for f in await drain(socket)} == {"bet"}
    await socket.disconnect()


async def test_a_bad_subscribe_gets_a_notice_and_keeps_the_filters_it_had():
    player = await player_with_cash()
    socket = await staff_socket(StaffRole.FINANCE, f"?player_id={player.pk}&types=bet")
    for bad in ({"types": ["nonsense"]}, {"types": "bet"}, {"min_amount": -1}, {"min_amount": "10"},
                {"player_id": "x"}, {"brand": 3}):  # fmt: skip
        await socket.send_json_to({"type": "subscribe", **bad})
        frame = await socket.receive_json_from(timeout=5)
        assert (frame["type"], frame["kind"]) == ("notice", "invalid_request"), bad

    await database_sync_to_async(deposit)(player, 300)
    await database_sync_to_async(bet)(player, 30)
    assert [f["event"] for f in await drain(socket)] == ["bet"]
    await socket.disconnect()


async def test_a_bad_filter_in_the_url_is_refused():
    staff = await database_sync_to_async(make_staff)(StaffRole.ADMIN)
    socket, _ = await connect("/ws/backoffice/?types=nonsense", await session_cookie(staff))
    assert (await socket.receive_json_from(timeout=5))["kind"] == "invalid_request"
    await assert_closed_with(socket, 4403)


def test_the_table_names_only_permissions_that_exist():
    from django.contrib.auth.models import Permission

    for permission in feed.FEED_PERMISSIONS.values():
        app_label, codename = permission.split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), permission


def test_a_payout_has_no_size_so_a_size_filter_never_hides_it():
    subscription = feed.Subscription(types=frozenset({"withdrawal"}), min_amount=1_000)
    assert subscription.wants({"event": "withdrawal", "amount": None})
    assert not subscription.wants({"event": "withdrawal", "amount": 999})


def test_a_renamed_brand_shows_under_its_new_code_once_the_cache_expires(monkeypatch):
    from apps.accounts.models import Brand
    from apps.realtime import receivers

    player = funded_player(0, brand="renamed")
    assert receivers._brand_code({"player_id": str(player.pk), "brand_id": player.brand_id}) == "renamed"
    Brand.objects.filter(pk=player.brand_id).update(code="renamed-2")
    monkeypatch.setattr(receivers, "_BRAND_CODES_TTL_SECONDS", 0.0)
    assert receivers._brand_code({"player_id": str(player.pk), "brand_id": player.brand_id}) == "renamed-2"
    assert receivers._brand_code({"player_id": str(player.pk)}) == "renamed-2"  # an event from before brand_id


async def ledger_reader_socket():
    """A staff member who reads the ledger but not the cashier's withdrawals (no role is that
    narrow today: the permission table decides, not the role)."""

    @database_sync_to_async
    def reader():
        from django.contrib.auth.models import Permission

        staff = make_staff(StaffRole.SUPPORT)
        staff.groups.clear()
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label="wallet", codename="view_transaction")
        )
        return staff

    socket, connected = await connect("/ws/backoffice/", await session_cookie(await reader()))
    assert connected
    return socket


async def test_a_withdrawal_approval_reaches_staff_who_may_read_withdrawals_only():
    from apps.payments import services as payments
    from apps.payments.tests.factories import a_provider, request_withdrawal, verified_player

    finance, compliance_socket = await staff_socket(StaffRole.FINANCE), await ledger_reader_socket()

    @database_sync_to_async
    def approved_withdrawal():
        a_provider()
        player = verified_player(500_000)
        waiting = request_withdrawal(player, 200_000)  # above the brand's auto-approval: in the queue
        payments.approve_withdrawal(withdrawal_id=waiting.pk, acting_user=make_staff(StaffRole.FINANCE))
        return player, waiting

    player, waiting = await approved_withdrawal()

    frames = [f for f in await drain(finance) if f["type"] == "withdrawal.approved"]
    assert frames == [{
        "type": "withdrawal.approved", "event": "withdrawal", "player_id": str(player.pk), "brand": "acme",
        "withdrawal_id": waiting.public_id, "amount": 200_000, "currency": "EUR",
        "approved_at": frames[0]["approved_at"],
    }]  # fmt: skip
    assert "withdrawal" not in {f["event"] for f in await drain(compliance_socket)}
    await finance.disconnect()
    await compliance_socket.disconnect()
