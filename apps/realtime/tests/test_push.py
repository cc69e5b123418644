"""apps.realtime.push on the real Redis layer: a batch of (group, message) pairs, sent in one
go, reaches every member of every group, in the order the batch gave."""

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
