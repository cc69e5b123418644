"""A game provider's bet in one round trip: the wallet's bet function on PostgreSQL.

Most bets are a free player's stake from cash: no participant of the STAKE moment acts on them
(extensions.Quiet). For those the Python path's work between the lock and the write (the
wallet read into model instances, the participants called to do nothing, the chain, the event)
and its three round trips (the lock with the look-up, the write, COMMIT) cost more than the
money movement itself: served at 8 clients, a bet cost the workers and PostgreSQL 3,060 to 3,220
µs of CPU on the Python path and 2,240 to 2,270 µs through the function (docs/benchmarks.md,
"The bet function").

`wallet_place_bet` (migration 0015) takes the lock, looks the id up, checks, and writes the same
rows the Python path writes (services._post), in one statement and its own transaction. It
answers with an outcome instead of raising; `accounts` (accounts to open) and `participants` (a
player a participant acts on) mean the bet is not one it takes, and the caller runs the Python
path from the start, which decides it as before. Both paths write the same rows, the same chain hash and the same
event (apps/wallet/tests/test_fast_bet.py holds them equal).

The function is used only when every participant of STAKE states its quiet condition: a
participant registered without one switches it off, so a rule added later is never skipped.

A stake with `detail` (a sportsbook slip; one held for an in-play delay stays on the Python path)
of such a player goes through the function too, in a durable transaction with the work of the
participants quiet by NO_DETAIL, which are the only ones that may act on it (`_with_detail`):
BEGIN, the function, their statements, COMMIT, where the Python path takes BEGIN, the lock with
the look-up, the write, their statements and COMMIT, with the wallet read into model instances.
When that participant's app hands its work over as SQL (`extensions.StakeStatement`: the
sportsbook's slip), its function runs in place of the bet function, alone, in autocommit
(`_in_statement`): one round trip; a stake it does not take as it is comes to `_with_detail`.

A bet the function declines because a participant would act on the player (limits, a bonus) has
cost one statement for nothing; the process remembers that player for `DECLINED_FOR` seconds and
sends their bets straight to the Python path meanwhile. The memory only chooses the path: the
Python path is right for every player, and the function checks the player's row under the lock
whenever it runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from time import monotonic

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, transaction
from django.utils import timezone

from apps.common import events
from apps.common.db import default_connection, prepared_cursor
from apps.common.errors import PamError
from apps.common.idempotency import ExternalRef
from apps.wallet import errors, extensions, signals
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction

_ARGUMENTS = "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s"
_PLACE_BET = f"SELECT * FROM wallet_place_bet({_ARGUMENTS})"  # noqa: S608 - placeholders only

# The terms the function checks; a participant's condition outside them is not taken.
_CHECKED = frozenset({extensions.Quiet.FREE_PLAYER, extensions.Quiet.NO_BONUS, extensions.Quiet.NO_DETAIL})

DECLINED_FOR = 60.0  # seconds a declined player's bets skip the function
DECLINED_MAX = 100_000  # players remembered at most; then the memory starts afresh
# {player id: monotonic() of the decline}. Plain dict operations, atomic under the GIL: the
# request threads of a process share it.
_declined: dict[int, float] = {}


def forget_declined() -> None:
    """Forget every declined player (for tests, whose players come and go with their database)."""
    _declined.clear()


def usable() -> bool:
    """Whether bets may go through the function: PostgreSQL, and every participant of STAKE quiet
    in terms the function checks."""
    conditions = extensions.STAKE.quiet_conditions()
    return default_connection().vendor == "postgresql" and conditions is not None and conditions <= _CHECKED


def place_bet(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, round_id: str, game_id: str,
    detail: object = None, statement: extensions.StakeStatement | None = None,
) -> dict | None:  # fmt: skip
    """Post the bet through the function: the fields of the answer (services.Posted's), or None
    when the Python path must take it. Raises the wallet's refusals as the Python path does, with
    the balance and currency beside them. With `detail` (the sportsbook's slip), through its
    `statement` when that stands for every participant acting on it (`_in_statement`), else in a
    transaction with the work of those participants (`_with_detail`)."""
    # Strings the chain's JSON would escape beyond ASCII are left to Python's json.dumps.
    if not (ref.origin + ref.external_id + ref.fingerprint + round_id + game_id).isascii() or not usable():
        return None
    declined_at = _declined.get(player_id)
    if declined_at is not None:
        if monotonic() - declined_at < DECLINED_FOR:
            return None
        _declined.pop(player_id, None)
    call = _Call(player_id, currency, amount, ref, round_id, game_id, timezone.now())
    if detail is not None:
        if statement is not None and extensions.STAKE.quiet_by(extensions.Quiet.NO_DETAIL) == (statement.participant,):
            return _in_statement(call, detail, statement)
        return _with_detail(call, detail)
    try:
        row = _call(_PLACE_BET, call.params())
    except IntegrityError:
        # A concurrent call with the same id for another player, or a deferred check at commit:
        # the Python path retries and answers them (services._move_money).
        return None
    answer = _answer(call, row)
    if answer is not None and not answer["replayed"]:
        _dispatch(call, row)
    return answer


@dataclass(frozen=True)
class _Call:
    """One bet's arguments, and the moment it is written at."""

    player_id: int
    currency: str
    amount: int
    ref: ExternalRef
    round_id: str
    game_id: str
    now: dt.datetime

    def params(self) -> list:
        ref = self.ref
        return [self.player_id, self.currency, self.amount, ref.origin, ref.external_id, ref.fingerprint,
                self.round_id, self.game_id, self.now, signals.transaction_posted.name]  # fmt: skip


def _answer(call: _Call, row: tuple) -> dict | None:
    """The function's outcome as the answer's fields, a refusal raised, or None for a bet it left
    to the Python path (a declined player is remembered)."""
    outcome, posted_id, _, balance, version, _, wallet_currency, _ = row
    if outcome == "participants":
        if len(_declined) >= DECLINED_MAX:
            _declined.clear()
        _declined[call.player_id] = monotonic()
        return None
    if outcome == "accounts":
        return None
    state = {"balance": balance, "currency": wallet_currency}
    if outcome not in ("ok", "replayed"):
        raise _REFUSALS[outcome](wallet_currency, call.currency, state)
    return {"transaction_id": str(posted_id), "player_id": str(call.player_id), "currency": wallet_currency,
            "balance": balance, "version": version, "replayed": outcome == "replayed"}  # fmt: skip


def _dispatch(call: _Call, row: tuple) -> None:
    """The event of a bet the function wrote, dispatched once it commits: the payload it wrote to
    the outbox (the Python path's, with no bonus money)."""
    _, posted_id, event_id, balance, version, cash, wallet_currency, brand_id = row
    event = signals.posted_payload(
        player_id=call.player_id, brand_id=brand_id, kind="bet", amount=-call.amount, version=version,
        balance=balance, cash=cash, bonus=0, currency=wallet_currency, game_id=call.game_id, created_at=call.now,
    )  # fmt: skip
    event["transaction_id"] = str(posted_id)
    events.dispatch_on_commit(event_id, signals.transaction_posted, event)


def _with_detail(call: _Call, detail: object) -> dict | None:
    """A stake with `detail` (the sportsbook's slip): the function, then the work of the
    participants quiet by NO_DETAIL (the only ones that may act on a player the function takes),
    in one durable transaction, so that a refusal of theirs rolls the movement back with it.

    They are called after the movement is written, with `player` and `wallet` None
    (extensions.py, "Quiet conditions"), then what they return, with the transaction written.
    The Python path calls them before the balance check, so a stake the player cannot afford is
    left to it: a refusal of theirs comes first there, as it must here."""
    acting = extensions.STAKE.quiet_by(extensions.Quiet.NO_DETAIL)
    try:
        with transaction.atomic(durable=True):
            with prepared_cursor() as cursor:
                cursor.execute(_PLACE_BET, call.params())
                row = cursor.fetchone()
            if row[0] == "insufficient_funds":
                return None
            answer = _answer(call, row)
            if answer is None or answer["replayed"]:
                return answer
            written = _written(call, row)
            try:
                afters = [
                    after
                    for participant in acting
                    if (after := participant(player=None, wallet=None, amount=call.amount, game_id=call.game_id,
                                             origin=call.ref.origin, detail=detail)) is not None
                ]  # fmt: skip
                for after in afters:
                    after(transaction=written)
            except PamError as refusal:
                # The contract: errors carry the balance, the one before the movement they undo.
                refusal.extra = {"balance": answer["balance"] + call.amount, "currency": answer["currency"],
                                 **refusal.extra}  # fmt: skip
                raise
            _dispatch(call, row)
            return answer
    except IntegrityError:
        # As above; a participant's own write meeting a concurrent one too.
        return None


# The SQLSTATE a participant's function raises for a stake it does not take as it is.
_NOT_TAKEN = "PP001"


def _in_statement(call: _Call, detail: object, statement: extensions.StakeStatement) -> dict | None:
    """A stake with `detail` through its participant's `statement`, in autocommit: the bet
    function's outcome as `_answer` takes it, and the participant's own columns to `done` once
    written. A stake the player cannot afford is the Python path's (as in `_with_detail`); one the
    statement does not take (`_NOT_TAKEN`) is `_with_detail`'s, which calls the participant."""
    # The function's name and placeholders are the participant's constants, never a value.
    sql = f"SELECT * FROM {statement.function}({_ARGUMENTS}, {statement.arguments})"  # noqa: S608
    try:
        row = _call(sql, [*call.params(), *statement.params])
    except IntegrityError:
        return None
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) != _NOT_TAKEN:
            raise
        return _with_detail(call, detail)
    if row[0] == "insufficient_funds":
        return None
    answer = _answer(call, row[:8])
    if answer is not None and not answer["replayed"]:
        statement.done(row[8:])
        _dispatch(call, row[:8])
    return answer


def _written(call: _Call, row: tuple) -> Transaction:
    """The transaction the function wrote, as the participants' work after the write gets it,
    built from what the call knows (its chain hash, left deferred, is read if asked for)."""
    _, posted_id, _, balance, version, _, wallet_currency, _ = row
    values = {
        "id": posted_id, "kind": TransactionKind.BET, "player_id": call.player_id, "currency_id": wallet_currency,
        "amount": -call.amount, "origin": call.ref.origin, "external_id": call.ref.external_id,
        "fingerprint": call.ref.fingerprint, "round_id": call.round_id, "game_id": call.game_id,
        "reverses_id": None, "reverses_external_id": "", "reason": "", "acting_user_id": None,
        "balance_after": balance, "wallet_version": version, "created_at": call.now,
    }  # fmt: skip
    return Transaction.from_db(DEFAULT_DB_ALIAS, list(values), list(values.values()))


def _call(sql: str, params: list) -> tuple:
    db = default_connection()
    if not db.in_atomic_block:
        # Autocommit: the statement is its own transaction, committed before the answer.
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    # Inside a caller's transaction (tests), a savepoint keeps it usable after an error.
    with transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


_REFUSALS = {
    "duplicate": lambda held, asked, state: errors.DuplicateTransaction(extra=state),
    "rolled_back": lambda held, asked, state: errors.TransactionRolledBack(
        "A rollback of this transaction_id arrived first.", extra=state
    ),
    "currency_mismatch": lambda held, asked, state: errors.CurrencyMismatch(
        f"The player's wallet is in {held}, not {asked}.", extra=state
    ),
    "insufficient_funds": lambda held, asked, state: errors.InsufficientFunds(extra=state),
}
