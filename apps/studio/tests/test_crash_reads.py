"""The room as a joining socket reads it: PostgreSQL's one statement gives the same session, round,
bets and chain as the ORM's queries (embedded mode's path), in every state of the room."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from apps.common.tokens import hash_token
from apps.studio import crash_reads, crash_room
from apps.studio.models import CrashBet, CrashBetState, CrashRound, Session

pytestmark = pytest.mark.django_db


def shown(view: crash_reads.RoomView) -> dict:
    """Every value the snapshot frame reads, comparable."""

    def values(instance, names):
        return None if instance is None else {name: getattr(instance, name) for name in names}

    return {
        "session": values(view.session, [f.attname for f in Session._meta.concrete_fields]),
        "round": values(view.round, [f.attname for f in CrashRound._meta.concrete_fields]),
        "round_chain": None if view.round is None else values(view.round.chain, ["id", "commitment"]),
        "bets": [values(bet, ["id", "session_id", "player_id", "stake", "cashout_x100", "win"]) for bet in view.bets],
        "chain": values(view.chain, ["id", "commitment"]),
    }


def both(column: str, value) -> dict:
    """The statement's view, asserted equal to the ORM's."""
    by_sql = shown(crash_reads._read(column, value))
    assert by_sql == shown(crash_reads._read_with_orm(column, value))
    return by_sql


def session(key_hash: str, game_code: str = "pam-crash", **fields) -> Session:
    return Session.objects.create(
        key_hash=key_hash, player_id=f"p-{key_hash[:4]}", currency="EUR", game_code=game_code,
        opened_at=timezone.now() - timedelta(minutes=3), **fields,
    )  # fmt: skip


def bet(round_: CrashRound, owner: Session, state: str, **fields) -> CrashBet:
    return CrashBet.objects.create(
        round=round_, session=owner, player_id=owner.player_id, currency="EUR", stake=100, state=state,
        placed_at=timezone.now(), **fields,
    )  # fmt: skip


def test_the_statement_reads_what_the_orm_reads_in_every_state_of_the_room(settings):
    settings.STUDIO_CRASH_BETTING_MS = 5000
    me = session("a" * 64, staked=300, returned=120, show_session_info=True)
    other = session("b" * 64)
    third = session("c" * 64)
    assert both("key_hash", "f" * 64)["session"] is None  # nobody
    assert both("key_hash", session("d" * 64, game_code="pam-slot").key_hash)["session"] is None

    empty = both("key_hash", me.key_hash)  # before the first chain
    assert empty["session"]["staked"] == 300
    assert (empty["round"], empty["chain"]) == (None, None)

    first, _ = crash_room.open_round()  # betting: the chain exists, and the round
    bet(first, other, CrashBetState.PENDING)
    bet(first, me, CrashBetState.ACCEPTED)
    betting = both("id", me.pk)
    assert betting["round"]["phase"] == "betting"
    assert [b["session_id"] for b in betting["bets"]] == [me.pk]  # a pending bet is not in view
    assert betting["chain"] == betting["round_chain"] == {"id": first.chain_id, "commitment": first.chain.commitment}

    assert crash_room.start_round(first)
    CrashBet.objects.filter(session=other).update(state=CrashBetState.ACCEPTED)
    bet(first, third, CrashBetState.VOID)
    CrashBet.objects.filter(session=me).update(state=CrashBetState.CASHED_OUT, cashout_x100=150, win=150)
    assert crash_room.crash_round(first) is not None
    crashed = both("key_hash", other.key_hash)
    assert crashed["round"]["phase"] == "crashed"
    assert crashed["round"]["seed"]
    assert [(b["session_id"], b["win"], b["cashout_x100"]) for b in crashed["bets"]] == [
        (other.pk, 0, None), (me.pk, 150, 150),
    ]  # fmt: skip

    second, _ = crash_room.open_round()  # a new round: the bets in view are its own
    fresh = both("key_hash", me.key_hash)
    assert (fresh["round"]["number"], fresh["bets"]) == (second.number, [])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_late_joiner_gets_its_snapshot_from_the_statement(settings):
    """Through `join`, as the socket calls it: on a thread of the studio's pool, its own connection."""
    settings.STUDIO_CRASH_BETTING_MS = 5000
    key = "late-joiner-key"
    joining = await database_sync_to_async(session)(hash_token(key), show_session_info=True)
    await database_sync_to_async(crash_room.open_round)()
    joined = await crash_room.join(key)
    assert joined is not None
    found, frame = joined
    assert found.pk == joining.pk
    assert frame["round"]["phase"] == "betting"
    assert frame["commitment"]
    assert frame["you"]["net_position"] == 0
    assert frame["you"]["show_session_info"] is True
    assert await crash_room.join("no such key") is None
