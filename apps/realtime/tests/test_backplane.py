"""The consumers' use of the channel layer under load, on the real Redis layer."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from apps.realtime import consumers
from apps.realtime.groups import player_group
from apps.realtime.mailroom import RECEIVE_BATCH, Mailroom

pytestmark = pytest.mark.django_db  # no queries, but the run's settings point at the test database

SOCKETS = 300  # three times redis-py's pool size: unbounded, 200 of these joins were refused


async def test_many_sockets_joining_at_once_all_join_instead_of_overflowing_the_pool():
    layer = get_channel_layer()
    members = []
    for n in range(SOCKETS):
        member = consumers.PlayerConsumer()
        member.channel_layer = layer
        member.channel_name = await layer.new_channel()
        member.groups_to_join = [player_group(f"crowd{n}")]
        members.append(member)

    joined = await asyncio.gather(*(member.join_groups() for member in members))

    assert all(joined)
    connection = layer.connection(0)
    for member in members[:: SOCKETS // 10]:
        assert await connection.zscore(layer._group_key(member.groups_to_join[0]), member.channel_name) is not None
    await asyncio.gather(*(member.leave_groups() for member in members))
    assert not await connection.exists(*(layer._group_key(m.groups_to_join[0]) for m in members))


async def test_a_socket_whose_rejoin_failed_is_asked_again_and_beats_only_once_joined():
    """After Redis came back empty, the probe's connection can work while the group call of a
    socket meets a pooled connection to the Redis that went away: that socket is asked again at
    the next probe, and beats once, after its join, never before."""
    mailroom = Mailroom(get_channel_layer(), asyncio.get_running_loop())
    calls = []

    def recipient(name: str, joins: list[bool]):
        async def rejoin() -> bool:
            calls.append(f"{name} join")
            return joins.pop(0)

        async def beat() -> None:
            calls.append(f"{name} beat")

        return lambda message: None, rejoin, beat

    mailroom.recipients = {"steady": recipient("steady", [True]), "unlucky": recipient("unlucky", [False, True])}
    mailroom._owed = set(mailroom.recipients)

    await mailroom._rejoin_owed()

    assert sorted(calls) == ["steady beat", "steady join", "unlucky join"]
    assert mailroom._owed == {"unlucky"}

    calls.clear()
    await mailroom._rejoin_owed()

    assert calls == ["unlucky join", "unlucky beat"]
    assert mailroom._owed == set()


async def test_a_socket_that_closed_while_owed_a_rejoin_is_owed_nothing():
    mailroom = Mailroom(get_channel_layer(), asyncio.get_running_loop())
    mailroom._owed = {"gone"}

    await mailroom._rejoin_owed()

    assert mailroom._owed == set()


async def test_the_mailroom_takes_what_waits_for_its_process_in_one_round_trip_in_order():
    """Frames queued for the process's sockets while its loop was busy (a burst of bets) come out
    of Redis together, oldest first, each to its own socket's channel; with nothing waiting the
    receive blocks until the next one is sent."""
    layer = get_channel_layer()
    mailroom = Mailroom(layer, asyncio.get_running_loop())
    channels = [await layer.new_channel() for _ in range(3)]
    groups = [player_group(f"mailroom{n}") for n in range(3)]
    for channel, group in zip(channels, groups, strict=True):
        await layer.group_add(group, channel)
    process_channel = layer.non_local_name(channels[0])
    connection = layer.connection(layer.consistent_hash(process_channel))
    # The layer is this test process's, shared with the tests before: what they left queued for
    # the process's channels would come out first.
    await connection.delete(layer.prefix + process_channel)
    for n in range(150):  # more than one batch
        await layer.group_send(groups[n % 3], {"type": "wallet.updated", "n": n})
    commands = []
    original = connection.bzmpop

    async def counted(*args, **kwargs):
        commands.append(args)
        return await original(*args, **kwargs)

    connection.bzmpop = counted
    try:
        first = await mailroom._receive(process_channel)
        second = await mailroom._receive(process_channel)
        assert len(commands) == 2
        waiting = asyncio.create_task(mailroom._receive(process_channel))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await layer.group_send(groups[0], {"type": "wallet.updated", "n": 150})
        third = await asyncio.wait_for(waiting, 2)
    finally:
        del connection.bzmpop
        for channel, group in zip(channels, groups, strict=True):
            await layer.group_discard(group, channel)

    assert [len(first), len(second), len(third)] == [RECEIVE_BATCH, 50, 1]
    received = [(channel, message["n"]) for channel, message in first + second + third]
    assert received == [([channels[n % 3]], n) for n in range(151)]
