"""The crash room (docs/crash-room.md): its rounds, bets and cash-outs, and the runner that plays
the rounds.

One room, played by exactly one runner at a time across every server process: each process starts
a runner the first time a socket joins the room, and the runners compete for a lease in Redis
(`Lease`); the holder plays the rounds and renews the lease at every step, and when it dies the
lease expires and another takes over, picking the latest round up where it stood. Every change of
a round is a conditional UPDATE on its phase, so a runner that lost its lease without noticing
cannot move a round twice.

Bets and cash-outs are taken by whichever process holds the player's socket, judged by the round's
row and the server clock: a bet only while the betting window is open (else BETTING_CLOSED, with no
wallet call), a cash-out only while the multiplier at this moment is below the stored crash point
(paid at once at that multiplier). Frames go to the channel-layer group `GROUP`, so the sockets of
every process get them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.common.tokens import hash_token
from apps.studio import crash, crash_reads, locks, wallet_client
from apps.studio.crash_reads import latest_round
from apps.studio.models import CrashBet, CrashBetState, CrashChain, CrashPhase, CrashRound, Session
from apps.studio.threads import in_db_thread, in_runner_thread

logger = structlog.get_logger(__name__)

GAME_CODE = crash_reads.GAME_CODE
GROUP = "studio.crash"
MAX_STAKE = 10**12  # the wallet API's largest amount
SETTLE_CONCURRENCY = 8  # win calls in flight at once when a round is settled
# How long after the results frame the settlement's win calls start (its fan-out goes first).
SETTLE_DELAY = timedelta(milliseconds=250)
SWEEP_LIMIT = 5000  # win calls a settlement sends at most (this round's first, then unanswered ones)
# A bet still pending this long has lost its handler (the wallet never answered it, nor its
# rollback, or the process died mid-call): longer than every attempt of a wallet call (wallet_client).
STALE_PENDING = timedelta(seconds=60)
# How long the start of a round waits for the bets of its window that the wallet has not answered yet.
PENDING_WAIT = timedelta(seconds=2)
WALLET_REFUSALS = {"INSUFFICIENT_FUNDS", "PLAYER_BLOCKED", "LIMIT_REACHED"}


class Refused(Exception):
    """A bet or cash-out refused with a stable code (docs/crash-room.md, "Protocol")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def growth() -> float:
    return float(Decimal(settings.STUDIO_CRASH_GROWTH))


