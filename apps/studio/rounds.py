"""A round of the studio's games, played over the seamless wallet API (docs/studio.md, "Rounds").

Order: record the round, send `bet`, draw the outcome, send `win`. Every step is recorded before
the next is taken, so a crash leaves a round whose state says what is left (recovery.py); the
wallet calls' transaction ids derive from the round, so every resend is idempotent on the wallet's
side, and the client's `request_id` (unique per session) makes a resend idempotent on ours.

The steps that touch the database are sync functions (one short transaction each), shared with
recovery; `play` is the async driver that the API view awaits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.studio import catalogue, locks, roulette, slot
from apps.studio.models import Round, RoundState, Session
from apps.studio.rng import SYSTEM
from apps.studio.wallet_client import Answer, WalletClient, WalletUnavailable, scoped

logger = structlog.get_logger(__name__)

# A stake's upper bound, so that the largest payout (a slot pays up to 1000 times the stake) stays far inside
# the wallet's 10^12.
MAX_STAKE = 10_000_000
MAX_BETS = 50
EVEN_MONEY = ("red", "black", "odd", "even", "low", "high")
MAX_REQUEST_ID = 64
# How long a claim on a round lasts: longer than a round's two wallet calls with every resend
# (wallet_client: 3 sends of at most 10 s each), so a live round is never taken over.
LEASE = dt.timedelta(seconds=120)
# How long a duplicate request waits for the round that another request is carrying on.
DUPLICATE_WAIT_SECONDS = 15.0
DUPLICATE_POLL_SECONDS = 0.05

# The wallet's refusals of a bet that end the round `refused`, answered with the wallet's code.
PLAYER_REFUSALS = {"INSUFFICIENT_FUNDS": 402, "PLAYER_BLOCKED": 403, "LIMIT_REACHED": 403}


class Refusal(Exception):
    """A request the studio answers with an error and without moving money."""

    def __init__(self, code: str, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.details = code, status, message, details


@dataclass(frozen=True)
class RoundRequest:
    request_id: str
    stake: int
    autoplay: bool
    bets: list[dict[str, Any]] = field(default_factory=list)  # roulette, normalised

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps([self.stake, self.autoplay, self.bets], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# ---- reading the request ----------------------------------------------------------------------


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse(game_type: str, body: Any) -> RoundRequest:
    """The round a request asks for, or Refusal INVALID_REQUEST / INVALID_BET."""
    if not isinstance(body, dict):
        raise Refusal("INVALID_REQUEST", 400, "The body must be a JSON object.")
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID or not request_id.isprintable():
        raise Refusal("INVALID_REQUEST", 400, f"request_id must be 1 to {MAX_REQUEST_ID} printable characters.")
    autoplay = body.get("autoplay", False)
    if not isinstance(autoplay, bool):
        raise Refusal("INVALID_REQUEST", 400, "autoplay must be true or false.")
    if game_type == "slots":
        stake = body.get("stake")
        if not _positive_int(stake) or stake % slot.LINE_COUNT or stake > MAX_STAKE:
            raise Refusal(
                "INVALID_BET",
                400,
                f"The stake must be a positive whole number of minor units, a multiple of {slot.LINE_COUNT} "
                f"(one for each line), at most {MAX_STAKE}.",
            )
        return RoundRequest(request_id, stake, autoplay)
    if game_type == "table":
        bets = _roulette_bets(body.get("bets"))
        stake = sum(b["stake"] for b in bets)
        if stake > MAX_STAKE:
            raise Refusal("INVALID_BET", 400, f"The bets' stakes add up to more than {MAX_STAKE}.")
        return RoundRequest(request_id, stake, autoplay, bets)
    raise Refusal("INVALID_REQUEST", 400, "This game is not played in rounds here.")


def _roulette_bets(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_BETS:
        raise Refusal("INVALID_BET", 400, f"bets must be a list of 1 to {MAX_BETS} bets.")
    bets = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("numbers", []), list):
            raise Refusal("INVALID_BET", 400, 'Each bet is {"kind": …, "numbers": […], "stake": …}.')
        placed = _roulette_bet(item.get("kind"), item.get("numbers", []), item.get("stake"))
        bets.append({"kind": placed.kind, "numbers": sorted(placed.numbers), "stake": placed.stake})
    return bets


def _roulette_bet(kind: Any, numbers: list, stake: Any) -> roulette.Bet:
    """The API names a column or a dozen by its index ([2]) and an even-money bet by no numbers."""
    if not isinstance(kind, str):
        raise Refusal("INVALID_BET", 400, "A bet's kind is a string.")
    if kind in ("column", "dozen"):
        argument = numbers[0] if len(numbers) == 1 else None
    elif kind in EVEN_MONEY:
        if numbers:
            raise Refusal("INVALID_BET", 400, f"A {kind} bet names no numbers.")
        argument = None
    else:
        argument = numbers
    try:
        # A column or dozen is stored as the numbers it covers, which is what settles it.
        return roulette.bet(kind, argument, stake)
    except roulette.InvalidBet as refused:
        raise Refusal("INVALID_BET", 400, refused.message, **refused.details) from None


def _placed(stored: dict[str, Any]) -> roulette.Bet:
    return roulette.Bet(kind=stored["kind"], numbers=frozenset(stored["numbers"]), stake=stored["stake"])


# ---- what every answer carries ----------------------------------------------------------------


def next_round_at(session: Session) -> dt.datetime | None:
    if session.last_round_at is None:
        return None
    return session.last_round_at + dt.timedelta(milliseconds=session.min_cycle_ms)


def session_part(session: Session, now: dt.datetime) -> dict[str, Any]:
    """The session's figures and when its next round may start (docs/studio.md, "API")."""
    at = next_round_at(session)
    wait_ms = max(0, int((at - now) / dt.timedelta(milliseconds=1))) if at else 0
    return {
        "session": {
            "net_position": session.net_position,
            "elapsed_seconds": int((now - session.opened_at).total_seconds()),
            "staked": session.staked,
            "returned": session.returned,
            "currency": session.currency,
        },
        "next_round_at": at.isoformat() if at else None,
        # Relative, for a client whose clock is not ours.
        "next_round_in_ms": wait_ms,
    }


