"""The consumers' use of the channel layer under load, on the real Redis layer."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from apps.realtime import consumers
from apps.realtime.groups import player_group

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
