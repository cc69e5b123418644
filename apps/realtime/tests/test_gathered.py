"""A process's sockets that beat or connect in the same moment share one database read and one
Redis round trip per purpose (gathered.py), and each still gets its own answer."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from apps.realtime.gathered import BeatCalls, Gathered
from apps.realtime.groups import player_group
from apps.realtime.presence import presence_of
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def test_calls_made_while_a_batch_is_in_flight_go_together_in_the_next():
    batches = []
    release = asyncio.Event()

    async def fetch(keys):
        batches.append(sorted(keys))
        await release.wait()
        return {key: key * 10 for key in keys}

    gathered = Gathered(fetch)
    first = asyncio.create_task(gathered(1))
    await asyncio.sleep(0)  # the first batch starts with the one call made so far
    await asyncio.sleep(0)
    crowd = [asyncio.create_task(gathered(n)) for n in (2, 3, 4, 3)]
    await asyncio.sleep(0)
    release.set()

    assert await first == 10
    assert await asyncio.gather(*crowd) == [20, 30, 40, 30]
    assert batches == [[1], [2, 3, 4]]


async def test_a_batch_that_fails_fails_each_of_its_callers_and_the_next_batch_still_runs():
    calls = 0

    async def fetch(keys):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("Redis away")
        return dict.fromkeys(keys, "ok")

    gathered = Gathered(fetch)
    failed = await asyncio.gather(gathered("a"), gathered("b"), return_exceptions=True)
    assert [type(result) for result in failed] == [ConnectionError, ConnectionError]
    assert await gathered("c") == "ok"


async def test_a_caller_that_gives_up_leaves_the_others_their_answer():
    release = asyncio.Event()

    async def fetch(keys):
        await release.wait()
        return dict.fromkeys(keys, True)

    gathered = Gathered(fetch)
    patient = asyncio.create_task(gathered("patient"))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await gathered("impatient")
    release.set()
    assert await patient is True


@database_sync_to_async
def players_with_versions(count: int) -> dict[int, int]:
    versions = {}
    for n in range(count):
        player = funded_player(1_000, username=f"gathered{n}")
        for _ in range(n % 3):  # versions of their own: 1, 2 or 3
            wallet.adjust_balance(player_id=player.pk, amount=1, reason="test", acting_user=None)
        versions[player.pk] = wallet_selectors.get_wallet_state(player.pk).version
    return versions


async def test_a_crowd_of_heartbeats_reads_the_versions_together(monkeypatch):
    versions = await players_with_versions(30)
    assert len(set(versions.values())) == 3
    reads = []
    read = wallet_selectors.get_wallet_versions

    def counted(player_ids):
        reads.append(len(player_ids))
        return read(player_ids)

    monkeypatch.setattr(wallet_selectors, "get_wallet_versions", counted)
    calls = BeatCalls(get_channel_layer())

    first = await calls.version(next(iter(versions)))
    shown = await asyncio.gather(*(calls.version(player_id) for player_id in versions))

    assert first == next(iter(versions.values()))
    assert shown == list(versions.values())
    assert reads == [1, 30]  # the first beat alone, then the crowd together


def test_the_versions_of_many_players_are_one_statement(django_assert_num_queries):
    players = [funded_player(100, username=f"versions{n}") for n in range(5)]
    wallet.adjust_balance(player_id=players[0].pk, amount=1, reason="test", acting_user=None)
    unfunded = funded_player(0, username="versions-unfunded")

    with django_assert_num_queries(1):
        versions = wallet_selectors.get_wallet_versions([p.pk for p in players] + [unfunded.pk])

    assert versions == {**{p.pk: 1 for p in players}, players[0].pk: 2, unfunded.pk: 0}


async def test_gathered_joins_and_presence_are_what_group_add_and_seen_leave_in_redis():
    layer = get_channel_layer()
    calls = BeatCalls(layer)
    channels = [await layer.new_channel() for _ in range(5)]
    groups = [player_group(f"joined{n % 2}") for n in range(5)]
    presence = presence_of(layer)
    redis = layer.connection(0)
    try:
        before = time.time()
        await asyncio.gather(*(calls.join((g, c)) for g, c in zip(groups, channels, strict=True)))
        await asyncio.gather(*(calls.seen(channel) for channel in channels))

        for group, channel in zip(groups, channels, strict=True):
            key = layer._group_key(group)
            assert await layer.connection(layer.consistent_hash(group)).zscore(key, channel) >= int(before)
            assert 0 < await layer.connection(layer.consistent_hash(group)).ttl(key) <= layer.group_expiry
        index = presence.index
        for channel in channels:
            assert await layer.connection(index).zscore(presence.key, channel) > before
        # A group send reaches every socket joined that way. (The process's list may hold
        # messages already: earlier tests' sends to sockets of this process that have gone.)
        process_list = layer.prefix + layer.non_local_name(channels[0])
        already = await redis.zcard(process_list)
        await layer.group_send(groups[0], {"type": "wallet.updated", "n": 1})
        # one message for the three channels of the group, on the process's list
        assert await redis.zcard(process_list) - already == 1
    finally:
        for group, channel in zip(groups, channels, strict=True):
            await layer.group_discard(group, channel)
        for channel in channels:
            await presence.gone(channel)
        await redis.delete(layer.prefix + layer.non_local_name(channels[0]))
