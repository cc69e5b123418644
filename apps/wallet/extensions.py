"""The wallet's extension point: work that must commit with the money, or not at all.

Another app's rule that has to be decided inside the money transaction (compliance's "may this
player stake this amount now", later bonus wagering progress and sportsbook exposure) plugs in
here at start-up, and the wallet calls it without importing that app: the arrows of
ARCHITECTURE.md let the wallet call only `common`, accounts' selectors and this module.

Moments
-------
A moment is a named point inside the wallet's `atomic(durable=True)` transaction, and its name
says the movement. Each one is called after the player's accounts are locked (`SELECT … FOR
UPDATE`, so calls for one player are serialised and what a participant reads cannot change
before the money is written) and after the call is known not to be a replay, before the
wallet's own checks (the balance) and before anything is written:

- `STAKE`: a bet (`place_bet`);
- `REFUND`: a rollback refunding a bet (`rollback_bet`, when the bet is known): `amount` is the
  stake refunded, with `game_id` and `origin` as at `STAKE` (bonuses take the stake off the
  wagering it counted for);
- `DEPOSIT`: a credit of kind deposit (`credit`);
- `WITHDRAWAL`: a withdrawal's reservation (`reserve_withdrawal`);
- `CHARGEBACK`: a chargeback taking a deposit back (`reverse_deposit`, or `credit_reversed_deposit`
  when it came before the deposit's success): compliance locks the account in the same transaction.

A deposit's participants see money the payment provider has already taken: they may record what
it means (compliance's KYC hold) but do not refuse it for the player's standing; that refusal
comes before the player pays, at the cashier.

Each participant is called with keyword arguments: `player`, the player row the lock query read
(status and the player-protection fields; read it, do not reload it), `wallet`, the locked
wallet (`locks.LockedWallet`: the player's accounts as locked, their balances before the
movement), and `amount`, the positive amount in minor units; at `STAKE` and `REFUND` also
`game_id`, the provider's game code (empty when the provider named none), and `origin`, the
provider's code; at `STAKE` also `detail`, what the caller of `place_bet` says of the stake (None
from the game providers; the sportsbook's slip from the sportsbook), which only the participant
of the caller's app reads. A participant accepts keyword
arguments it does not use (`**_`), so a moment can tell more without breaking the others.

A participant refuses by raising a `PamError` (`LimitReached`, `PlayerBlocked` …): the wallet
lets it propagate with the player's balance and currency added to its `extra`, and the
transaction rolls back, so nothing a participant wrote stays either. It may write its own tables
in the transaction (compliance's KYC hold, bonuses' wagering progress) and register an
after-commit event (`apps.common.events.send_after_commit`); it never writes the wallet's tables
itself. What it needs of the ledger in the same transaction it asks the wallet for: a bonus's
end (`services.release_bonus_within`: the player's bonus money to cash or back to the pool, a
transaction of its own kind, before the movement).

A participant that needs the movement written (a bonus whose wagering this stake completes
converts what is left after the stake; sportsbook exposure) returns a callable instead of None:
the wallet calls it with `transaction=` (the `Transaction` just written) after writing the
movement and before commit, in the order the participants ran. It may refuse too, and the money
rolls back with it.

Order
-----
Participants of a moment run in ascending `order`, a position each app takes once and states
here, so the order never depends on INSTALLED_APPS or import order:

====  ============================================================
 100  compliance: its checks (`COMPLIANCE`); a refusal stops the others
 200  bonuses: expiry, maximum stake and wagering progress (`BONUSES`)
 300  sportsbook: its slip's markets, exposure caps and bet row (`SPORTSBOOK`); nothing for
      a stake of another origin
====  ============================================================

Registration
------------
The app that owns a participant registers it in its `AppConfig.ready()`, so every process that
ran `django.setup()` (uvicorn workers, the outbox sweeper, management commands, tests) has it
before it can move money. Registering the same participant at the same moment and position again
(a `ready()` run twice) changes nothing; it is never called twice. Two participants cannot hold
one position, nor can one participant hold two at the same moment: either raises
`ImproperlyConfigured` at start-up.

Quiet conditions
----------------
A casino bet of a player on whom no participant acts is one server-side function on PostgreSQL
(`fast_bet.py`): the lock, the look-up, the checks and the writes in one round trip, with no
participant called. For that, each participant of `STAKE` states, when it registers, the
condition under which it does nothing, as one of `Quiet`'s terms; the function checks every term
on the rows it locks and leaves any other bet to the Python path, which calls the participants.
A participant registered without one switches the function off: every bet then takes the Python
path (`Moment.quiet_conditions`).

A participant quiet by `NO_DETAIL` acts on its own app's stakes, whatever the player. For such a
stake of a player on whom every other participant is quiet, the function locks the accounts,
checks and writes the movement, then this participant is called in the same transaction with
`player` and `wallet` None (it must not need them), then what it returns, with the transaction
written; its refusal rolls the movement back. A stake the player cannot afford is left to the
Python path, where the participants run before the balance check, so that their refusal comes
first on both paths.

Such a participant may also hand the wallet its work as SQL (`StakeStatement`, passed to
`place_bet` by its app with the stake): a server-side function that calls the wallet's bet
function with the wallet's ten arguments, does the participant's writes and checks after it, and
answers the bet function's columns followed by its own. When that participant is the only one
quiet by `NO_DETAIL`, the wallet calls the function in place of its own, in autocommit: one
round trip for the movement and the participant's work. The function raises SQLSTATE `PP001`
for any stake it does not take as it is (a refusal to word, a case it leaves to Python); nothing
it wrote stays, and the wallet then places the stake as above, calling the participant in
Python, which decides it.

Cost: the wallet iterates `moment.participants`, a tuple rebuilt only when something registers,
and calls each one directly: no dispatch or lookup per call, and a list only when a participant
returns something to call after the write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured

Participant = Callable[..., "Callable[..., None] | None"]

COMPLIANCE = 100
BONUSES = 200
SPORTSBOOK = 300


class Quiet(StrEnum):
    """When a participant of `STAKE` does nothing, in the terms the wallet's bet function checks
    on the locked rows (fast_bet.py)."""

    # The player's row: active, no player-protection checks to run (`needs_compliance_checks`),
    # no reality check due at the bet's time.
    FREE_PLAYER = "free_player"
    # No bonus money and no active bonus (`LockedWallet.holds_bonus` is false).
    NO_BONUS = "no_bonus"
    # The caller of `place_bet` said nothing of the stake (`detail` is None: a game provider's bet).
    NO_DETAIL = "no_detail"


class Moment:
    """A named point of the money transaction whose participants the wallet calls in order."""

    __slots__ = ("_quiet", "_registered", "name", "participants")

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: tuple[tuple[int, Participant], ...] = ()
        self._quiet: dict[Participant, Quiet | None] = {}
        # What the wallet iterates: the participants alone, in order.
        self.participants: tuple[Participant, ...] = ()

    def __repr__(self) -> str:
        return f"<Moment {self.name}>"

    def register(self, participant: Participant, *, order: int, quiet: Quiet | None = None) -> None:
        """Call `participant(player=, wallet=, amount=, …)` at this moment, at position `order`
        (above); `quiet`: when it does nothing (above, "Quiet conditions").

        Again with the same participant and order: nothing changes. Raises ImproperlyConfigured
        if `order` is taken by another participant, or this participant is already at another.
        """
        for taken, registered in self._registered:
            if registered == participant and taken == order:
                return
            if registered == participant:
                raise ImproperlyConfigured(f"{participant!r} is already at {self.name} in position {taken}.")
            if taken == order:
                raise ImproperlyConfigured(f"Position {order} at {self.name} is taken by {registered!r}.")
        self._registered = tuple(sorted((*self._registered, (order, participant)), key=lambda entry: entry[0]))
        self._quiet[participant] = quiet
        self.participants = tuple(registered for _, registered in self._registered)

    def quiet_conditions(self) -> frozenset[Quiet] | None:
        """Every participant's quiet condition, or None if one stated none."""
        conditions = [self._quiet.get(participant) for participant in self.participants]
        return None if None in conditions else frozenset(conditions)

    def quiet_by(self, condition: Quiet) -> tuple[Participant, ...]:
        """The participants whose quiet condition is `condition`, in order."""
        return tuple(participant for participant in self.participants if self._quiet.get(participant) == condition)

    def registered(self) -> tuple[tuple[int, Participant], ...]:
        """(order, participant) of each participant, in the order they are called."""
        return self._registered


STAKE = Moment("stake")
REFUND = Moment("refund")
DEPOSIT = Moment("deposit")
WITHDRAWAL = Moment("withdrawal")
CHARGEBACK = Moment("chargeback")


@dataclass(frozen=True)
class StakeStatement:
    """A participant's work at one stake as a server-side function ("Quiet conditions"):
    `function` is called with the wallet's ten arguments of its bet function, then `params`, whose
    placeholders `arguments` gives (a constant text, each cast to its parameter's type); it
    answers the bet function's columns, then its own, which the wallet hands to `done` once the
    movement has committed (not for a replay or a refusal)."""

    participant: Participant
    function: str
    arguments: str
    params: tuple
    done: Callable[[tuple], None]