def error_answer(session: Session, code: str, message: str, *, extra: dict | None = None, **details) -> dict:
    body = {"error": {"code": code, "message": message, **details}}
    body.update(extra or {})
    body.update(session_part(session, timezone.now()))
    return body


def refusal_answer(session_id: int, refusal: Refusal) -> dict:
    session = Session.objects.get(pk=session_id)
    body = error_answer(session, refusal.code, refusal.message, **refusal.details)
    if refusal.code == "SPIN_TOO_SOON":
        body["error"]["retry_after_ms"] = body["next_round_in_ms"]
    return body


def pending_answer(round_: Round) -> tuple[int, dict]:
    session = Session.objects.get(pk=round_.session_id)
    message = "The round is not finished yet: it will be completed or rolled back. Send it again to see."
    return 503, error_answer(session, "ROUND_PENDING", message, round_id=round_.round_id)


# ---- the steps (sync, one short transaction each; recovery takes them too) ---------------------


def start(session_id: int, request: RoundRequest) -> Round:
    """The round this request names: the one recorded before under its request_id, or a new one
    when the jurisdiction rules allow it (Refusal AUTOPLAY_FORBIDDEN, SPIN_TOO_SOON, or
    REQUEST_ID_REUSED for another body under a known id). Nothing here calls the wallet."""
    with transaction.atomic():
        session = locks.lock_session(session_id)
        known = Round.objects.filter(session=session, request_id=request.request_id).first()
        if known is not None:
            if known.fingerprint != request.fingerprint:
                raise Refusal("REQUEST_ID_REUSED", 409, "This request_id was used for another round.")
            return known
        if request.autoplay and not session.autoplay_allowed:
            raise Refusal("AUTOPLAY_FORBIDDEN", 403, "Autoplay is not allowed in your jurisdiction.")
        now = timezone.now()
        at = next_round_at(session)
        if at is not None and now < at:
            raise Refusal("SPIN_TOO_SOON", 429, "The next round cannot start yet.")
        session.last_round_at = now
        session.save(update_fields=["last_round_at"])
        return Round.objects.create(
            session=session,
            request_id=request.request_id,
            round_id=f"r{uuid.uuid4().hex}",
            fingerprint=request.fingerprint,
            autoplay=request.autoplay,
            stake=request.stake,
            bets=request.bets,
            started_at=now,
            updated_at=now,
        )


