"""A crash in the middle of a storm of wallet calls loses, doubles and changes nothing.

Several provider clients (threads), each with a player of its own, send a bounded sequence of
signed bets, wins and rollbacks to a PAM server run as `make serve` runs it (uvicorn with two
worker processes, and the outbox sweeper beside it). After a number of answered calls chosen by
the test, every server process and the sweeper are killed with SIGKILL, then started again on the
same port. Each client retries every call that got no answer (refused, reset, timed out) with the
same transaction_id and body until it gets one, as the wallet contract says a provider does.

Each client waits for a call's answer before sending its next, so its player's ledger is a
sequence the test knows in advance: every answer (balance, version) is exact whatever the crash
interrupted. What happened at the kill (a call committed but unanswered, rolled back in flight,
an event dispatched but not marked) varies from run to run; the assertions are the invariants
that must hold in every case:

- every call is in the ledger exactly once, with the amount, balance and version it was answered,
  and a second sending of it is answered with exactly the same answer (a replay);
- each player's final balance and version are those of the model;
- a WebSocket client per player, connected before the crash and reconnecting after it (resuming
  from the version it holds), ends holding every version 1..N in order, with the final balance;
- every outbox event is dispatched in the end (the restarted sweeper re-runs what the crash left
  undone), one per transaction;
- `manage.py wallet_audit` is clean.
"""

from __future__ import annotations

import asyncio
import http.client
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from channels.db import database_sync_to_async

from apps.accounts.tests.factories import make_player
from apps.common.models import OutboxEvent
from apps.games import services as games
from apps.realtime import services as realtime
from apps.wallet import services as wallet
from apps.wallet.models import Account, Transaction
from tests.realtime.support import (
    ContractClient,
    Provider,
    Server,
    kill_server,
    kill_sweeper,
    start_server,
    start_sweeper,
    stop_server,
    stop_sweeper,
    tail,
)
from tests.support import call_audit_command

PROVIDER = Provider("crash-storm", "crash-storm-secret-0123456789")
ORIGIN = f"provider:{PROVIDER.code}"
CLIENTS = 5
CALLS = 70  # per client: bets, then a win, a rollback or nothing in the same round
KILL_AFTER = 140  # answered calls, of the about CLIENTS * CALLS in all
FUNDS = 100_000  # each player's starting balance: more than every bet together, so none is refused
WORKERS = 2  # as `make serve` runs uvicorn
HEARTBEAT = 1.0  # seconds: a frame the crash swallowed shows as a gap within one period
# Bounds on waits, so that a failure fails instead of hanging; none is a measure of speed.
STORM_SECONDS = 120.0
CONVERGE = 60.0
# The sweeper's `--grace`: well above the ~0.2 s in which a live server marks its events, so
# that it re-dispatches only what a crash left undone. A sweeper killed while holding a lease
# leaves those events to its successor only once the lease expires (apps.common.outbox.LEASE).
SWEEPER_ARGS = ("--grace", "3", "--interval", "0.5")
OUTBOX_DRAINED = 120.0

# What a call that got no answer raises: refused or reset (URLError, ConnectionError), timed out
# (TimeoutError), a response cut off (HTTPException, or a body that is not JSON: ValueError).
NO_ANSWER = (OSError, http.client.HTTPException, ValueError)


@dataclass
class Call:
    """One wallet call of the plan, what the model says it answers, and what it got."""

    operation: str
    body: dict
    amount: int  # the signed movement of the player's balance
    balance: int  # the balance after it, per the model
    version: int  # the wallet version after it, per the model
    answer: tuple[int, dict] | None = None  # the first answer received
    no_answer: int = 0  # attempts that got no answer
    server_errors: list[tuple[int, dict]] = field(default_factory=list)  # 5xx answers (retried)

    @property
    def transaction_id(self) -> str:
        return self.body["transaction_id"]


def plan(client: int, player_id: int) -> list[Call]:
    """The client's calls, from a seeded generator: a bet per round, then a win (half the
    rounds), a rollback of that bet (some) or nothing; each with the balance and version after."""
    rng = random.Random(client)
    balance, version, calls = FUNDS, 1, []  # version 1: the funding adjustment

    def add(operation: str, movement: int, **fields) -> None:
        nonlocal balance, version
        balance, version = balance + movement, version + 1
        n = len(calls) + 1
        body = {"player_id": str(player_id), "currency": "EUR", "transaction_id": f"storm-{client}-{n}", **fields}
        calls.append(Call(operation, body, movement, balance, version))

    rounds = 0
    while len(calls) < CALLS:
        rounds += 1
        where = {"round_id": f"storm-{client}-round-{rounds}", "game_id": "slot-storm"}
        stake = rng.randint(1, 500)
        add("bet", -stake, amount=stake, **where)
        outcome = rng.random()
        if outcome < 0.15:
            add("rollback", stake, rolled_back_transaction_id=calls[-1].transaction_id, **where)
        elif outcome < 0.65:
            win = rng.randint(1, 1_000)
            add("win", win, amount=win, **where)
    return calls


