"""What a committed bet costs beyond CPU, for docs/scaling.md's capacity arithmetic: the WAL it
writes, and the Redis CPU of its two pushes (the player's group and the back-office feed).

    BENCH_DATABASE=pam_costs_me .venv/bin/python -m bench.scaling_costs [N]

WAL: N bets through `wallet.services.place_bet`, each its own committed transaction, over 50
funded players, with the after-commit work running as under `make serve` (the outbox rows marked
dispatched, the pushes sent); the WAL insert position before and after, divided by N.
Redis: N batches of the push's own `_group_send_batch` (the two group sends of one bet), first
alone, then with a consumer popping both frames as a socket's process does; Redis's `INFO cpu`
before and after, divided by N.

Both counters are server-wide: whatever else runs on the same PostgreSQL or Redis is counted
too, so on a shared machine the figures are upper bounds. Three rounds each; the smallest is the
one to quote. Uses the bench database settings (a fresh database, migrated here).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import uuid

from bench.profiling import funded_players
from bench.server import set_up_in_process

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2000
ROUNDS = 3
PLAYERS = 50


def _setup() -> None:
    set_up_in_process("pamcosts")


def _players() -> list[int]:
    return funded_players("costs", PLAYERS)


def _bets(players: list[int], count: int) -> None:
    from apps.common.idempotency import ExternalRef
    from apps.wallet import services

    for n in range(count):
        external_id = f"b{n}-{uuid.uuid4().hex[:8]}"
        services.place_bet(player_id=players[n % len(players)], currency="EUR", amount=1,
                           ref=ExternalRef("costs", external_id, external_id), round_id=external_id[:12],
                           game_id="slot")  # fmt: skip


def _wal_position() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def _wal_since(position: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)", [position])
        return int(cursor.fetchone()[0])


def wal_per_bet(players: list[int]) -> list[float]:
    from apps.common import events

    _bets(players, 200)  # every player's rows and the house's id in place, as in a running server
    events.dispatched.flush()
    rounds = []
    for _ in range(ROUNDS):
        before = _wal_position()
        _bets(players, N)
        events.dispatched.flush()  # the outbox rows' marking is part of a bet's cost
        rounds.append(_wal_since(before) / N)
    return rounds


def _redis_cpu(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _pushes(*, receive: bool) -> float:
    import redis
    from channels.layers import get_channel_layer
    from django.conf import settings

    from apps.realtime.push import _group_send_batch

    layer = get_channel_layer()
    client = redis.Redis.from_url(settings.REDIS_URL)
    if receive:  # a socket's channel, as a consumer's process holds one
        player_channel, feed_channel = await layer.new_channel(), await layer.new_channel()
    else:  # a key of its own, left to expire: a process's channels share one key, whose capacity these would fill
        player_channel, feed_channel = f"costs.{uuid.uuid4().hex}", f"costs.{uuid.uuid4().hex}"
    player, feed = f"player.costs{uuid.uuid4().hex[:8]}", f"backoffice.costs{uuid.uuid4().hex[:8]}"
    await layer.group_add(player, player_channel)
    await layer.group_add(feed, feed_channel)
    frame = {"type": "wallet.updated", "version": 1, "balance": 123_456, "cash": 123_456, "bonus": 0,
             "currency": "EUR", "transaction_id": "123456789", "kind": "bet", "amount": -100,
             "created_at": "2026-12-05T06:00:00.000000Z"}  # fmt: skip
    before = _redis_cpu(client)
    for n in range(N):
        await _group_send_batch(layer, [(player, {"type": "wallet.updated", "frame": {**frame, "version": n}}),
                                        (feed, {"type": "feed.event", "frame": frame})])  # fmt: skip
        if receive:
            await layer.receive(player_channel)
            await layer.receive(feed_channel)
    spent = (_redis_cpu(client) - before) / N
    await layer.group_discard(player, player_channel)
    await layer.group_discard(feed, feed_channel)
    client.close()
    return spent


async def push_rounds() -> tuple[list[float], list[float]]:
    """(Redis CPU per bet sending only, with a consumer popping), ROUNDS each, on one event loop
    (the channel layer keeps its connections per loop)."""
    sending = [await _pushes(receive=False) for _ in range(ROUNDS)]
    popped = [await _pushes(receive=True) for _ in range(ROUNDS)]
    return sending, popped


def main() -> None:
    _setup()
    from apps.realtime import push

    # A server loop, as under uvicorn, so that the bets' pushes leave as they do in production.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    push.serve_from(loop)

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    wal = wal_per_bet(_players())
    sending, popped = asyncio.run(push_rounds())
    print(f"{started}, {N} per round, {ROUNDS} rounds (smallest first)")
    print(f"WAL per committed bet: {', '.join(f'{b:,.0f}' for b in sorted(wal))} bytes")
    print(f"Redis CPU per bet's two group sends: {', '.join(f'{s * 1e3:.3f}' for s in sorted(sending))} ms")
    print(f"  with a consumer popping both frames: {', '.join(f'{s * 1e3:.3f}' for s in sorted(popped))} ms")


if __name__ == "__main__":
    main()
