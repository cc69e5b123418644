"""The bet function (fast_bet.py, migration 0015) against the Python path: the same rows, the
same chain hash, the same event and the same answers; and it takes exactly the bets on which no
participant of the STAKE moment acts, as the participants themselves decide it.

The rest of the suite runs through it too: every bet of a free player (the API and conformance
tests, the ledger's property test, the concurrency tests on real threads) takes it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.choices import BonusState, PlayerStatus
from apps.accounts.models import Player
from apps.common.errors import PamError
from apps.common.models import OutboxEvent
from apps.wallet import audit, chain, extensions, fast_bet, locks, services
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import ORIGIN, a_ref, bet, bet_paths, funded_player, grant_bonus, rollback

pytestmark = pytest.mark.django_db


def took_the_function(captured: CaptureQueriesContext) -> bool:
    return bet_paths(captured) == (True, False)


def bet_captured(player, amount: int, **kwargs) -> tuple[CaptureQueriesContext, object]:
    with CaptureQueriesContext(connection) as captured:
        try:
            answer = bet(player, amount, **kwargs)
        except PamError as refusal:
            answer = refusal
    return captured, answer


def written(posted_id: str) -> dict:
    """What a bet wrote, without what differs between two players' bets (ids, keys, times)."""
    tx = Transaction.objects.get(pk=int(posted_id))
    varying = {"id", "player_id", "external_id", "fingerprint", "chain_hash", "created_at"}
    row = {field.attname: getattr(tx, field.attname) for field in Transaction._meta.concrete_fields}
    entries = sorted(
        (entry.account.kind, entry.account.code, entry.amount, entry.balance_after, entry.account_version)
        for entry in Entry.objects.filter(transaction=tx).select_related("account")
    )
    cash = Account.objects.get(player_id=tx.player_id, kind="cash")
    payload = OutboxEvent.objects.get(name="wallet.transaction_posted", payload__transaction_id=posted_id).payload
    return {
        "transaction": {name: value for name, value in row.items() if name not in varying},
        "entries": entries,
        "cash": (cash.balance, cash.version, cash.chain_hash == tx.chain_hash),
        "event": {key: value for key, value in payload.items() if key not in ("player_id", "transaction_id")},
        "event_ids": (payload["player_id"], payload["transaction_id"]) == (str(tx.player_id), posted_id),
    }


def test_the_function_writes_what_the_python_path_writes(monkeypatch):
    fast, slow = funded_player(10_000), funded_player(10_000)
    bet(fast, 100)
    bet(slow, 100)
    moment = dt.datetime(2026, 12, 6, 20, 0, 0, 123456, tzinfo=dt.UTC)
    monkeypatch.setattr(fast_bet.timezone, "now", lambda: moment)

    captured, by_function = bet_captured(fast, 250, round_id="r-9")
    with monkeypatch.context() as patched:
        patched.setattr(fast_bet, "usable", lambda: False)
        _, by_python = bet_captured(slow, 250, round_id="r-9")

    assert took_the_function(captured)
    assert (by_function.balance, by_function.version) == (by_python.balance, by_python.version) == (9_650, 3)
    assert written(by_function.transaction_id) == written(by_python.transaction_id)
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_the_dispatched_event_is_the_outbox_row(monkeypatch):
    player = funded_player(10_000)
    bet(player, 100)
    sent = []
    monkeypatch.setattr(fast_bet.events, "dispatch_on_commit", lambda *args: sent.append(args))

    posted = bet(player, 100)

    ((event_id, signal, payload),) = sent
    assert signal.name == "wallet.transaction_posted"
    assert OutboxEvent.objects.get(pk=event_id).payload == payload
    assert payload["transaction_id"] == posted.transaction_id