class Storm:
    """The client threads and the shared count of answered calls that decides the kill."""

    def __init__(self, server: Server, plans: list[list[Call]]) -> None:
        self.server = server  # the port stays the same across the restart
        self.plans = plans
        self.answered = 0
        self.kill_point = threading.Event()
        self.failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(p,), daemon=True) for p in plans]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def send_until_answered(self, call: Call) -> tuple[int, dict]:
        """Send `call`, and again with the same body while it gets no answer or a 5xx."""
        delay, deadline = 0.05, time.monotonic() + STORM_SECONDS
        while True:
            try:
                status, answer = PROVIDER.call(self.server, call.operation, call.body)
            except NO_ANSWER:
                call.no_answer += 1
            else:
                if status < 500:
                    return status, answer
                call.server_errors.append((status, answer))
            if time.monotonic() > deadline:
                raise AssertionError(f"{call.transaction_id} got no answer within {STORM_SECONDS} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _run(self, calls: list[Call]) -> None:
        try:
            for call in calls:
                call.answer = self.send_until_answered(call)
                with self._lock:
                    self.answered += 1
                    if self.answered == KILL_AFTER:
                        self.kill_point.set()
        except BaseException as exc:
            self.failures.append(exc)
            self.kill_point.set()  # let the test go on and report it


@database_sync_to_async
def set_up() -> list:
    """The provider, and CLIENTS players funded with FUNDS each (their version 1)."""
    games.save_provider(code=PROVIDER.code, secret=PROVIDER.secret)
    players = [make_player(username=f"storm{n}") for n in range(CLIENTS)]
    for player in players:
        wallet.adjust_balance(player_id=player.pk, amount=FUNDS, reason="test funds", acting_user=None)
    return players


@database_sync_to_async
def ledger(player_ids: list[int]) -> dict[str, list[tuple]]:
    """Every provider transaction of the players, by external id (a list: exactly one expected)."""
    rows: dict[str, list[tuple]] = {}
    for row in Transaction.objects.filter(origin=ORIGIN, player_id__in=player_ids).values_list(
        "external_id", "pk", "player_id", "kind", "amount", "balance_after", "wallet_version"
    ):
        rows.setdefault(row[0], []).append(row[1:])
    return rows


@database_sync_to_async
def wallets(player_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(cash balance, version, number of transactions) of each player."""
    counts = Counter(Transaction.objects.filter(player_id__in=player_ids).values_list("player_id", flat=True))
    return {
        account.player_id: (account.balance, account.version, counts[account.player_id])
        for account in Account.objects.filter(player_id__in=player_ids, kind="cash")
    }


@database_sync_to_async
def last_transaction_id() -> int:
    return Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@database_sync_to_async
def undispatched() -> int:
    return OutboxEvent.objects.filter(dispatched_at__isnull=True).count()


@database_sync_to_async
def wallet_events(player_ids: list[int]) -> tuple[Counter, dict[str, tuple[int, int]], list[str]]:
    """The outbox's wallet events of the players: how many per transaction, the (version,
    balance) each carries, and the errors any receiver left."""
    per_transaction: Counter = Counter()
    carried: dict[str, tuple[int, int]] = {}
    errors = []
    wanted = {str(pk) for pk in player_ids}
    for payload, last_error in OutboxEvent.objects.filter(name="wallet.transaction_posted").values_list(
        "payload", "last_error"
    ):
        if payload["player_id"] in wanted:
            per_transaction[payload["transaction_id"]] += 1
            carried[payload["transaction_id"]] = (payload["version"], payload["balance"])
            if last_error:
                errors.append(last_error)
    return per_transaction, carried, errors


@database_sync_to_async
def all_transaction_ids(player_ids: list[int]) -> dict[str, tuple[int, int]]:
    return {
        str(pk): (version, balance)
        for pk, version, balance in Transaction.objects.filter(player_id__in=player_ids).values_list(
            "pk", "wallet_version", "balance_after"
        )
    }


@pytest.mark.timeout(420)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_crash_in_a_storm_of_calls_loses_doubles_and_changes_nothing(tmp_path):
    players = await set_up()
    player_ids = [player.pk for player in players]
    plans = [plan(n, pk) for n, pk in enumerate(player_ids)]
    server_env = {"REALTIME_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    servers: list[Server] = []
    sweepers = []
    clients: list[ContractClient] = []
    issue = database_sync_to_async(realtime.issue_ticket)

    def socket_of(player) -> ContractClient:
        async def url() -> str:
            return f"{servers[-1].ws}/ws/player/?ticket={await issue(player=player)}"

        return ContractClient(url)

    try:
        servers.append(await asyncio.to_thread(start_server, tmp_path, "server", workers=WORKERS, **server_env))
        sweepers.append(await asyncio.to_thread(start_sweeper, tmp_path, "sweeper", *SWEEPER_ARGS))
        clients = [socket_of(player) for player in players]
        for client in clients:
            client.start()
        for client in clients:
            await client.wait_for(lambda c: c.version == 1, CONVERGE, "hello and the funding frame")

        # The storm; the crash once KILL_AFTER calls are answered, wherever the others are.
        storm = Storm(servers[0], plans)
        storm.start()
        assert await asyncio.to_thread(storm.kill_point.wait, STORM_SECONDS), "the storm never reached the kill"
        await asyncio.to_thread(kill_server, servers[-1])
        await asyncio.to_thread(kill_sweeper, sweepers[-1])
        left_undispatched = await undispatched()  # the sweeper's work to come (0 is possible)
        committed_at_kill = await last_transaction_id()
        servers.append(
            await asyncio.to_thread(
                start_server, tmp_path, "server", workers=WORKERS, port=servers[0].port, **server_env
            )
        )
        sweepers.append(await asyncio.to_thread(start_sweeper, tmp_path, "sweeper", *SWEEPER_ARGS))
        assert await asyncio.to_thread(storm.join, STORM_SECONDS), "the storm did not end"
        assert storm.failures == [], storm.failures

        calls = [call for calls in plans for call in calls]
        # Some call got no answer, or the test did not crash anything in flight: the servers were
        # down for seconds while clients still had calls to send.
        assert sum(call.no_answer for call in calls) > 0, "no call met the crash"
        assert [(c.transaction_id, c.server_errors) for c in calls if c.server_errors] == []

        # Every call answered exactly as the model says (whether it was committed by the first
        # attempt or by a retry), and is in the ledger once, with that answer.
        rows = await ledger(player_ids)
        assert sorted(rows) == sorted(call.transaction_id for call in calls)
        for call in calls:
            status, answer = call.answer
            assert status == 200, (call.transaction_id, call.body, status, answer)
            assert answer == {
                "balance": call.balance,
                "currency": "EUR",
                "transaction_id": answer["transaction_id"],
                "version": call.version,
            }, (call.transaction_id, call.no_answer)
            assert rows[call.transaction_id] == [
                (int(answer["transaction_id"]), int(call.body["player_id"]), call.operation, call.amount,
                 call.balance, call.version)
            ], call.transaction_id  # fmt: skip

        # A retry of an answered call is a replay: the same answer, nothing moved.
        for call in calls:
            assert await asyncio.to_thread(storm.send_until_answered, call) == call.answer, call.transaction_id

        # Final balances and versions are the model's; no transaction beyond the planned ones.
        final = {int(p[0].body["player_id"]): (p[-1].balance, p[-1].version, 1 + len(p)) for p in plans}
        assert await wallets(player_ids) == final

        # Each socket, reconnected after the crash, ends holding every version in order.
        for client, calls_of_player in zip(clients, plans, strict=True):
            last = calls_of_player[-1]
            await client.wait_for(lambda c, v=last.version: c.version >= v, CONVERGE, "every version")
            assert client.applied == list(range(1, last.version + 1)), client.describe()
            assert client.balance == last.balance, client.describe()
            assert client.connections >= 2, f"the socket never reconnected; {client.describe()}"

        # The outbox: every transaction's event, once, dispatched in the end (the restarted
        # sweeper re-runs those the crash left undone), carrying the answered version and balance.
        deadline = time.monotonic() + OUTBOX_DRAINED
        while (left := await undispatched()) > 0:
            assert time.monotonic() < deadline, f"{left} event(s) never dispatched\n{tail(sweepers[-1].log)}"
            await asyncio.sleep(0.5)
        per_transaction, carried, receiver_errors = await wallet_events(player_ids)
        transactions = await all_transaction_ids(player_ids)
        assert per_transaction == Counter(dict.fromkeys(transactions, 1))
        assert carried == transactions
        assert receiver_errors == []

        code, lines = await database_sync_to_async(call_audit_command)("wallet_audit")
        assert code is None, "\n".join(lines)
        for log in (servers[-1].log, sweepers[-1].log):
            assert "Traceback" not in log.read_text(errors="replace"), tail(log, 120)
        retried = [call for call in calls if call.no_answer]
        lost_answers = sum(1 for call in retried if int(call.answer[1]["transaction_id"]) <= committed_at_kill)
        print(
            f"crash storm: {len(calls)} calls, {sum(c.no_answer for c in calls)} attempts unanswered, "
            f"{len(retried)} calls retried ({lost_answers} committed before the kill, answered by a replay), "
            f"{left_undispatched} event(s) undispatched at the kill"
        )
    except BaseException:
        for server in servers[-1:]:
            print(f"--- server log ---\n{tail(server.log, 80)}")
        for sweeper in sweepers[-1:]:
            print(f"--- sweeper log ---\n{tail(sweeper.log, 40)}")
        raise
    finally:
        for client in clients:
            await client.close()
        for server in servers:
            await asyncio.to_thread(stop_server, server)
        for sweeper in sweepers:
            await asyncio.to_thread(stop_sweeper, sweeper)
