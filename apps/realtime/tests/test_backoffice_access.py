"""An open back-office socket follows its staff member's access, on a real Redis channel layer: a
change that takes access away reaches the staff member's sockets as it commits, and each then
forwards only what is still allowed, or closes with the code a new connection would get (4403:
nothing allowed; 4401: signed out, deactivated or deleted). A frame committed after the change
never reaches a socket that may no longer see it; a colleague whose access did not change keeps
receiving.

A close is awaited for one second at most: the heartbeat is 20 s, so a close within a second is
the change's message, not a later re-read."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.models import User
from apps.accounts.tests.factories import PASSWORD, make_staff
from apps.compliance import services as compliance
from apps.realtime.consumers import BackofficeFeedConsumer
from apps.realtime.tests.test_backoffice_feed import drain, player_with_cash
from apps.realtime.tests.test_consumers import assert_closed_with, connect, session_cookie
from apps.wallet.tests.factories import bet

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PROMPTLY = 1.0  # seconds


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


async def assert_closed_promptly(socket, code: int) -> None:
    """The next thing the socket gets is its close, within PROMPTLY: no frame before it."""
    assert await socket.receive_output(timeout=PROMPTLY) == {"type": "websocket.close", "code": code}


async def assert_gets_nothing_more(socket) -> None:
    assert await socket.receive_nothing(timeout=0.5), await socket.receive_output()


async def open_socket(user: User, query: str = ""):
    socket, connected = await connect(f"/ws/backoffice/{query}", await session_cookie(user))
    assert connected
    return socket


@database_sync_to_async
def in_a_group(*permissions: str, name: str = "ledger readers") -> tuple[User, Group]:
    """A staff member whose only access is one group holding `permissions` (no role: the
    table decides, not the role)."""
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(*(permission(p) for p in permissions))
    staff = make_staff(StaffRole.SUPPORT)
    staff.groups.set([group])
    return staff, group


@database_sync_to_async
def given_directly(*permissions: str) -> User:
    """A staff member in no group, with `permissions` given to them."""
    staff = make_staff(StaffRole.SUPPORT)
    staff.groups.clear()
    staff.user_permissions.add(*(permission(p) for p in permissions))
    return staff


async def a_bet_reaches(colleague, player) -> None:
    """A bet committed now reaches the colleague (so it had time to reach every other socket)."""
    await database_sync_to_async(bet)(player, 25)
    assert [f["event"] for f in await drain(colleague)] == ["bet"]


# --- the staff member's groups ---------------------------------------------------------------


def _remove_from_group(user: User, group: Group) -> None:
    user.groups.remove(group)


def _clear_groups(user: User, group: Group) -> None:
    user.groups.clear()


def _remove_from_members(user: User, group: Group) -> None:
    group.user_set.remove(user)


def _clear_members(user: User, group: Group) -> None:
    group.user_set.clear()


def _delete_group(user: User, group: Group) -> None:
    group.delete()


@pytest.mark.parametrize(
    "revoke", [_remove_from_group, _clear_groups, _remove_from_members, _clear_members, _delete_group]
)
async def test_a_staff_member_taken_out_of_every_group_is_closed_4403_and_gets_no_frame_after(revoke):
    player = await player_with_cash()
    staff, group = await in_a_group("wallet.view_transaction")
    socket = await open_socket(staff)
    colleague = await open_socket(await database_sync_to_async(make_staff)(StaffRole.FINANCE))
    await drain(colleague)  # the player's funding

    await database_sync_to_async(revoke)(staff, group)

    await assert_closed_promptly(socket, 4403)
    await a_bet_reaches(colleague, player)
    await assert_gets_nothing_more(socket)
    again, _ = await connect("/ws/backoffice/", await session_cookie(staff))
    await assert_closed_with(again, 4403)  # the code a new connection gets
    await colleague.disconnect()


async def test_a_role_removed_from_one_of_two_staff_members_leaves_the_other_streaming():
    player = await player_with_cash()
    revoked = await database_sync_to_async(make_staff)(StaffRole.SUPPORT)
    kept = await database_sync_to_async(make_staff)(StaffRole.SUPPORT)
    revoked_socket, kept_socket = await open_socket(revoked), await open_socket(kept)
    await drain(kept_socket)

    await database_sync_to_async(revoked.groups.clear)()

    await assert_closed_promptly(revoked_socket, 4403)
    await a_bet_reaches(kept_socket, player)
    await assert_gets_nothing_more(revoked_socket)
    await kept_socket.disconnect()


# --- the user row ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "code"),
    [("is_active", 4401), ("is_staff", 4403)],
    ids=["deactivated: the session signs no one in", "no longer staff: nothing allowed"],
)
@pytest.mark.parametrize("update_fields", [None, "named"], ids=["save", "save(update_fields)"])
async def test_a_user_saved_without_access_is_closed_with_the_code_a_new_connection_gets(field, code, update_fields):
    player = await player_with_cash()
    staff = await database_sync_to_async(make_staff)(StaffRole.ADMIN)
    cookie = await session_cookie(staff)
    socket, _ = await connect("/ws/backoffice/", cookie)
    colleague = await open_socket(await database_sync_to_async(make_staff)(StaffRole.ADMIN))
    await drain(colleague)

    setattr(staff, field, False)
    await database_sync_to_async(staff.save)(update_fields=[field] if update_fields else None)

    await assert_closed_promptly(socket, code)
    await a_bet_reaches(colleague, player)
    await assert_gets_nothing_more(socket)
    again, _ = await connect("/ws/backoffice/", cookie)
    await assert_closed_with(again, code)
    await colleague.disconnect()


async def test_a_save_that_changes_no_access_leaves_the_socket_streaming():
    player = await player_with_cash()
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    socket = await open_socket(staff)
    await drain(socket)

    staff.first_name = "Renamed"
    await database_sync_to_async(staff.save)()

    await a_bet_reaches(socket, player)
    await socket.disconnect()


async def test_a_deleted_user_is_closed_4401():
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    socket = await open_socket(staff)

    await database_sync_to_async(staff.delete)()

    await assert_closed_promptly(socket, 4401)


# --- permissions given to the staff member -------------------------------------------------------


def _remove_permission(user: User, perm: Permission) -> None:
    user.user_permissions.remove(perm)


def _clear_permissions(user: User, perm: Permission) -> None:
    user.user_permissions.clear()


def _remove_holder(user: User, perm: Permission) -> None:
    perm.user_set.remove(user)


def _clear_holders(user: User, perm: Permission) -> None:
    perm.user_set.clear()


@pytest.mark.parametrize("revoke", [_remove_permission, _clear_permissions, _remove_holder, _clear_holders])
async def test_a_staff_member_whose_last_permission_is_taken_is_closed_4403(revoke):
    player = await player_with_cash()
    staff = await given_directly("compliance.view_limit")
    socket = await open_socket(staff)
    colleague = await open_socket(await database_sync_to_async(make_staff)(StaffRole.ADMIN))
    await drain(colleague)

    await database_sync_to_async(revoke)(staff, await database_sync_to_async(permission)("compliance.view_limit"))

    await assert_closed_promptly(socket, 4403)
    await database_sync_to_async(compliance.set_limit)(player=player, kind="deposit", period="24h", amount=50_000)
    assert [f["event"] for f in await drain(colleague)] == ["limit"]
    await assert_gets_nothing_more(socket)
    await colleague.disconnect()


async def test_a_permission_taken_narrows_the_feed_to_what_is_left_and_says_so():
    player = await player_with_cash()
    staff = await given_directly("wallet.view_transaction", "compliance.view_limit")
    socket = await open_socket(staff, "?brand=acme")
    await drain(socket)

    await database_sync_to_async(staff.user_permissions.remove)(
        await database_sync_to_async(permission)("wallet.view_transaction")
    )

    assert await socket.receive_json_from(timeout=PROMPTLY) == {
        "type": "subscribed", "types": ["limit"], "brand": "acme", "min_amount": None, "player_id": None,
    }  # fmt: skip
    await database_sync_to_async(bet)(player, 25)
    await database_sync_to_async(compliance.set_limit)(player=player, kind="deposit", period="24h", amount=50_000)
    assert [f["event"] for f in await drain(socket)] == ["limit"]
    await socket.send_json_to({"type": "subscribe", "types": ["bet", "limit"]})  # asking again gets no more
    assert (await socket.receive_json_from(timeout=5))["types"] == ["limit"]
    await socket.disconnect()


# --- a group's permissions -------------------------------------------------------------------


def _take_from_group(group: Group, perm: Permission) -> None:
    group.permissions.remove(perm)


def _clear_group(group: Group, perm: Permission) -> None:
    group.permissions.clear()


def _take_group_from_permission(group: Group, perm: Permission) -> None:
    perm.group_set.remove(group)


@pytest.mark.parametrize("revoke", [_take_from_group, _clear_group, _take_group_from_permission])
async def test_a_groups_permission_taken_closes_every_member_left_with_nothing(revoke):
    player = await player_with_cash()
    staff, group = await in_a_group("wallet.view_transaction")
    member = await database_sync_to_async(make_staff)(StaffRole.SUPPORT)
    await database_sync_to_async(member.groups.set)([group])
    sockets = [await open_socket(staff), await open_socket(member)]
    colleague = await open_socket(await database_sync_to_async(make_staff)(StaffRole.FINANCE))
    await drain(colleague)

    await database_sync_to_async(revoke)(group, await database_sync_to_async(permission)("wallet.view_transaction"))

    for socket in sockets:
        await assert_closed_promptly(socket, 4403)
    await a_bet_reaches(colleague, player)
    for socket in sockets:
        await assert_gets_nothing_more(socket)
    await colleague.disconnect()


async def test_a_groups_permission_taken_narrows_a_member_who_keeps_others():
    player = await player_with_cash()
    staff, group = await in_a_group("wallet.view_transaction", "compliance.view_limit")
    socket = await open_socket(staff)
    await drain(socket)

    await database_sync_to_async(group.permissions.remove)(
        await database_sync_to_async(permission)("wallet.view_transaction")
    )

    assert (await socket.receive_json_from(timeout=PROMPTLY))["types"] == ["limit"]
    await database_sync_to_async(bet)(player, 25)
    await database_sync_to_async(compliance.set_limit)(player=player, kind="deposit", period="24h", amount=50_000)
    assert [f["event"] for f in await drain(socket)] == ["limit"]
    await socket.disconnect()


# --- signing out -----------------------------------------------------------------------------


@database_sync_to_async
def signed_in(user: User) -> tuple[Client, list[tuple[bytes, bytes]]]:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return client, [(b"cookie", f"{name}={client.cookies[name].value}".encode())]


async def test_signing_out_closes_that_sessions_sockets_4401_and_leaves_the_others():
    player = await player_with_cash()
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    (client, cookie), (_, other_cookie) = await signed_in(staff), await signed_in(staff)
    feed_page, strip = (await connect("/ws/backoffice/", cookie))[0], (await connect("/ws/backoffice/", cookie))[0]
    other_session = (await connect("/ws/backoffice/", other_cookie))[0]
    await drain(other_session)

    response = await database_sync_to_async(client.post)("/backoffice/logout/")
    assert response.status_code in (200, 302)

    await assert_closed_promptly(feed_page, 4401)
    await assert_closed_promptly(strip, 4401)
    await a_bet_reaches(other_session, player)
    for socket in (feed_page, strip):
        await assert_gets_nothing_more(socket)
    again, _ = await connect("/ws/backoffice/", cookie)
    await assert_closed_with(again, 4401)
    await other_session.disconnect()


async def test_a_password_change_closes_the_sockets_of_every_session_signed_in_before_it():
    """The back office's own password page: the other session ends, so its sockets close 4401;
    the changing session goes on under a new key, whose new socket is served."""
    player = await player_with_cash()
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    (client, cookie), (_, other_cookie) = await signed_in(staff), await signed_in(staff)
    own, other = (await connect("/ws/backoffice/", cookie))[0], (await connect("/ws/backoffice/", other_cookie))[0]
    new_password = "a new and long passphrase"

    response = await database_sync_to_async(client.post)(
        "/backoffice/password_change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302, response.content

    await assert_closed_promptly(other, 4401)
    await assert_closed_promptly(own, 4401)
    name = settings.SESSION_COOKIE_NAME
    renewed_cookie = [(b"cookie", f"{name}={client.cookies[name].value}".encode())]
    renewed, connected = await connect("/ws/backoffice/", renewed_cookie)
    assert connected
    await drain(renewed)
    await a_bet_reaches(renewed, player)
    again, _ = await connect("/ws/backoffice/", other_cookie)
    await assert_closed_with(again, 4401)
    await renewed.disconnect()


# --- a change that commits while a socket connects ------------------------------------------------


async def test_access_taken_between_the_connects_read_and_its_join_still_closes_it(monkeypatch):
    """The change's message goes to the staff member's group before the socket is in it: the socket
    reads its access again once it has joined."""
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    cookie = await session_cookie(staff)
    join = BackofficeFeedConsumer.join_groups

    async def revoked_then_joined(self):
        await database_sync_to_async(staff.groups.clear)()
        return await join(self)

    monkeypatch.setattr(BackofficeFeedConsumer, "join_groups", revoked_then_joined)
    socket, connected = await connect("/ws/backoffice/", cookie)

    assert connected
    await assert_closed_promptly(socket, 4403)


async def test_a_sign_out_between_the_connects_read_and_its_join_still_closes_it(monkeypatch):
    staff = await database_sync_to_async(make_staff)(StaffRole.FINANCE)
    client, cookie = await signed_in(staff)
    join = BackofficeFeedConsumer.join_groups

    async def signed_out_then_joined(self):
        await database_sync_to_async(client.post)("/backoffice/logout/")
        return await join(self)

    monkeypatch.setattr(BackofficeFeedConsumer, "join_groups", signed_out_then_joined)
    socket, connected = await connect("/ws/backoffice/", cookie)

    assert connected
    await assert_closed_promptly(socket, 4401)
