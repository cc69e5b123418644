"""What a socket of the crash room waits for when it joins: its session and the room as it stands
(the latest round, its bets in view, the chain's commitment). Reads only.

On PostgreSQL it is one prepared statement: a late joiner arrives while the room's bets and
cash-outs keep both cores busy, and there each database trip costs more than its statement (the
thread waits for the GIL again after every answer). SQLite (embedded mode: one process, a handful
of players) reads it with the ORM in three queries, the same rows.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from django.db import connection

from apps.common.db import prepared_cursor, sql_constants
from apps.studio.models import CrashBet, CrashBetState, CrashChain, CrashRound, Session

GAME_CODE = "pam-crash"
SHOWN = (CrashBetState.ACCEPTED, CrashBetState.CASHED_OUT, CrashBetState.LOST)
_BET_COLUMNS = ("id", "session_id", "player_id", "stake", "cashout_x100", "win")


class RoomView(NamedTuple):
    """`session` is None when the key (or id) opens no session of the crash room; `chain` is the
    latest round's, or before any round the newest chain (None before the first one)."""

    session: Session | None
    round: CrashRound | None
    bets: list[CrashBet]
    chain: CrashChain | None


NOBODY = RoomView(None, None, [], None)


def by_key_hash(key_hash: str) -> RoomView:
    return _read("key_hash", key_hash)


def by_session_id(session_id: int) -> RoomView:
    return _read("id", session_id)


def _read(column: str, value: str | int) -> RoomView:
    if connection.vendor != "postgresql":
        return _read_with_orm(column, value)
    with prepared_cursor() as cursor:
        cursor.execute(_statement(column), [value])
        row = cursor.fetchone()
    return _view_of(row) if row is not None else NOBODY


def latest_round() -> CrashRound | None:
    return CrashRound.objects.select_related("chain").order_by("-number").first()


def _read_with_orm(column: str, value: str | int) -> RoomView:
    session = Session.objects.filter(**{column: value}).first()
    if session is None or session.game_code != GAME_CODE:
        return NOBODY
    round_ = latest_round()
    if round_ is None:
        return RoomView(session, None, [], CrashChain.objects.order_by("-pk").first())
    bets = list(CrashBet.objects.filter(round=round_, state__in=SHOWN).order_by("pk"))
    return RoomView(session, round_, bets, round_.chain)


@cache  # read on every join: the models' columns do not change
def _fields(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _statement(column: str) -> str:
    """The session's row, the latest round's, the chain's id and commitment and the round's bets
    in view as one JSON array, for the session whose `column` is the parameter."""
    session_columns = ", ".join(f"s.{f}" for f in _fields(Session))
    round_columns = ", ".join(f"r.{f}" for f in _fields(CrashRound))
    bet_values = ", ".join(f"b.{f}" for f in _BET_COLUMNS)
    bets, rounds = CrashBet._meta.db_table, CrashRound._meta.db_table
    sessions, chains = Session._meta.db_table, CrashChain._meta.db_table
    return (
        f"SELECT {session_columns}, {round_columns}, c.id, c.commitment, "  # noqa: S608 - names and constants only
        f"(SELECT json_agg(json_build_array({bet_values}) ORDER BY b.id) FROM {bets} b "
        f"  WHERE b.round_id = r.id AND b.state IN ({sql_constants(SHOWN)})) "
        f"FROM {sessions} s "
        f"LEFT JOIN LATERAL (SELECT * FROM {rounds} ORDER BY number DESC LIMIT 1) r ON TRUE "
        f"LEFT JOIN {chains} c ON c.id = COALESCE(r.chain_id, (SELECT max(id) FROM {chains})) "
        f"WHERE s.{column} = %s AND s.game_code = '{GAME_CODE}'"
    )


def _view_of(row: tuple) -> RoomView:
    session_fields, round_fields = _fields(Session), _fields(CrashRound)
    split = len(session_fields)
    session = Session.from_db(None, session_fields, row[:split])
    round_values = row[split : split + len(round_fields)]
    chain_id, commitment, bets = row[split + len(round_fields) :]
    chain = CrashChain.from_db(None, ["id", "commitment"], [chain_id, commitment]) if chain_id is not None else None
    if round_values[0] is None:
        return RoomView(session, None, [], chain)
    round_ = CrashRound.from_db(None, round_fields, round_values)
    if chain is not None:
        round_.chain = chain
    shown = [CrashBet.from_db(None, list(_BET_COLUMNS), values) for values in bets or []]
    return RoomView(session, round_, shown, chain)