text_ids = st.text(st.characters(min_codepoint=1, max_codepoint=127), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(external_id=text_ids, round_id=text_ids, game_id=st.text(st.characters(min_codepoint=1, max_codepoint=127),
       max_size=20), amount=st.integers(1, 5_000), whole_second=st.booleans())  # fmt: skip
def test_the_functions_chain_hash_is_chain_link(monkeypatch, external_id, round_id, game_id, amount, whole_second):
    """Any ASCII the ids may hold (quotes, backslashes, control characters) and a timestamp with
    or without microseconds: the hash PostgreSQL computed is the one chain.link computes."""
    player = funded_player(10_000)
    bet(player, 1)  # the house account exists
    moment = dt.datetime(2026, 12, 6, 20, 0, 1, 0 if whole_second else 7, tzinfo=dt.UTC)
    monkeypatch.setattr(fast_bet.timezone, "now", lambda: moment)
    previous = Account.objects.get(player=player, kind="cash").chain_hash

    ref = a_ref(external_id=f"{uuid.uuid4().hex}{external_id}")
    with CaptureQueriesContext(connection) as captured:
        posted = services.place_bet(
            player_id=player.pk, currency="EUR", amount=amount, round_id=round_id, game_id=game_id, ref=ref
        )

    assert took_the_function(captured)
    tx = Transaction.objects.get(pk=int(posted.transaction_id))
    entries = Entry.objects.filter(transaction=tx).values_list("account_id", "amount", "balance_after",
                                                               "account_version")  # fmt: skip
    assert tx.created_at == moment
    assert tx.chain_hash == chain.link(previous, tx, entries)
    assert Account.objects.get(player=player, kind="cash").chain_hash == tx.chain_hash


def test_the_chain_hash_helpers_are_inlined_into_the_function():
    """The SQL helpers of the bet function's chain hash are declared no stricter than their bodies
    (`to_json` is STABLE), so PostgreSQL inlines them into the expressions that call them; a helper
    it cannot inline runs as a SQL function call of its own for every string of every bet, and
    cost a bet a sixth of its PostgreSQL CPU (migration 0016)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT wallet_json_string(origin), wallet_iso_utc(created_at) "
            "FROM wallet_transaction"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "to_json" in plan
    assert "to_char" in plan
    assert "wallet_json_string" not in plan
    assert "wallet_iso_utc" not in plan


PAST, FUTURE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
PLAYER_STATES = {
    "free": {},
    "locked": {"status": PlayerStatus.LOCKED},
    "frozen": {"status": PlayerStatus.FROZEN},
    "closed": {"status": PlayerStatus.CLOSED},
    "compliance checks": {"needs_compliance_checks": True},
    "reality check due": {"reality_check_due_at": PAST},
    "reality check later": {"reality_check_due_at": FUTURE},
    "bonus active, no bonus money": {"bonus_state": BonusState.ACTIVE},
    "last bonus converted": {"bonus_state": BonusState.CONVERTED},
    "last bonus returned": {"bonus_state": BonusState.RETURNED},
    "bonus money": "grant",
}


def participants_act(player: Player) -> bool:
    """Whether any participant of STAKE, called on this player's locked wallet for a provider's
    bet, does anything: refuses, runs a statement, returns work for after the write, or registers
    work for after commit."""
    with transaction.atomic():
        wallet = locks.lock_player_wallet(player.pk)
        on_commit = len(connection.run_on_commit)
        for participant in extensions.STAKE.participants:
            with CaptureQueriesContext(connection) as captured:
                try:
                    after = participant(player=wallet.player, wallet=wallet, amount=100, game_id="game-1",
                                        origin=ORIGIN, detail=None)  # fmt: skip
                except PamError:
                    return True
            if after is not None or len(captured) or len(connection.run_on_commit) != on_commit:
                return True
        transaction.set_rollback(True)
    return False


@pytest.mark.parametrize("state", PLAYER_STATES, ids=list(PLAYER_STATES))
def test_the_function_takes_a_bet_exactly_when_no_participant_acts(state):
    player = funded_player(10_000)
    bet(player, 100)
    if PLAYER_STATES[state] == "grant":
        grant_bonus(player, 500)
    else:
        Player.objects.filter(pk=player.pk).update(**PLAYER_STATES[state])
    acts = participants_act(player)

    captured, _ = bet_captured(player, 100)

    assert took_the_function(captured) is not acts
    assert acts is (state not in ("free", "reality check later", "last bonus converted", "last bonus returned"))


def test_a_participant_without_a_quiet_condition_sends_every_bet_to_the_python_path(monkeypatch):
    stake = extensions.STAKE
    for name in ("_registered", "participants"):
        monkeypatch.setattr(stake, name, getattr(stake, name))
    monkeypatch.setattr(stake, "_quiet", dict(stake._quiet))
    called = []
    stake.register(lambda amount, **_: called.append(amount), order=900)
    player = funded_player(10_000)
    bet(player, 100)

    captured, posted = bet_captured(player, 250)

    assert not took_the_function(captured)
    assert called == [100, 250]
    assert posted.balance == 9_650


def test_ids_beyond_ascii_take_the_python_path():
    player = funded_player(10_000)
    bet(player, 100)

    captured, posted = bet_captured(player, 100, round_id="manche-été")

    assert not took_the_function(captured)
    assert posted.balance == 9_800
    assert audit.broken_hash_chains() == []


def answers(make_bets) -> list:
    """What each call of `make_bets(player)` answered, without the ids that differ between players."""
    player = funded_player(1_000)
    bet(player, 100)  # accounts open, the house account exists
    found = []
    for call in make_bets(player):
        try:
            posted = call()
            found.append(("posted", posted.balance, posted.version, posted.currency, posted.replayed))
        except PamError as refusal:
            found.append((refusal.code, refusal.extra))
    return found


def _refusals(player):
    first, other = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    return [
        lambda: bet(player, 5_000),  # more than the balance
        lambda: bet(player, 100, ref=a_ref(external_id=first)),
        lambda: bet(player, 100, ref=a_ref(external_id=first)),  # a replay: the first answer
        lambda: bet(player, 200, ref=a_ref(external_id=first, body={"amount": 200})),  # the id, another body
        lambda: rollback(player, other),  # a rollback of a bet not yet seen
        lambda: bet(player, 100, ref=a_ref(external_id=other)),  # that bet, arriving after it
        lambda: services.place_bet(
            player_id=player.pk, currency="USD", amount=100, ref=a_ref(), round_id="r", game_id="g"
        ),
        lambda: bet(player, 800),  # everything left
    ]


def test_the_functions_answers_and_refusals_are_the_python_paths(monkeypatch):
    by_function = answers(_refusals)
    monkeypatch.setattr(fast_bet, "usable", lambda: False)
    by_python = answers(_refusals)

    assert by_function == by_python
    assert [answer[0] for answer in by_function] == [
        "INSUFFICIENT_FUNDS", "posted", "posted", "DUPLICATE_TRANSACTION", "posted", "TRANSACTION_ROLLED_BACK",
        "CURRENCY_MISMATCH", "posted",
    ]  # fmt: skip
    assert by_function[2][-1] is True  # the replay says so


def test_a_player_without_accounts_is_left_to_the_python_path():
    player = funded_player(0)  # no money movement yet: no accounts

    captured, refusal = bet_captured(player, 100)

    assert not took_the_function(captured)
    assert (refusal.code, refusal.extra) == ("INSUFFICIENT_FUNDS", {"balance": 0, "currency": "EUR"})


def test_a_declined_player_skips_the_function_for_a_while(monkeypatch):
    player = funded_player(10_000)
    bet(player, 100)
    Player.objects.filter(pk=player.pk).update(needs_compliance_checks=True)
    clock = [1_000.0]
    monkeypatch.setattr(fast_bet, "monotonic", lambda: clock[0])

    declined, _ = bet_captured(player, 100)
    skipped, _ = bet_captured(player, 100)
    Player.objects.filter(pk=player.pk).update(needs_compliance_checks=False)
    still_skipped, _ = bet_captured(player, 100)
    clock[0] += fast_bet.DECLINED_FOR
    taken, posted = bet_captured(player, 100)

    assert "wallet_place_bet" in declined.captured_queries[1]["sql"]
    assert not any("wallet_place_bet" in query["sql"] for query in skipped.captured_queries)
    assert not any("wallet_place_bet" in query["sql"] for query in still_skipped.captured_queries)
    assert took_the_function(taken)
    assert posted.balance == 9_500
