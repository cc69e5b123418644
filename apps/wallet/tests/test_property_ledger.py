"""Property: any sequence of provider calls leaves the ledger where a plain model says it should.

Hypothesis draws sequences of bets, wins, rollbacks, replays (an earlier call sent again, byte
for byte) and conflicting replays (an earlier transaction_id with another amount, another
field, or under another operation). A small Python model of the seamless wallet contract
(contracts/wallet-api.md) predicts each answer: the balance and version of an accepted call, the
first answer for a replay, or the refusal and the balance it reports. After every step the
service's answer, the committed wallet state and the ledger audit are checked against it.

Each example makes its own player and its own provider origin, so the examples share the test's
database transaction without sharing transaction ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from apps.accounts.tests.factories import make_player
from apps.common.idempotency import ExternalRef, fingerprint
from apps.wallet import audit, errors, selectors, services

CURRENCY = "EUR"
ROUNDS = ("r0", "r1", "r2", "r3")
_origins = itertools.count(1)


# --- the calls --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One provider call: the operation and the fields of its body (bar player_id and currency)."""

    op: str  # "bet", "win" or "rollback"
    transaction_id: str
    round_id: str
    game_id: str = "slot-1"
    amount: int = 0  # bet and win
    target: str = ""  # rollback: rolled_back_transaction_id

    def body(self, player_id: int) -> dict:
        fields = {
            "player_id": str(player_id),
            "currency": CURRENCY,
            "transaction_id": self.transaction_id,
            "round_id": self.round_id,
            "game_id": self.game_id,
        }
        if self.op == "rollback":
            fields["rolled_back_transaction_id"] = self.target
        else:
            fields["amount"] = self.amount
        return fields


def send(call: Call, player_id: int, origin: str) -> services.Posted:
    ref = ExternalRef(origin, call.transaction_id, fingerprint(call.op, call.body(player_id)))
    common = {"player_id": player_id, "currency": CURRENCY, "ref": ref, "round_id": call.round_id}
    if call.op == "bet":
        return services.place_bet(**common, amount=call.amount, game_id=call.game_id)
    if call.op == "win":
        return services.settle_win(**common, amount=call.amount, game_id=call.game_id)
    return services.rollback_bet(**common, rolled_back_external_id=call.target, game_id=call.game_id)


# --- the model --------------------------------------------------------------------------------------


@dataclass
class Accepted:
    call: Call
    balance: int
    version: int
    transaction_id: str = ""  # PAM's id, learnt from the first answer


@dataclass
class Expected:
    error: type[errors.PamError] | None = None
    balance: int = 0
    version: int = 0
    replay_of: Accepted | None = None
    accepted: Accepted | None = None


@dataclass
class WalletModel:
    """The contract, for one player (cash only) and one provider."""

    balance: int
    version: int
    accepted: dict[str, Accepted] = field(default_factory=dict)  # by the provider's transaction_id
    rolled_back: dict[str, str] = field(default_factory=dict)  # bet id -> id of the rollback that named it
    round_rollbacks: dict[str, set[str]] = field(default_factory=dict)  # round -> bet ids its rollbacks named
    round_bets: dict[str, set[str]] = field(default_factory=dict)  # round -> accepted bet ids

    def expect(self, call: Call) -> Expected:
        """What the wallet must answer, and the model's new state if the call is accepted."""
        previous = self.accepted.get(call.transaction_id)
        if previous is not None:
            if previous.call != call:
                return self._refuse(errors.DuplicateTransaction)
            return Expected(balance=previous.balance, version=previous.version, replay_of=previous)
        if call.op == "bet":
            if call.transaction_id in self.rolled_back:
                return self._refuse(errors.TransactionRolledBack)
            if call.amount > self.balance:
                return self._refuse(errors.InsufficientFunds)
            self.round_bets.setdefault(call.round_id, set()).add(call.transaction_id)
            return self._accept(call, -call.amount)
        if call.op == "win":
            named = self.round_rollbacks.get(call.round_id, set())
            if named and self.round_bets.get(call.round_id, set()) <= named:
                return self._refuse(errors.TransactionRolledBack)
            return self._accept(call, call.amount)
        # rollback
        if call.target in self.rolled_back:
            return self._refuse(errors.RollbackNotAllowed)
        target = self.accepted.get(call.target)
        if target is not None and target.call.op != "bet":
            return self._refuse(errors.RollbackNotAllowed)
        self.rolled_back[call.target] = call.transaction_id
        self.round_rollbacks.setdefault(call.round_id, set()).add(call.target)
        return self._accept(call, target.call.amount if target is not None else 0)

    def _refuse(self, error: type[errors.PamError]) -> Expected:
        return Expected(error=error, balance=self.balance, version=self.version)

    def _accept(self, call: Call, movement: int) -> Expected:
        self.balance += movement
        if movement:
            self.version += 1
        accepted = Accepted(call, self.balance, self.version)
        self.accepted[call.transaction_id] = accepted
        return Expected(balance=self.balance, version=self.version, accepted=accepted)


