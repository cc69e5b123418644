"""The odds socket across instances (contracts/sportsbook.md, "Prices out"): a feed batch posted to
instance 1 reaches odds sockets on both instances, and the watchdog's suspension, committed by
another process (here the test's, as the outbox sweeper's would be), reaches them all too."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async

from apps.sportsbook import services
from apps.sportsbook.models import Feed
from apps.sportsbook.signature import signed_headers
from apps.sportsbook.tests.factories import FEED, SECRET, event, live, market
from tests.realtime.support import start_server, stop_server

pytestmark = [pytest.mark.timeout(180), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def post(server, *messages: dict) -> dict:
    body = json.dumps({"messages": list(messages)}).encode()
    headers = {"Content-Type": "application/json", **signed_headers(FEED, SECRET, body)}
    request = urllib.request.Request(f"{server.http}/api/feed/v1/messages", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def next_frame(socket) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), 10))


async def test_a_change_reaches_odds_sockets_on_every_instance(tmp_path, settings):
    settings.SPORTSBOOK_STALE_AFTER_SECONDS = 10
    await database_sync_to_async(services.save_feed)(code=FEED, secret=SECRET)
    one = await asyncio.to_thread(start_server, tmp_path, "instance-1")
    try:
        two = await asyncio.to_thread(start_server, tmp_path, "instance-2")
        try:
            assert await asyncio.to_thread(post, one, event(1), market(2), live(3)) == {"applied": 3, "skipped": 0}
            sockets = [await websockets.connect(f"{server.ws}/ws/odds/", open_timeout=10) for server in (one, two, two)]
            try:
                for socket in sockets:
                    await socket.send(json.dumps({"type": "subscribe", "event_ids": ["ev-1"]}))
                    assert (await next_frame(socket))["version"] == 1  # the snapshot

                await asyncio.to_thread(post, one, market(4, prices=("2.90", "3.20", "2.60")))

                for socket in sockets:
                    frame = await next_frame(socket)
                    assert (frame["version"], frame["status"], frame["prices"]["mk-1-home"]) == (2, "open", "2.90")

                heard_at = await database_sync_to_async(lambda: Feed.objects.get().last_message_at)()
                stale = await database_sync_to_async(services.suspend_stale_feeds)(
                    now=heard_at + dt.timedelta(seconds=10)
                )
                assert stale == 1

                for socket in sockets:
                    frame = await next_frame(socket)
                    assert (frame["version"], frame["status"], frame["delayed"]) == (3, "suspended", True)
            finally:
                for socket in sockets:
                    await socket.close()
        finally:
            await asyncio.to_thread(stop_server, two)
    finally:
        await asyncio.to_thread(stop_server, one)