def wallet_body(round_: Round, operation: str) -> dict[str, Any]:
    """The wallet call of `operation` (bet, win, rollback) for the round: the same bytes every time
    it is sent, whoever sends it."""
    session = round_.session
    body: dict[str, Any] = {
        "player_id": session.player_id,
        "currency": session.currency,
        "transaction_id": round_.transaction_id(operation),
        "round_id": round_.round_id,
        "game_id": session.game_code,
    }
    if operation == "bet":
        body["amount"] = round_.stake
    elif operation == "win":
        body["amount"] = round_.payout
    else:
        body["rolled_back_transaction_id"] = round_.transaction_id("bet")
    return body


def draw_outcome(round_: Round) -> tuple[dict[str, Any], int]:
    """(the outcome, the payout): drawn from the production RNG alone, settled against the stake."""
    game = catalogue.get(round_.session.game_code)
    if game.game_type == "slots":
        config = game.config
        stops = game.draw(SYSTEM)
        window = config.outcome(stops)
        wins = config.line_wins(window, round_.stake // slot.LINE_COUNT)
        lines = [
            {"line": w.line, "symbol": w.symbol, "count": w.count, "multiplier": w.multiplier, "amount": w.amount}
            for w in wins
        ]
        outcome = {"stops": list(stops), "window": [list(row) for row in window], "lines": lines}
        return outcome, sum(w.amount for w in wins)
    placed = [_placed(b) for b in round_.bets]
    pocket, payout = roulette.play(placed, SYSTEM)
    settled = [{**b, "returned": roulette.settle(p, pocket)} for b, p in zip(round_.bets, placed, strict=True)]
    return {"pocket": pocket, "colour": roulette.colour(pocket), "bets": settled}, payout


def _advance(round_: Round, state: RoundState, **fields: Any) -> None:
    """Move the round on; only its claim's holder does, so no one else has moved it meanwhile."""
    fields["updated_at"] = timezone.now()
    moved = Round.objects.filter(pk=round_.pk, state=round_.state).update(state=state, **fields)
    if moved != 1:
        raise RuntimeError(f"{round_} moved under its claim")
    round_.state = state
    for name, value in fields.items():
        setattr(round_, name, value)


def mark_bet_placed(round_: Round) -> Round:
    _advance(round_, RoundState.BET_PLACED)
    return round_


def mark_outcome(round_: Round, outcome: dict[str, Any], payout: int) -> Round:
    _advance(round_, RoundState.OUTCOME_DRAWN, outcome=outcome, payout=payout)
    return round_


def settle(round_: Round, win: Answer) -> tuple[int, dict]:
    """The wallet has the win: the round is settled, the session's sums take it, and the answer is
    stored for every resend."""
    with transaction.atomic():
        Session.objects.filter(pk=round_.session_id).update(
            staked=F("staked") + round_.stake, returned=F("returned") + round_.payout
        )
        session = Session.objects.get(pk=round_.session_id)
        answer = {
            "round_id": round_.round_id,
            "outcome": round_.outcome,
            "stake": round_.stake,
            "payout": round_.payout,
            "balance": win.body["balance"],
            "currency": win.body["currency"],
            **session_part(session, timezone.now()),
        }
        _advance(round_, RoundState.SETTLED, answer_status=200, answer=answer, claimed_until=None)
    return 200, answer


def refuse(round_: Round, bet: Answer) -> tuple[int, dict]:
    """The wallet refused the bet: it recorded nothing, and the round ends here."""
    code = bet.code or "INTERNAL_ERROR"
    error = bet.body.get("error") if isinstance(bet.body.get("error"), dict) else {}
    details = {"reason": error["reason"]} if "reason" in error else {}
    extra = {name: bet.body[name] for name in ("balance", "currency") if name in bet.body}
    if code == "TRANSACTION_ROLLED_BACK":
        # Recovery rolled the round back before this copy of its bet arrived.
        return _rolled_back(round_, extra)
    status = PLAYER_REFUSALS.get(code, 502)
    message = error.get("message") or "The wallet refused the bet."
    answer = error_answer(round_.session, code, message, extra=extra, **details)
    _advance(round_, RoundState.REFUSED, refusal_code=code, answer_status=status, answer=answer, claimed_until=None)
    return status, answer


def mark_rolled_back(round_: Round, rollback: Answer) -> tuple[int, dict]:
    extra = {name: rollback.body[name] for name in ("balance", "currency") if name in rollback.body}
    return _rolled_back(round_, extra)


def _rolled_back(round_: Round, extra: dict) -> tuple[int, dict]:
    message = "The round could not be finished and was rolled back: its stake is back in your balance."
    answer = error_answer(round_.session, "ROUND_ROLLED_BACK", message, extra=extra, round_id=round_.round_id)
    _advance(round_, RoundState.ROLLED_BACK, answer_status=409, answer=answer, claimed_until=None)
    return 409, answer


def release(round_: Round) -> None:
    """Give up the claim and leave the round where it is, for a resend or for recovery."""
    Round.objects.filter(pk=round_.pk).update(claimed_until=None, updated_at=timezone.now())


# ---- the async driver ---------------------------------------------------------------------------


async def play(session: Session, body: Any) -> tuple[int, dict]:
    """Play (or answer again) the round a request asks for: (HTTP status, answer)."""
    game = catalogue.get(session.game_code)
    try:
        request = parse(game.game_type if game else "", body)
        round_ = await sync_to_async(start)(session.pk, request)
    except Refusal as refusal:
        return refusal.status, await sync_to_async(refusal_answer)(session.pk, refusal)
    return await carry_on(round_.pk)


async def carry_on(round_pk: int) -> tuple[int, dict]:
    """Finish the round, or wait (bounded) for the request that is finishing it; a finished round
    is answered what it was answered the first time."""
    claim = sync_to_async(locks.claim_round)
    for _ in range(int(DUPLICATE_WAIT_SECONDS / DUPLICATE_POLL_SECONDS)):
        round_, claimed = await claim(round_pk, lease=LEASE)
        if round_.answer is not None:
            return round_.answer_status, round_.answer
        if claimed:
            async with scoped() as wallet:
                return await _drive(round_, wallet)
        await asyncio.sleep(DUPLICATE_POLL_SECONDS)
    return await sync_to_async(pending_answer)(round_)


async def _drive(round_: Round, wallet: WalletClient) -> tuple[int, dict]:
    """Take the round from where it stands to its end, holding its claim."""
    try:
        if round_.state == RoundState.OPENED:
            bet = await wallet.call("bet", wallet_body(round_, "bet"))
            if not bet.ok:
                return await sync_to_async(refuse)(round_, bet)
            round_ = await sync_to_async(mark_bet_placed)(round_)
        if round_.state == RoundState.BET_PLACED:
            outcome, payout = draw_outcome(round_)
            round_ = await sync_to_async(mark_outcome)(round_, outcome, payout)
        win = await wallet.call("win", wallet_body(round_, "win"))
        if not win.ok:
            # Not a refusal the player can act on: the money is owed, recovery sends it again.
            logger.error("studio.win_refused", round_id=round_.round_id, status=win.status, code=win.code)
            await sync_to_async(release)(round_)
            return await sync_to_async(pending_answer)(round_)
        return await sync_to_async(settle)(round_, win)
    except WalletUnavailable:
        await sync_to_async(release)(round_)
        return await sync_to_async(pending_answer)(round_)
    except BaseException:
        # A bug (or a cancelled request) mid-round: leave the round where it stands, unclaimed, so
        # that a resend carries it on or recovery completes it.
        await asyncio.shield(sync_to_async(release)(round_))
        raise