# --- the steps --------------------------------------------------------------------------------------

# Each step holds choices (indexes taken modulo what exists when it runs), so any list is a valid
# sequence and Hypothesis can shrink freely.
steps = st.one_of(
    st.tuples(st.just("bet"), st.integers(1, 300), st.sampled_from(ROUNDS)),
    st.tuples(st.just("win"), st.integers(0, 500), st.sampled_from(ROUNDS)),
    # rollback of an earlier call (a bet, a refused bet, a win, a rollback) or of an unknown id
    st.tuples(st.just("rollback"), st.integers(0, 1_000), st.booleans()),
    # a bet arriving with an id a rollback named before
    st.tuples(st.just("late_bet"), st.integers(0, 1_000), st.integers(1, 300)),
    st.tuples(st.just("replay"), st.integers(0, 1_000)),
    # the same transaction_id with a different amount (or field), or under another operation
    st.tuples(st.just("conflict"), st.integers(0, 1_000), st.integers(1, 300), st.booleans()),
)


class Scenario:
    def __init__(self, initial: int) -> None:
        self.player = make_player()
        self.origin = f"provider:prop{next(_origins)}"
        self.ids = itertools.count(1)
        self.sent: list[Call] = []
        version = 0
        if initial:
            services.adjust_balance(player_id=self.player.pk, amount=initial, reason="test funding", acting_user=None)
            version = 1
        self.model = WalletModel(balance=initial, version=version)
        self.transaction_ids: set[str] = set()

    def new_id(self) -> str:
        return f"tx{next(self.ids)}"

    def call_for(self, step: tuple) -> Call:
        kind, *args = step
        if kind in ("bet", "win"):
            amount, round_id = args
            return Call(kind, self.new_id(), round_id, amount=amount)
        if kind == "rollback":
            pick, unknown = args
            if unknown or not self.sent:
                return Call("rollback", self.new_id(), ROUNDS[pick % len(ROUNDS)], target=self.new_id())
            target = self.sent[pick % len(self.sent)]
            return Call("rollback", self.new_id(), target.round_id, target=target.transaction_id)
        if kind == "late_bet":
            pick, amount = args
            named = [call.target for call in self.sent if call.op == "rollback"]
            bet_id = named[pick % len(named)] if named else self.new_id()
            return Call("bet", bet_id, ROUNDS[pick % len(ROUNDS)], amount=amount)
        if not self.sent:
            return Call("bet", self.new_id(), ROUNDS[0], amount=1)
        earlier = self.sent[args[0] % len(self.sent)]
        if kind == "replay":
            return earlier
        delta, other_operation = args[1:]
        if other_operation:
            op = {"bet": "win", "win": "rollback", "rollback": "bet"}[earlier.op]
            if op == "rollback":
                return Call(op, earlier.transaction_id, earlier.round_id, target=self.new_id())
            return Call(op, earlier.transaction_id, earlier.round_id, amount=delta)
        if earlier.op == "rollback":
            return Call("rollback", earlier.transaction_id, earlier.round_id, game_id="slot-2", target=earlier.target)
        return Call(earlier.op, earlier.transaction_id, earlier.round_id, amount=earlier.amount + delta)

    def run(self, step: tuple) -> None:
        call = self.call_for(step)
        self.sent.append(call)
        expected = self.model.expect(call)
        refusal: errors.PamError | None = None
        try:
            posted = send(call, self.player.pk, self.origin)
        except errors.PamError as exc:
            refusal = exc
        if refusal is not None:
            event(f"{call.op}: {refusal.code}")
            assert type(refusal) is expected.error, f"{call}: raised {refusal.code}, expected {expected}"
            assert refusal.extra == {"balance": expected.balance, "currency": CURRENCY}, call
        else:
            event(f"{call.op}: {'replayed' if posted.replayed else 'accepted'}")
            assert expected.error is None, f"{call}: accepted {posted}, expected {expected.error.code}"
            assert (posted.balance, posted.version) == (expected.balance, expected.version), call
            assert (posted.player_id, posted.currency) == (str(self.player.pk), CURRENCY)
            if expected.replay_of is not None:
                assert posted.replayed, call
                assert posted.transaction_id == expected.replay_of.transaction_id, call
            else:
                assert not posted.replayed, call
                assert posted.transaction_id not in self.transaction_ids, call
                self.transaction_ids.add(posted.transaction_id)
                expected.accepted.transaction_id = posted.transaction_id

        state = selectors.get_wallet_state(self.player.pk)
        assert (state.cash, state.bonus, state.version) == (self.model.balance, 0, self.model.version), call
        found = audit.run_audit()
        assert found == {name: [] for name in audit.CHECKS}, found


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    initial=st.sampled_from([0, 100, 1_000, 5_000]) | st.integers(0, 3_000),
    script=st.lists(steps, min_size=3, max_size=25),
)
def test_any_sequence_of_calls_matches_the_model(initial, script):
    scenario = Scenario(initial)
    for step in script:
        scenario.run(step)