def alias(player_id: str) -> str:
    """How a player is shown to the room: "Player 4f2a9c", keyed with the studio's secret so that
    nobody can walk the small player ids back from it (six hex digits: two of 200 players in a
    room share one about once in a thousand rooms; four made it one room in four)."""
    digest = hmac.new(settings.STUDIO_PROVIDER_SECRET.encode(), f"crash-alias:{player_id}".encode(), hashlib.sha256)
    return f"Player {digest.hexdigest()[:6]}"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def elapsed_ms(round_: CrashRound, now: datetime) -> int:
    return max(0, (now - round_.started_at) // timedelta(milliseconds=1))


def phase_now(round_: CrashRound, now: datetime) -> str:
    """The round's phase as the room shows it: crashed from the crash instant on, by the clock, as
    the runner announces it (before its database step records it)."""
    if round_.phase == CrashPhase.RUNNING and round_.started_at is not None:
        ends = round_.started_at + timedelta(milliseconds=crash.crash_ms(round_.crash_x100, growth()))
        if now >= ends:
            return CrashPhase.CRASHED
    return round_.phase


def multiplier_now(round_: CrashRound, now: datetime) -> int:
    """What the room shows: 100 before the start, the crash point once crashed, and while running
    the multiplier now, below the crash point."""
    if phase_now(round_, now) == CrashPhase.CRASHED:
        return round_.crash_x100
    if round_.phase != CrashPhase.RUNNING or round_.started_at is None:
        return 100
    return max(100, min(crash.multiplier_at(elapsed_ms(round_, now), growth()), round_.crash_x100 - 1))


async def publish(frame: dict[str, Any]) -> None:
    """To every socket in the room, on every instance. A lost frame is not money: a client
    resyncs with `snapshot`."""
    try:
        await get_channel_layer().group_send(GROUP, {"type": "crash.frame", "frame": frame})
    except Exception as exc:  # the room plays on without Redis; clients resync
        logger.warning("studio.crash.publish_failed", frame=frame.get("type"), error=repr(exc))


# --- Chains and rounds (sync: run in a thread by the async callers) --------------------------------

_seeds: dict[tuple[int, str], crash.ChainSeeds] = {}  # per process, by chain id and commitment


def seeds_of(chain: CrashChain) -> crash.ChainSeeds:
    found = _seeds.get((chain.pk, chain.commitment))
    if found is None:
        found = crash.ChainSeeds(bytes.fromhex(chain.terminal_seed), chain.length)
        if found.commitment != chain.commitment:
            raise RuntimeError(f"chain {chain.pk}: the terminal seed does not hash to its commitment")
        _seeds.clear()  # one chain in play at a time
        _seeds[chain.pk, chain.commitment] = found
    return found


def new_chain(length: int | None = None) -> CrashChain:
    length = length or settings.STUDIO_CRASH_CHAIN_LENGTH
    terminal = crash.new_terminal_seed()
    return CrashChain.objects.create(
        commitment=crash.commitment(terminal, length),
        length=length,
        terminal_seed=terminal.hex(),
        created_at=timezone.now(),
    )


def open_round() -> tuple[CrashRound, bool]:
    """(The next round, True): taking bets from now for the betting window, or already running
    when the window is 0 ms (one database trip less per round for a benchmark). When a round is
    already open (another runner got there first): (that round, False)."""
    with transaction.atomic():
        last = locks.latest_crash_round()
        if last is not None and last.phase != CrashPhase.CRASHED:
            return CrashRound.objects.select_related("chain").get(pk=last.pk), False
        chain = locks.current_crash_chain()
        if chain is None or chain.next_index > chain.length:
            chain = locks.crash_chain(new_chain().pk)
        index = chain.next_index
        now = timezone.now()
        window = settings.STUDIO_CRASH_BETTING_MS
        round_ = CrashRound.objects.create(
            number=(last.number if last else 0) + 1,
            chain=chain,
            chain_index=index,
            crash_x100=crash.crash_point(seeds_of(chain).seed(index)),
            betting_closes_at=now + timedelta(milliseconds=window),
            phase=CrashPhase.BETTING if window else CrashPhase.RUNNING,
            started_at=None if window else now,
        )
        CrashChain.objects.filter(pk=chain.pk).update(next_index=index + 1)
    return round_, True


def start_round(round_: CrashRound) -> bool:
    now = timezone.now()
    started = CrashRound.objects.filter(pk=round_.pk, phase=CrashPhase.BETTING).update(
        phase=CrashPhase.RUNNING, started_at=now
    )
    if started:
        round_.phase, round_.started_at = CrashPhase.RUNNING, now
    return bool(started)


@dataclass(frozen=True)
class Crashed:
    """What `crash_round` did: `results`, every player's outcome, final (cash-outs were paid when
    taken, the others lost)."""

    results: list[dict[str, Any]]


def crash_round(round_: CrashRound) -> Crashed | None:
    """Marks the crash and reveals the seed; every bet still in play loses (a zero win). One
    transaction that also reads the results, so that the room hears them one database trip after
    the crash; the win calls owed (`owed_calls`) are read after that. None when the round was not
    running any more (another runner moved it)."""
    seed = seeds_of(round_.chain).seed(round_.chain_index).hex()
    now = timezone.now()
    with transaction.atomic():
        crashed = CrashRound.objects.filter(pk=round_.pk, phase=CrashPhase.RUNNING).update(
            phase=CrashPhase.CRASHED, crashed_at=now, seed=seed
        )
        if not crashed:
            return None
        CrashBet.objects.filter(round=round_, state=CrashBetState.ACCEPTED).update(state=CrashBetState.LOST, win=0)
        results = round_results(round_)
    round_.phase, round_.crashed_at, round_.seed = CrashPhase.CRASHED, now, seed
    return Crashed(results)


@dataclass(frozen=True)
class Owed:
    """The calls a crashed round still owes the wallet: `unsettled`, its win calls (the losers'
    zero wins that close their rounds in the ledger, and wins whose call went unanswered, this
    round's first, then earlier rounds'); `stale`, earlier rounds' bets left pending, to roll back."""

    unsettled: list[CrashBet]
    stale: list[CrashBet]


def owed_calls(round_: CrashRound) -> Owed:
    return Owed(unsettled_bets(round_), stale_pending_bets(round_))


def has_pending_bets(round_: CrashRound) -> bool:
    return CrashBet.objects.filter(round=round_, state=CrashBetState.PENDING).exists()


def stale_pending_bets(round_: CrashRound) -> list[CrashBet]:
    """Bets of earlier rounds that nobody will confirm any more (`STALE_PENDING`)."""
    stale = CrashBet.objects.filter(
        state=CrashBetState.PENDING,
        settled=False,
        round_id__lt=round_.pk,
        placed_at__lt=timezone.now() - STALE_PENDING,
    )
    return list(stale.select_related("round").order_by("pk")[:SWEEP_LIMIT])


def unsettled_bets(round_: CrashRound) -> list[CrashBet]:
    """The bets still owed a win call, this round's first, then earlier ones whose call went
    unanswered (at most SWEEP_LIMIT of them). Filtered on the bet's own columns, which the
    `studio_crash_bet_unsettled` index holds: nearly always nothing."""
    owed = CrashBet.objects.filter(
        state__in=[CrashBetState.LOST, CrashBetState.CASHED_OUT], settled=False, round_id__lte=round_.pk
    )
    return list(owed.select_related("round").order_by("-round_id", "pk")[:SWEEP_LIMIT])


def mark_settled(bet_ids: list[int]) -> None:
    if bet_ids:
        CrashBet.objects.filter(pk__in=bet_ids).update(settled=True)


def close_round(round_: CrashRound, paid: list[int]) -> list[dict[str, Any]]:
    """Records the answered win calls and closes the round: its results, every bet in it."""
    mark_settled(paid)
    now = timezone.now()
    CrashRound.objects.filter(pk=round_.pk, settled_at=None).update(settled_at=now)
    round_.settled_at = now
    return round_results(round_)


def round_results(round_: CrashRound) -> list[dict[str, Any]]:
    """Every bet of the crashed round with its outcome."""
    bets = CrashBet.objects.filter(round=round_, state__in=[CrashBetState.LOST, CrashBetState.CASHED_OUT])
    return [
        {"player": alias(b.player_id), "stake": b.stake, "cashout_x100": b.cashout_x100, "win": b.win}
        for b in bets.order_by("pk")
    ]


# --- The wallet calls ------------------------------------------------------------------------------


def _body(bet: CrashBet, round_number: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "player_id": bet.player_id,
        "currency": bet.currency,
        "transaction_id": CrashBet.transaction_id(round_number, bet.session_id, kind),
        "round_id": CrashBet.wallet_round_id(round_number),
        "game_id": GAME_CODE,
        **fields,
    }


async def send_win(bet: CrashBet, round_number: int) -> wallet_client.Answer:
    """The round's win call for this bet (0 for a loss): the same call every time it is sent."""
    return await wallet_client.client().call("win", _body(bet, round_number, "win", amount=bet.win or 0))


async def settle(round_: CrashRound, bets: list[CrashBet]) -> list[dict[str, Any]]:
    """Sends every owed win call (bounded concurrency), then closes the round: its results."""
    gate = asyncio.Semaphore(SETTLE_CONCURRENCY)

    async def one(bet: CrashBet) -> int | None:
        async with gate:
            try:
                answer = await send_win(bet, bet.round.number)
            except wallet_client.WalletUnavailable:
                return None  # resent at the next settlement
            if not answer.ok:
                logger.error("studio.crash.win_refused", bet=bet.pk, code=answer.code, status=answer.status)
                return None
            return bet.pk

    paid = await asyncio.gather(*(one(bet) for bet in bets))
    return await in_runner_thread(close_round)(round_, [pk for pk in paid if pk is not None])


# --- Bets and cash-outs (any instance) ---------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    number: int
    balance: int


def _claim_bet(session: Session, stake: int) -> tuple[CrashRound, CrashBet]:
    round_ = latest_round()
    now = timezone.now()
    if round_ is None or round_.phase != CrashPhase.BETTING or now >= round_.betting_closes_at:
        raise Refused("BETTING_CLOSED", "Bets are closed for this round. Wait for the next one.")
    try:
        with transaction.atomic():
            bet = CrashBet.objects.create(
                round=round_,
                session=session,
                player_id=session.player_id,
                currency=session.currency,
                stake=stake,
                placed_at=now,
            )
    except IntegrityError:
        raise Refused("ALREADY_BET", "You already have a bet in this round.") from None
    return round_, bet


def _bet_accepted(bet: CrashBet) -> bool:
    """Marks the bet in play; True when its round crashed meanwhile (then it has lost already)."""
    with transaction.atomic():
        CrashBet.objects.filter(pk=bet.pk, state=CrashBetState.PENDING).update(state=CrashBetState.ACCEPTED)
        Session.objects.filter(pk=bet.session_id).update(staked=F("staked") + bet.stake, last_round_at=timezone.now())
        crashed = CrashRound.objects.filter(pk=bet.round_id, phase=CrashPhase.CRASHED).exists()
        if crashed:
            CrashBet.objects.filter(pk=bet.pk, state=CrashBetState.ACCEPTED).update(state=CrashBetState.LOST, win=0)
    return crashed


def _bet_voided(bet: CrashBet, *, delete: bool) -> None:
    if delete:
        CrashBet.objects.filter(pk=bet.pk, state=CrashBetState.PENDING).delete()
    else:
        CrashBet.objects.filter(pk=bet.pk, state=CrashBetState.PENDING).update(state=CrashBetState.VOID)


async def place_bet(session: Session, stake: Any) -> Placed:
    """A bet of `stake` minor units in the round taking bets now. Raises Refused."""
    if type(stake) is not int or not 0 < stake <= MAX_STAKE:
        raise Refused("INVALID_BET", "The stake must be a whole, positive number of minor units.")
    round_, bet = await in_db_thread(_claim_bet)(session, stake)
    body = _body(bet, round_.number, "bet", amount=stake)
    try:
        answer = await wallet_client.client().call("bet", body)
    except wallet_client.WalletUnavailable:
        await _roll_back_unanswered(bet, round_.number)
        raise Refused("WALLET_UNAVAILABLE", "The game cannot reach your wallet. Try again shortly.") from None
    if not answer.ok:
        await in_db_thread(_bet_voided)(bet, delete=True)  # refused: nothing recorded, may bet again
        code = answer.code if answer.code in WALLET_REFUSALS else "INVALID_BET"
        message = (answer.body.get("error") or {}).get("message") or "The wallet refused the bet."
        raise Refused(code, message)
    crashed = await in_db_thread(_bet_accepted)(bet)
    if crashed:  # accepted after the runner settled its round: close it here
        bet.state, bet.win = CrashBetState.LOST, 0
        with contextlib.suppress(wallet_client.WalletUnavailable):
            if (await send_win(bet, round_.number)).ok:
                await in_db_thread(mark_settled)([bet.pk])
    await publish({"type": "crash.bet", "number": round_.number, "player": alias(session.player_id), "stake": stake})
    return Placed(round_.number, int(answer.body["balance"]))


async def roll_back_stale(bets: list[CrashBet]) -> None:
    """Rolls back (and voids) bets left pending: the wallet refunds what a lost bet took, or
    records the rollback so that the bet, should it still arrive, is refused."""
    gate = asyncio.Semaphore(SETTLE_CONCURRENCY)

    async def one(bet: CrashBet) -> None:
        async with gate:
            await _roll_back_unanswered(bet, bet.round.number)

    await asyncio.gather(*(one(bet) for bet in bets))


async def _roll_back_unanswered(bet: CrashBet, round_number: int) -> None:
    """A bet the wallet never answered may or may not have moved money: roll it back (the wallet
    records a rollback of an unknown bet, so a late copy of the bet is refused) and void it. Left
    pending if the rollback is not answered either."""
    body = _body(
        bet,
        round_number,
        "rollback",
        rolled_back_transaction_id=CrashBet.transaction_id(round_number, bet.session_id, "bet"),
    )
    try:
        answer = await wallet_client.client().call("rollback", body)
    except wallet_client.WalletUnavailable:
        logger.error("studio.crash.bet_unresolved", bet=bet.pk)
        return
    if answer.ok:
        await in_db_thread(_bet_voided)(bet, delete=False)
    else:
        logger.error("studio.crash.rollback_refused", bet=bet.pk, code=answer.code, status=answer.status)


@dataclass(frozen=True)
class CashedOut:
    number: int
    cashout_x100: int
    win: int
    balance: int | None


def _claim_cashout(session: Session) -> tuple[CrashRound, CrashBet]:
    now = timezone.now()
    round_ = latest_round()
    if round_ is None or round_.phase == CrashPhase.BETTING or round_.started_at is None:
        raise Refused("NOT_RUNNING", "The round has not started.")
    bet = CrashBet.objects.filter(round=round_, session=session).first()
    if bet is None or bet.state in (CrashBetState.PENDING, CrashBetState.VOID):
        raise Refused("NO_BET", "You have no bet in this round.")
    if bet.state == CrashBetState.CASHED_OUT:
        raise Refused("ALREADY_CASHED_OUT", "You have cashed out already.")
    multiplier = crash.multiplier_at(elapsed_ms(round_, now), growth())
    if bet.state == CrashBetState.LOST or round_.phase == CrashPhase.CRASHED or multiplier >= round_.crash_x100:
        raise Refused("TOO_LATE", "The round crashed before your cash-out.")
    win = crash.win_of(bet.stake, multiplier)
    with transaction.atomic():
        taken = CrashBet.objects.filter(pk=bet.pk, state=CrashBetState.ACCEPTED).update(
            state=CrashBetState.CASHED_OUT, cashout_x100=multiplier, win=win
        )
        if not taken:  # the runner marked the crash between the read and this write
            raise Refused("TOO_LATE", "The round crashed before your cash-out.")
        Session.objects.filter(pk=session.pk).update(returned=F("returned") + win)
    bet.state, bet.cashout_x100, bet.win = CrashBetState.CASHED_OUT, multiplier, win
    return round_, bet


async def cash_out(session: Session) -> CashedOut:
    """Cashes the session's bet out at the multiplier now and pays it at once. Raises Refused."""
    round_, bet = await in_db_thread(_claim_cashout)(session)
    balance = None
    try:
        answer = await send_win(bet, round_.number)
    except wallet_client.WalletUnavailable:
        answer = None  # owed: the runner resends the same call when it settles the round
    if answer is not None and answer.ok:
        await in_db_thread(mark_settled)([bet.pk])
        balance = int(answer.body["balance"])
    await publish(
        {
            "type": "crash.cashout",
            "number": round_.number,
            "player": alias(session.player_id),
            "cashout_x100": bet.cashout_x100,
            "win": bet.win,
        }
    )
    return CashedOut(round_.number, bet.cashout_x100, bet.win, balance)


# --- The snapshot ------------------------------------------------------------------------------------


def _bet_shown(bet: CrashBet) -> dict[str, Any]:
    return {"player": alias(bet.player_id), "stake": bet.stake, "cashout_x100": bet.cashout_x100, "win": bet.win}


async def balance_of(session: Session) -> int | None:
    """The player's balance, asked of the wallet; None when it does not answer."""
    try:
        answer = await wallet_client.client().call(
            "balance", {"player_id": session.player_id, "currency": session.currency}
        )
    except wallet_client.WalletUnavailable:
        return None
    return int(answer.body["balance"]) if answer.ok else None


async def join(key: str) -> tuple[Session, dict[str, Any]] | None:
    """The crash session of a socket's key and the room's snapshot for it, read in one database
    trip (what a late joiner waits for); None when the key opens no crash session."""
    if not key:
        return None
    view = await in_db_thread(crash_reads.by_key_hash)(hash_token(key))
    if view.session is None:
        return None
    return view.session, _snapshot_frame(view)


async def snapshot(session: Session) -> dict[str, Any]:
    """The room as it stands, for a socket that asks again (`snapshot`)."""
    view = await in_db_thread(crash_reads.by_session_id)(session.pk)
    return _snapshot_frame(view if view.session is not None else view._replace(session=session))


def _snapshot_frame(view: crash_reads.RoomView) -> dict[str, Any]:
    """No wallet call: `you.balance` is null, and the consumer sends the wallet's balance after
    it, in `crash.balance`."""
    session, round_, bets, chain = view
    now = timezone.now()
    round_shown = None
    if round_ is not None:
        phase = phase_now(round_, now)
        round_shown = {
            "number": round_.number,
            "phase": phase,
            "betting_closes_at": iso(round_.betting_closes_at),
            "started_at": iso(round_.started_at),
            "multiplier_x100": multiplier_now(round_, now),
            "crash_x100": round_.crash_x100 if phase == CrashPhase.CRASHED else None,
        }
    mine = next((b for b in bets if b.session_id == session.pk), None)
    return {
        "type": "crash.snapshot",
        "round": round_shown,
        "bets": [_bet_shown(b) for b in bets],
        "commitment": chain.commitment if chain is not None else None,
        "you": {
            "player": alias(session.player_id),
            "balance": None,
            "bet": _bet_shown(mine) if mine is not None else None,
            "net_position": session.net_position,
            "elapsed_seconds": int((now - session.opened_at).total_seconds()),
            "show_session_info": session.show_session_info,
        },
        "server_time": iso(now),
    }


# --- Leadership --------------------------------------------------------------------------------------

_RENEW = """
if redis.call("get", KEYS[1]) == ARGV[1] then
  return redis.call("pexpire", KEYS[1], ARGV[2])
end
return 0
"""


class Lease:
    """Who runs the room: a Redis key set with NX and a time to live, renewed by its holder at
    every step of the room and taken over by any other process once it expires (the holder died,
    froze or lost Redis). Without Redis (embedded mode: one process) the lease is always held."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.ms = settings.STUDIO_CRASH_LEASE_MS
        prefix = settings.CACHES["default"].get("KEY_PREFIX") or "pam"
        self.key = f"{prefix}:studio:crash:leader"
        self._redis = None
        if settings.REDIS_URL:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, max_connections=4
            )

    async def acquire(self) -> bool:
        if self._redis is None:
            return True
        return bool(await self._redis.set(self.key, self.token, nx=True, px=self.ms))

    async def renew(self) -> bool:
        if self._redis is None:
            return True
        return bool(await self._redis.eval(_RENEW, 1, self.key, self.token, self.ms))

    async def holder(self) -> str | None:
        if self._redis is None:
            return self.token
        value = await self._redis.get(self.key)
        return value.decode() if value else None


class LeaseLost(Exception):
    pass


class Runner:
    """Plays the room's rounds while it holds the lease: open (betting) → start (running, a tick
    frame every STUDIO_CRASH_TICK_MS) → crash at the crash point → settle → pause → the next."""

    def __init__(self) -> None:
        self.lease = Lease()
        self.leading = False
        self.rounds_played = 0
        self._renewed = 0.0  # monotonic time of the last renewal's start
        # The runner's frames, sent in order by one task (`_publisher`), so that a round's steps
        # never wait for Redis; bounded, so a runner far ahead of Redis waits for it.
        self._frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    async def run_forever(self) -> None:
        publisher = asyncio.create_task(self._publisher())
        try:
            await self._compete()
        finally:
            publisher.cancel()

    async def _publisher(self) -> None:
        while True:  # the runner's lifetime
            await publish(await self._frames.get())

    async def _publish(self, frame: dict[str, Any]) -> None:
        await self._frames.put(frame)

    async def _compete(self) -> None:
        while True:  # the process's lifetime
            try:
                started = time.monotonic()
                if await self.lease.acquire():
                    self._renewed = started
                    logger.info("studio.crash.leading", token=self.lease.token)
                    self.leading = True
                    await self.lead()
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                logger.warning("studio.crash.lease_lost", token=self.lease.token)
            except Exception as exc:  # a database or Redis outage: try again shortly
                logger.exception("studio.crash.runner_failed", error=repr(exc))
            self.leading = False
            await asyncio.sleep(self.lease.ms / 3000)

    async def _renew(self) -> None:
        """Renews the lease once a third of it has passed since the last renewal: until then it
        is surely still ours (every step of a round is also conditional on the round's phase)."""
        started = time.monotonic()
        if started - self._renewed < self.lease.ms / 3000:
            return
        if not await self.lease.renew():
            raise LeaseLost
        self._renewed = started

    async def _sleep_until(self, when: datetime) -> None:
        """Until `when`, renewing the lease at least every tick."""
        tick = settings.STUDIO_CRASH_TICK_MS / 1000
        for _ in range(10**9):
            await self._renew()
            remaining = (when - timezone.now()).total_seconds()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, tick))

    async def lead(self) -> None:
        round_ = await in_runner_thread(latest_round)()
        while True:  # while it leads: a lost lease (LeaseLost) or an error ends it
            await self._renew()
            if round_ is None or (round_.phase == CrashPhase.CRASHED and round_.settled_at is not None):
                if round_ is not None and round_.crashed_at is not None:
                    await self._sleep_until(round_.crashed_at + timedelta(milliseconds=settings.STUDIO_CRASH_PAUSE_MS))
                round_, opened = await in_runner_thread(open_round)()
                if opened:
                    await self._publish(
                        {
                            "type": "crash.betting",
                            "number": round_.number,
                            "betting_closes_at": iso(round_.betting_closes_at),
                            # A room's first round creates its chain: sockets that joined before
                            # learn the commitment here.
                            "commitment": round_.chain.commitment,
                        }
                    )
                    if round_.phase == CrashPhase.RUNNING:  # a 0 ms window: started as it opened
                        await self._publish(
                            {"type": "crash.started", "number": round_.number, "started_at": iso(round_.started_at)}
                        )
            if round_.phase == CrashPhase.BETTING:
                await self._sleep_until(round_.betting_closes_at)
                await self._await_pending_bets(round_)
                if not await in_runner_thread(start_round)(round_):
                    round_ = await in_runner_thread(latest_round)()
                    continue
                await self._publish(
                    {"type": "crash.started", "number": round_.number, "started_at": iso(round_.started_at)}
                )
            if round_.phase == CrashPhase.RUNNING:
                await self._run(round_)
                # The crash point is reached: from this instant every cash-out is refused by the
                # clock (`_claim_cashout`), so the room hears of the crash now, not a database trip
                # later; the results follow it once the crash is recorded.
                await self._publish(
                    {
                        "type": "crash.crashed",
                        "number": round_.number,
                        "crash_x100": round_.crash_x100,
                        "seed": seeds_of(round_.chain).seed(round_.chain_index).hex(),
                    }
                )
                crashed = await in_runner_thread(crash_round)(round_)
                if crashed is None:
                    round_ = await in_runner_thread(latest_round)()
                    continue
                self.rounds_played += 1
                await self._publish({"type": "crash.settled", "number": round_.number, "results": crashed.results})
                owed = await in_runner_thread(owed_calls)(round_)
                if owed.unsettled or owed.stale:
                    # The ledger's closing calls (the losers' zero wins) wait for the results frame
                    # to reach the sockets (within the pause): a burst of wallet calls at once would
                    # compete with its fan-out for the machine's cores.
                    pause = timedelta(milliseconds=settings.STUDIO_CRASH_PAUSE_MS)
                    await self._sleep_for(min(SETTLE_DELAY, pause))
                await settle(round_, owed.unsettled)
                if owed.stale:
                    await roll_back_stale(owed.stale)
            if round_.phase == CrashPhase.CRASHED and round_.settled_at is None:  # taken over after its crash
                bets = await in_runner_thread(unsettled_bets)(round_)
                results = await settle(round_, bets)
                await self._publish({"type": "crash.settled", "number": round_.number, "results": results})

    async def _sleep_for(self, delay: timedelta) -> None:
        await self._sleep_until(timezone.now() + delay)

    async def _await_pending_bets(self, round_: CrashRound) -> None:
        """Bets taken in the window whose wallet call is still out: the round starts once they are
        answered (at most PENDING_WAIT), so that a bet the wallet takes is in play from the start
        and in the crash's results, not accepted after the round it was for has crashed."""
        deadline = time.monotonic() + PENDING_WAIT.total_seconds()
        for _ in range(10**6):
            if time.monotonic() >= deadline or not await in_runner_thread(has_pending_bets)(round_):
                return
            await self._renew()
            await asyncio.sleep(0.02)

    async def _run(self, round_: CrashRound) -> None:
        """Tick frames until the crash point's moment."""
        rate = growth()
        ends = round_.started_at + timedelta(milliseconds=crash.crash_ms(round_.crash_x100, rate))
        tick = timedelta(milliseconds=settings.STUDIO_CRASH_TICK_MS)
        next_tick = round_.started_at + tick
        for _ in range(10**9):
            await self._renew()
            now = timezone.now()
            if now >= ends:
                return
            if now >= next_tick:
                elapsed = elapsed_ms(round_, now)
                multiplier = min(crash.multiplier_at(elapsed, rate), round_.crash_x100 - 1)
                await self._publish(
                    {
                        "type": "crash.tick",
                        "number": round_.number,
                        "multiplier_x100": multiplier,
                        "elapsed_ms": elapsed,
                    }
                )
                while next_tick <= now:
                    next_tick += tick
            await asyncio.sleep(max(0.0, (min(ends, next_tick) - timezone.now()).total_seconds()))


_runners: dict[int, tuple[Runner, asyncio.Task]] = {}


def ensure_runner() -> Runner:
    """This process's runner, started on the running loop the first time a socket joins the room
    (each process tries; one leads)."""
    loop = asyncio.get_running_loop()
    found = _runners.get(id(loop))
    if found is None or found[1].done():
        runner = Runner()
        found = _runners[id(loop)] = (runner, loop.create_task(runner.run_forever(), name="studio-crash-runner"))
    return found[0]
