"""A player's socket ends with the sign-in it was opened with, on a real Redis channel layer: a
site session signed out closes that session's sockets and those whose tickets it asked for; a
revoked bearer token (a logout through the API, a password change) closes the sockets whose
tickets it asked for; a password change or a deactivation closes every cookie socket whose
session no longer signs the player in, and every socket whose ticket such a session asked for.
Each closes 4401, the code a new connection with that sign-in gets; the player's sockets of other
sign-ins keep receiving.

A close is awaited for one second at most: the heartbeat is 20 s, so a close within a second is
the sign-out's message."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.tests.factories import PASSWORD
from apps.compliance import services as compliance
from apps.realtime import services
from apps.realtime.consumers import PlayerConsumer
from apps.realtime.tests.test_consumers import assert_closed_with, bet, connect, funded_player

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PROMPTLY = 1.0  # seconds
TICKET = "/api/player/v1/realtime/ticket"


@database_sync_to_async
def site_session(player) -> tuple[Client, list[tuple[bytes, bytes]]]:
    client = Client()
    client.force_login(player.user)
    name = settings.SESSION_COOKIE_NAME
    return client, [(b"cookie", f"{name}={client.cookies[name].value}".encode())]


@database_sync_to_async
def bearer(player) -> tuple[str, APIClient]:
    token = accounts.issue_token(player.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return token, client


@database_sync_to_async
def ticket_asked_by(client) -> str:
    response = client.post(TICKET)
    assert response.status_code == 201, response.content
    return response.json()["ticket"]


async def open_socket(path: str, headers=None):
    socket, connected = await connect(path, headers)
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    return socket


async def assert_closed_promptly(socket, code: int) -> None:
    """The next thing the socket gets is its close, within PROMPTLY: no frame before it."""
    assert await socket.receive_output(timeout=PROMPTLY) == {"type": "websocket.close", "code": code}


async def assert_gets_a_bet(socket, player) -> None:
    await bet(player, 10)
    assert (await socket.receive_json_from(timeout=5))["type"] == "wallet.updated"


async def test_a_site_sign_out_closes_that_sessions_sockets_and_its_tickets_and_leaves_the_others():
    player = await funded_player(1_000)
    (client, cookie), (_, other_cookie) = await site_session(player), await site_session(player)
    page = await open_socket("/ws/player/", cookie)
    by_ticket = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")
    other_session = await open_socket("/ws/player/", other_cookie)

    response = await database_sync_to_async(client.post)("/logout/")
    assert response.status_code in (200, 302)

    await assert_closed_promptly(page, 4401)
    await assert_closed_promptly(by_ticket, 4401)
    await assert_gets_a_bet(other_session, player)
    again, _ = await connect("/ws/player/", cookie)
    await assert_closed_with(again, 4401)  # the code a new connection with it gets
    await other_session.disconnect()


async def test_a_logout_through_the_api_closes_the_sockets_its_token_opened_and_leaves_the_others():
    player = await funded_player(1_000)
    (_, client), (_, other_client) = await bearer(player), await bearer(player)
    first = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")
    second = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")
    other_token = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(other_client)}")

    response = await database_sync_to_async(client.post)("/api/player/v1/auth/logout")
    assert response.status_code == 204

    await assert_closed_promptly(first, 4401)
    await assert_closed_promptly(second, 4401)
    await assert_gets_a_bet(other_token, player)
    assert (await database_sync_to_async(client.post)(TICKET)).status_code == 401
    await other_token.disconnect()


async def test_a_password_change_closes_every_socket_a_token_of_the_player_opened():
    player = await funded_player(1_000)
    (_, client), (_, other_client) = await bearer(player), await bearer(player)
    sockets = [await open_socket(f"/ws/player/?ticket={await ticket_asked_by(c)}") for c in (client, other_client)]

    await database_sync_to_async(accounts.set_password)(user=player.user, password="a new and long passphrase")

    for socket in sockets:
        await assert_closed_promptly(socket, 4401)


async def test_a_token_revoked_between_the_connects_read_and_its_join_still_closes_it(monkeypatch):
    """The sign-out's message goes to the player's group before the socket is in it: the socket
    reads its sign-in again once it has joined."""
    player = await funded_player(1_000)
    token, client = await bearer(player)
    ticket = await ticket_asked_by(client)
    join = PlayerConsumer.join_groups

    async def revoked_then_joined(self):
        await database_sync_to_async(accounts.revoke_token)(token)
        return await join(self)

    monkeypatch.setattr(PlayerConsumer, "join_groups", revoked_then_joined)
    socket, connected = await connect(f"/ws/player/?ticket={ticket}")

    assert connected
    await assert_closed_promptly(socket, 4401)


async def test_a_ticket_of_a_sandbox_command_names_no_sign_in_and_is_served():
    player = await funded_player(1_000)
    ticket = await database_sync_to_async(services.issue_ticket)(player=player)  # as `realtime_ticket` does

    socket = await open_socket(f"/ws/player/?ticket={ticket}")

    await assert_gets_a_bet(socket, player)
    await socket.disconnect()


async def test_an_exclusion_revokes_the_tokens_and_their_sockets_close_with_its_notice_not_the_sign_out():
    player = await funded_player(1_000)
    _, client = await bearer(player)
    socket = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")

    await database_sync_to_async(compliance.start_time_out)(player=player, hours=24)

    notice = await socket.receive_json_from(timeout=5)
    assert (notice["type"], notice["kind"]) == ("notice", "account_locked")
    await assert_closed_with(socket, 4403)
    assert (await database_sync_to_async(client.post)(TICKET)).status_code == 401


async def test_a_password_change_on_the_site_closes_the_cookie_sockets_opened_before_it():
    """The other session ends; the changing one goes on under a new key, whose new socket is
    served. Its sockets opened before the change close too: their page is the one re-rendered."""
    player = await funded_player(1_000)
    (client, cookie), (_, other_cookie) = await site_session(player), await site_session(player)
    own, other = await open_socket("/ws/player/", cookie), await open_socket("/ws/player/", other_cookie)
    new_password = "a new and long passphrase"

    response = await database_sync_to_async(client.post)(
        "/account/", {"current_password": PASSWORD, "new_password": new_password, "new_password_again": new_password}
    )
    assert response.status_code == 200, response.content
    assert response.context["changed"]

    await assert_closed_promptly(other, 4401)
    await assert_closed_promptly(own, 4401)
    name = settings.SESSION_COOKIE_NAME
    renewed = await open_socket("/ws/player/", [(b"cookie", f"{name}={client.cookies[name].value}".encode())])
    await assert_gets_a_bet(renewed, player)
    again, _ = await connect("/ws/player/", other_cookie)
    await assert_closed_with(again, 4401)
    await renewed.disconnect()


async def test_an_operators_password_reset_closes_every_cookie_socket_of_the_player():
    player = await funded_player(1_000)
    sockets = [await open_socket("/ws/player/", (await site_session(player))[1]) for _ in range(2)]

    await database_sync_to_async(accounts.set_password)(user=player.user, password="a new and long passphrase")

    for socket in sockets:
        await assert_closed_promptly(socket, 4401)


async def test_a_password_change_closes_the_sockets_of_tickets_a_session_asked_for():
    """The socket keeps the password hash its session carried (not the session's key): a new
    password ends the session, and the socket with it; a save that ends nothing leaves it."""
    player = await funded_player(1_000)
    client, _ = await site_session(player)
    kept = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")
    player.user.first_name = "Ada"
    await database_sync_to_async(player.user.save)()
    await assert_gets_a_bet(kept, player)
    ended = await open_socket(f"/ws/player/?ticket={await ticket_asked_by(client)}")

    await database_sync_to_async(accounts.set_password)(user=player.user, password="a new and long passphrase")

    await assert_closed_promptly(kept, 4401)
    await assert_closed_promptly(ended, 4401)
    assert (await database_sync_to_async(client.post)(TICKET)).status_code in (401, 403)


async def test_a_deactivated_players_cookie_sockets_close():
    player = await funded_player(1_000)
    socket = await open_socket("/ws/player/", (await site_session(player))[1])
    player.user.is_active = False

    await database_sync_to_async(player.user.save)(update_fields=["is_active"])

    await assert_closed_promptly(socket, 4401)


async def test_a_save_that_ends_no_sign_in_leaves_the_sockets_serving():
    """A save that names no field is read again by every socket, and each finds it still signed in."""
    player = await funded_player(1_000)
    socket = await open_socket("/ws/player/", (await site_session(player))[1])
    player.user.first_name = "Ada"

    await database_sync_to_async(player.user.save)()

    await assert_gets_a_bet(socket, player)
    await socket.disconnect()
