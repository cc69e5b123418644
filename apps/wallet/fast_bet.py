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

A bet the function declines because a participant would act on the player (limits, a bonus) has
cost one statement for nothing; the process remembers that player for `DECLINED_FOR` seconds and
sends their bets straight to the Python path meanwhile. The memory only chooses the path: the
Python path is right for every player, and the function checks the player's row under the lock
whenever it runs.
"""

from __future__ import annotations

from time import monotonic

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common import events
from apps.common.db import default_connection, prepared_cursor
from apps.common.idempotency import ExternalRef
from apps.wallet import errors, extensions, signals

_PLACE_BET = "SELECT * FROM wallet_place_bet(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"

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
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, round_id: str, game_id: str
) -> dict | None:
    """Post the bet through the function: the fields of the answer (services.Posted's), or None
    when the Python path must take it. Raises the wallet's refusals as the Python path does, with
    the balance and currency beside them."""
    # Strings the chain's JSON would escape beyond ASCII are left to Python's json.dumps.
    if not (ref.origin + ref.external_id + ref.fingerprint + round_id + game_id).isascii() or not usable():
        return None
    declined_at = _declined.get(player_id)
    if declined_at is not None:
        if monotonic() - declined_at < DECLINED_FOR:
            return None
        _declined.pop(player_id, None)
    now = timezone.now()
    params = [player_id, currency, amount, ref.origin, ref.external_id, ref.fingerprint, round_id, game_id, now,
              signals.transaction_posted.name]  # fmt: skip
    try:
        row = _call(params)
    except IntegrityError:
        # A concurrent call with the same id for another player, or a deferred check at commit:
        # the Python path retries and answers them (services._move_money).
        return None
    outcome, posted_id, event_id, balance, version, cash, wallet_currency, brand_id = row
    if outcome == "participants":
        if len(_declined) >= DECLINED_MAX:
            _declined.clear()
        _declined[player_id] = monotonic()
        return None
    if outcome == "accounts":
        return None
    state = {"balance": balance, "currency": wallet_currency}
    if outcome not in ("ok", "replayed"):
        raise _REFUSALS[outcome](wallet_currency, currency, state)
    answer = {"transaction_id": str(posted_id), "player_id": str(player_id), "currency": wallet_currency,
              "balance": balance, "version": version, "replayed": outcome == "replayed"}  # fmt: skip
    if outcome == "replayed":
        return answer
    # The payload the function wrote to the outbox: the Python path's, with no bonus money.
    event = signals.posted_payload(
        player_id=player_id, brand_id=brand_id, kind="bet", amount=-amount, version=version, balance=balance,
        cash=cash, bonus=0, currency=wallet_currency, game_id=game_id, created_at=now,
    )  # fmt: skip
    event["transaction_id"] = str(posted_id)
    events.dispatch_on_commit(event_id, signals.transaction_posted, event)
    return answer


def _call(params: list) -> tuple:
    db = default_connection()
    if not db.in_atomic_block:
        # Autocommit: the statement is its own transaction, committed before the answer.
        with prepared_cursor() as cursor:
            cursor.execute(_PLACE_BET, params)
            return cursor.fetchone()
    # Inside a caller's transaction (tests), a savepoint keeps it usable after an IntegrityError.
    with transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(_PLACE_BET, params)
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
