"""The back office's socket asks what its pages ask of a staff session: a session idle past
STAFF_SESSION_IDLE_SECONDS, or one that never gave a one-time code where two-factor sign-in is
required, is refused at connect with 4401 (docs/backoffice.md)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP

from apps.accounts import services
from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import PASSWORD, make_staff
from apps.realtime.tests.test_consumers import assert_closed_with, connect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def cookie_of(client: Client) -> list[tuple[bytes, bytes]]:
    name = settings.SESSION_COOKIE_NAME
    return [(b"cookie", f"{name}={client.cookies[name].value}".encode())]


@database_sync_to_async
def signed_in_with_a_code() -> list[tuple[bytes, bytes]]:
    """A support member's session, signed in on the back office's form with a code."""
    staff = make_staff(StaffRole.SUPPORT, username="sam")
    device = services.enrol_staff_otp(user=staff).device
    client = Client()
    code = f"{TOTP(device.bin_key).token():06d}"
    response = client.post("/backoffice/login/", {"username": "sam", "password": PASSWORD, "otp_token": code})
    assert response.status_code == 302, response.content
    return cookie_of(client)


@database_sync_to_async
def forced_session() -> list[tuple[bytes, bytes]]:
    """A support member's session that never gave a code (and has no activity stamp)."""
    client = Client()
    client.force_login(make_staff(StaffRole.SUPPORT, username="sam"))
    return cookie_of(client)


async def test_a_session_with_a_code_opens_the_socket_when_required(settings):
    settings.STAFF_2FA_REQUIRED = True
    with time_machine.travel(START, tick=False):
        feed, connected = await connect("/ws/backoffice/", await signed_in_with_a_code())
    assert connected
    await feed.disconnect()


async def test_a_session_without_a_code_is_refused_4401_when_required(settings):
    settings.STAFF_2FA_REQUIRED = True
    communicator, _ = await connect("/ws/backoffice/", await forced_session())
    await assert_closed_with(communicator, 4401)


async def test_a_session_without_a_code_opens_the_socket_when_not_required():
    feed, connected = await connect("/ws/backoffice/", await forced_session())
    assert connected
    await feed.disconnect()


async def test_an_idle_session_is_refused_4401():
    with time_machine.travel(START, tick=False) as clock:
        cookie = await signed_in_with_a_code()
        clock.shift(settings.STAFF_SESSION_IDLE_SECONDS - 1)
        feed, connected = await connect("/ws/backoffice/", cookie)
        assert connected
        await feed.disconnect()

        clock.shift(2)
        communicator, _ = await connect("/ws/backoffice/", cookie)
        await assert_closed_with(communicator, 4401)
