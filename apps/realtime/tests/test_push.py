"""apps.realtime.push on the real Redis layer: a batch of (group, message) pairs, sent in one
go, reaches every member of every group, in the order the batch gave."""

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from apps.realtime import push

pytestmark = pytest.mark.django_db  # no queries, but the run's settings point at the test database


async def test_a_batch_reaches_every_member_of_every_group_in_order():
    layer = get_channel_layer()
    first, second, empty = (f"pushtest.{uuid.uuid4().hex}" for _ in range(3))
    both, only_first = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(first, both)
    await layer.group_add(first, only_first)
    await layer.group_add(second, both)

    before = push.failures
    await push._send_all(
        [
            (first, {"type": "wallet.updated", "n": 1}),
            (empty, {"type": "wallet.updated", "n": 2}),
            (second, {"type": "wallet.updated", "n": 3}),
            (first, {"type": "wallet.updated", "n": 4}),
        ]
    )

    assert push.failures == before
    assert [(await layer.receive(both))["n"] for _ in range(3)] == [1, 3, 4]
    assert [(await layer.receive(only_first))["n"] for _ in range(2)] == [1, 4]
    for group, channel in ((first, both), (first, only_first), (second, both)):
        await layer.group_discard(group, channel)


async def test_a_push_after_redis_restarted_reaches_it_on_a_pooled_connection_made_before(monkeypatch):
    """Connections pooled before a Redis restart are dead; the first command on each must
    reconnect and go through rather than fail the push (as it did with redis-py's default of no
    retry: a frame lost seconds after Redis was back)."""
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    from tests.realtime.support import own_redis

    with own_redis() as backplane:
        hosts = [{**settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], "address": backplane.url}]
        layer = RedisChannelLayer(hosts=hosts, prefix="pushtest")
        monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
        group = f"pushtest.{uuid.uuid4().hex}"
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        pool_size = 4
        # Several connections in the pool at once, as concurrent sends leave it.
        await asyncio.gather(*(push._send_all([(group, {"type": "t", "n": 0})]) for _ in range(pool_size)))
        for _ in range(pool_size):
            await layer.receive(channel)

        backplane.stop()
        backplane.start()
        await layer.group_add(group, channel)  # the restarted Redis keeps nothing
        before = push.failures
        for n in range(1, pool_size + 1):
            await push._send_all([(group, {"type": "t", "n": n})])
        assert push.failures == before
        assert [(await layer.receive(channel))["n"] for _ in range(pool_size)] == list(range(1, pool_size + 1))
        await layer.flush()


async def test_a_channel_at_capacity_misses_the_frame_and_the_group_expired_members_are_dropped(monkeypatch):
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    hosts = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    layer = RedisChannelLayer(hosts=hosts, prefix=f"pushtest{uuid.uuid4().hex[:8]}", capacity=2, group_expiry=60)
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    group = f"pushtest.{uuid.uuid4().hex}"
    # Channels of their own (not this process's specific ones, which share one key and capacity).
    full, room, gone = (f"pushtest{name}.{uuid.uuid4().hex}" for name in ("full", "room", "gone"))
    for channel in (full, room, gone):
        await layer.group_add(group, channel)
    # `gone` joined longer ago than the group expiry: the push drops it from the group.
    await layer.connection(0).zadd(layer._group_key(group), {gone: 1})
    await push._send_all([(group, {"type": "t", "n": n}) for n in (1, 2)])
    assert [(await layer.receive(room))["n"] for _ in range(2)] == [1, 2]  # `room` drained
    before = push.failures
    await push._send_all([(group, {"type": "t", "n": 3})])  # `full` holds 1 and 2 still

    assert push.failures == before
    assert (await layer.receive(room))["n"] == 3
    assert [(await layer.receive(full))["n"] for _ in range(2)] == [1, 2]
    assert await layer.connection(0).zcard(layer.prefix + full) == 0  # 3 never joined them
    members = await layer.connection(0).zrange(layer._group_key(group), 0, -1)
    assert sorted(members) == sorted(channel.encode() for channel in (full, room))
    await layer.flush()


async def test_a_push_after_the_server_forgot_its_scripts_loads_them_again():
    layer = get_channel_layer()
    group = f"pushtest.{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    await layer.connection(0).script_flush()
    before = push.failures

    await push._send_all([(group, {"type": "t", "n": 1})])

    assert push.failures == before
    assert (await layer.receive(channel))["n"] == 1
    await layer.group_discard(group, channel)
