"""The only code that moves money.

Each public function is one durable database transaction. It checks its arguments, then hands
its own rule (a nested function: refuse, or write one `Transaction` with `_post`) to
`_move_money`, which runs what every money call shares: lock the player's accounts (locks.py),
check idempotency, run the rule, and retry once on a write conflict. `_post` writes the
transaction with its entries, updates the player's stored balances and wallet version, and
registers the `transaction_posted` event to be sent after commit. What other apps decide inside
the transaction (compliance's checks of a bet, a deposit, a withdrawal) is called through the
extension point (extensions.py), which they fill at start-up: this module imports none of them.
A refusal raises a `PamError` (carrying the player's balance and currency where the player is
known) and writes nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts import selectors as account_selectors
from apps.accounts.choices import BonusState
from apps.accounts.models import Player, User
from apps.common import events, staff_trail
from apps.common.db import prepared_cursor
from apps.common.errors import PamError
from apps.common.idempotency import ExternalRef, fingerprint
from apps.wallet import chain, errors, extensions, fast_bet, locks, signals
from apps.wallet.choices import (
    ADJUSTMENTS,
    BALANCE_SIGN,
    BONUS_POOL,
    HOUSE,
    PENDING_BETS,
    PLAYABLE_KINDS,
    SYSTEM_ACCOUNT_KINDS,
    AccountKind,
    AdjustmentReason,
    AdjustmentStatus,
    TransactionKind,
)
from apps.wallet.models import Account, AdjustmentRequest, Entry, Transaction

OPERATOR_ORIGIN = "operator"


@dataclass(frozen=True)
class Posted:
    """The answer to a wallet call; a replay gets the first call's values."""

    transaction_id: str
    player_id: str
    currency: str
    balance: int
    version: int
    replayed: bool = False

    @classmethod
    def of(cls, tx: Transaction, *, replayed: bool = False) -> Posted:
        return cls(
            transaction_id=tx.public_id,
            player_id=str(tx.player_id),
            currency=tx.currency_id,
            balance=tx.balance_after,
            version=tx.wallet_version,
            replayed=replayed,
        )


# --- game rounds (the seamless wallet) ---------------------------------------------------------


def place_bet(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, round_id: str, game_id: str,
    held: bool = False, detail: object = None, statement: extensions.StakeStatement | None = None,
) -> Posted:  # fmt: skip
    """Debit `amount` (> 0) for one game round: cash first, then bonus money.

    The stake goes to the house; with `held` (a sportsbook bet waiting out an in-play delay) to
    the pending-bets account instead, until `release_held_bet` accepts or rejects it. `detail` is
    the caller's own description of the stake, opaque to the wallet, handed to the participants
    of `extensions.STAKE` (the sportsbook's slip); `statement`, its participant's work as SQL
    (extensions.py, "Quiet conditions"), which the wallet may run in place of calling it.

    A replay of `ref` returns the first answer and moves nothing, even after the bet was rolled
    back. Raises UnknownPlayer, CurrencyMismatch, DuplicateTransaction, TransactionRolledBack (a
    rollback named this id first), what a participant of `extensions.STAKE` raises (compliance's
    PlayerBlocked or LimitReached), InsufficientFunds.
    """
    if amount <= 0:
        raise ValueError("A bet stakes a positive amount.")
    if not held:
        answer = fast_bet.place_bet(player_id=player_id, currency=currency, amount=amount, ref=ref,
                                    round_id=round_id, game_id=game_id, detail=detail,
                                    statement=statement)  # fmt: skip
        if answer is not None:
            return Posted(**answer)
    counter = PENDING_BETS if held else HOUSE

    def post_bet(wallet: locks.LockedWallet, rollback_first: Transaction | None) -> Transaction:
        if rollback_first is not None:
            raise errors.TransactionRolledBack("A rollback of this transaction_id arrived first.")
        afters = None
        for participant in extensions.STAKE.participants:
            after = participant(player=wallet.player, wallet=wallet, amount=amount, game_id=game_id, origin=ref.origin,
                                detail=detail)  # fmt: skip
            if after is not None:
                afters = [*(afters or ()), after]
        if amount > wallet.balance:
            raise errors.InsufficientFunds()
        from_cash = min(amount, wallet.cash.balance)
        moves = [(wallet.cash, -from_cash), (wallet.bonus, -(amount - from_cash))]
        tx = _post(wallet, TransactionKind.BET, ref, moves, counter=counter, round_id=round_id, game_id=game_id)
        for after in afters or ():
            after(transaction=tx)
        return tx

    return _move_money(player_id, currency, ref, post_bet)


def settle_win(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, round_id: str, game_id: str,
    commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """Credit `amount` (>= 0), split between cash and bonus in the proportion the round's standing
    bets were paid (`_win_split`): a win on cash stakes is cash, a win on bonus stakes is bonus
    money, under the bonus's terms. Owed money: paid even to a blocked player, with no token.

    A zero win is recorded (its id is taken) but moves nothing and keeps the version. `commit_with`
    (the sportsbook's settlement of the bet) runs in the same transaction, never on a replay.
    Raises UnknownPlayer, CurrencyMismatch, DuplicateTransaction, TransactionRolledBack (every bet
    of the round was rolled back).
    """
    if amount < 0:
        raise ValueError("A win credits a non-negative amount.")

    def post_win(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        staked = _round_stakes(ref.origin, round_id, wallet.player.pk, wallet.bonus.pk)
        if staked.all_rolled_back:
            raise errors.TransactionRolledBack("Every bet of this round was rolled back.")
        to_bonus = _win_split(amount, staked)
        moves, returned = _bonus_share(wallet, [(wallet.cash, amount - to_bonus)], to_bonus)
        return _post(wallet, TransactionKind.WIN, ref, moves, counter=HOUSE, round_id=round_id, game_id=game_id,
                     returned_to_pool=returned)  # fmt: skip

    return _move_money(player_id, currency, ref, post_win, commit_with=commit_with)


@dataclass(frozen=True)
class Win:
    """One win of `settle_wins`: as `settle_win`'s arguments."""

    player_id: int
    amount: int
    ref: ExternalRef
    round_id: str
    game_id: str = ""


def settle_wins(
    *, currency: str, wins: list[Win], commit_with: Callable[[list[Transaction | None]], None] | None = None
) -> list[Posted]:
    """`settle_win` for many rounds (of one player or several) in one durable database transaction:
    one ledger transaction each, as `settle_win` would write it, and a single commit for all of
    them (a sportsbook market's winning bets: their settlement shares exposure rows that each
    commit would otherwise hold in turn). The players' accounts are locked in one statement, in
    primary-key order across all of them, as every lock of accounts is taken.

    A win whose `ref` was posted before is answered as a replay and not posted again (None in the
    list `commit_with` gets, beside each new Transaction, in the order of `wins`; it runs before
    the commit and may raise to roll everything back). Raises ValueError for a negative amount,
    UnknownPlayer (a player without accounts: none has staked), CurrencyMismatch,
    DuplicateTransaction (an id used with another body) and TransactionRolledBack, each of which
    rolls the whole batch back.
    """
    if any(win.amount < 0 for win in wins):
        raise ValueError("A win credits a non-negative amount.")
    with transaction.atomic(durable=True):
        wallets = locks.lock_player_wallets(sorted({win.player_id for win in wins}))
        if len(wallets) != len({win.player_id for win in wins}):
            raise errors.UnknownPlayer
        if any(wallet.cash.currency_id != currency for wallet in wallets.values()):
            raise errors.CurrencyMismatch(f"A wallet of the batch is not in {currency}.")
        posted_before = _posted_before([win.ref for win in wins])
        stakes = _many_round_stakes(
            [(win.ref.origin, win.round_id, win.player_id, wallets[win.player_id].bonus.pk) for win in wins]
        )
        replays, written, deferred = [], [], []
        for win in wins:
            wallet = wallets[win.player_id]
            previous = posted_before.get((win.ref.origin, win.ref.external_id))
            if previous is not None:
                replays.append(_replay(previous, win.ref, wallet))
                written.append(None)
                continue
            staked = stakes[(win.ref.origin, win.round_id, win.player_id)]
            if staked.all_rolled_back:
                raise errors.TransactionRolledBack("Every bet of this round was rolled back.")
            to_bonus = _win_split(win.amount, staked)
            moves, returned = _bonus_share(wallet, [(wallet.cash, win.amount - to_bonus)], to_bonus)
            written.append(_post(wallet, TransactionKind.WIN, win.ref, moves, counter=HOUSE, round_id=win.round_id,
                                 game_id=win.game_id, returned_to_pool=returned, deferred=deferred))  # fmt: skip
            replays.append(None)
        _write_many(deferred)
        if commit_with is not None:
            commit_with(written)
        return [replay or Posted.of(tx) for replay, tx in zip(replays, written, strict=True)]


def reclaim_win(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, round_id: str, game_id: str = "",
    commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """Take back `amount` (> 0) of a win that a later result lowered (a sportsbook resettlement), to
    the house: a `resettlement` transaction. What the cash covers comes off it; the rest becomes the
    player's debt (their debt account grows, as for a chargeback), so no balance goes below zero and
    the next deposit repays it. Bonus money is left alone. Owed money either way: taken from a
    blocked player too. `commit_with` runs in the same transaction, never on a replay. Idempotent
    on `ref`. Raises UnknownPlayer, CurrencyMismatch, DuplicateTransaction.
    """
    if amount <= 0:
        raise ValueError("A resettlement takes back a positive amount.")

    def post_reclaim(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        from_cash = min(amount, wallet.cash.balance)
        moves = [(wallet.cash, -from_cash)]
        if amount > from_cash:
            moves.append((_open_account(wallet, AccountKind.DEBT), -(amount - from_cash)))
        return _post(wallet, TransactionKind.RESETTLEMENT, ref, moves, counter=HOUSE, round_id=round_id,
                     game_id=game_id)  # fmt: skip

    return _move_money(player_id, currency, ref, post_reclaim, commit_with=commit_with)


def rollback_bet(
    *, player_id: int, currency: str, rolled_back_external_id: str, ref: ExternalRef, round_id: str, game_id: str
) -> Posted:
    """Refund exactly what the named bet took, to the accounts it came from.

    An unknown bet is recorded as rolled back (success, nothing moves); that bet is refused if it
    arrives later. Raises UnknownPlayer, CurrencyMismatch, DuplicateTransaction,
    RollbackNotAllowed (the target is not a bet, or was already rolled back by another id).
    """

    def post_rollback(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        named = list(_named_by_rollback(ref.origin, rolled_back_external_id))
        if any(tx.reverses_external_id == rolled_back_external_id for tx in named):
            raise errors.RollbackNotAllowed("This bet was already rolled back.")
        target = next((tx for tx in named if tx.external_id == rolled_back_external_id), None)
        if target is not None and (target.kind != TransactionKind.BET or target.player_id != wallet.player.pk):
            raise errors.RollbackNotAllowed("Only a bet of this player can be rolled back.")
        return _refund(wallet, target, ref, rolled_back_external_id, counter=HOUSE, round_id=round_id,
                       game_id=game_id)  # fmt: skip

    return _move_money(player_id, currency, ref, post_rollback)


def _refund(
    wallet: locks.LockedWallet, target: Transaction | None, ref: ExternalRef, rolled_back_external_id: str, *,
    counter: str, round_id: str, game_id: str,
) -> Transaction:  # fmt: skip
    """A rollback of `target` (a bet, or None for one never seen): exactly what it took, back to the
    accounts it came from, from `counter` (where the stake went), after the REFUND participants."""
    entries = _player_entries(target) if target else []
    if entries:
        for participant in extensions.REFUND.participants:
            participant(player=wallet.player, wallet=wallet, amount=-target.amount, game_id=game_id,
                        origin=ref.origin)  # fmt: skip
    to_cash = [(wallet.cash, -entry.amount) for entry in entries if entry.account_id == wallet.cash.pk]
    to_bonus = sum(-entry.amount for entry in entries if entry.account_id == wallet.bonus.pk)
    refund, returned = _bonus_share(wallet, to_cash, to_bonus)
    return _post(
        wallet, TransactionKind.ROLLBACK, ref, refund, counter=counter, round_id=round_id, game_id=game_id,
        reverses=target, reverses_external_id=rolled_back_external_id, returned_to_pool=returned,
    )  # fmt: skip


def release_held_bet(
    *, player_id: int, currency: str, held_external_id: str, origin: str, accept: bool,
    commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """End the wait of a stake `place_bet(held=True)` took (origin `origin`, id `held_external_id`).

    Accepted: the stake moves on from the pending-bets account to the house (a `bet_accepted`
    transaction of the player with no entry on the player's accounts: the playable balance and the
    wallet version stay as they are, and no frame is sent). Rejected: the stake comes back to the
    accounts it came from (a `rollback` of the bet, against the pending-bets account; the REFUND
    participants run, as for a provider's rollback).

    Idempotent: the release's own id is the held bet's plus ":release", so releasing twice moves
    money once and answers the first release; a second release deciding the other way raises
    DuplicateTransaction and moves nothing. `commit_with` (the sportsbook's bet status and
    exposure) runs in the same transaction, never on a replay. Raises UnknownPlayer,
    CurrencyMismatch, RollbackNotAllowed (no held bet of this player by that id).
    """
    decision = "accept" if accept else "reject"
    ref = ExternalRef(origin, f"{held_external_id}:release",
                      fingerprint("release", {"bet": held_external_id, "decision": decision}))  # fmt: skip

    def post_release(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        held = Transaction.objects.filter(origin=origin, external_id=held_external_id).first()
        if held is None or held.kind != TransactionKind.BET or held.player_id != wallet.player.pk:
            raise errors.RollbackNotAllowed("No held bet of this player has this id.")
        if not accept:
            return _refund(wallet, held, ref, held_external_id, counter=PENDING_BETS, round_id=held.round_id,
                           game_id=held.game_id)  # fmt: skip
        return _post(wallet, TransactionKind.BET_ACCEPTED, ref, [], counter=PENDING_BETS, round_id=held.round_id,
                     game_id=held.game_id, system_moves=[(HOUSE, -held.amount)])  # fmt: skip

    return _move_money(player_id, currency, ref, post_release, commit_with=commit_with)


# --- operator and other apps ---------------------------------------------------------------------


def adjust_balance(
    *, player_id: int, amount: int, reason: str, acting_user: User | None, external_id: str | None = None
) -> Posted:
    """An operator's correction of a player's cash balance, signed, against the adjustments account.

    `reason` is required and kept on the transaction with `acting_user`, and the adjustment is a
    `wallet.adjust` staff action in the same transaction (`acting_user` None: a management
    command). `external_id` makes a retried form submission idempotent (a new one is generated
    when absent; a replay records nothing). Raises UnknownPlayer, InsufficientFunds (a debit
    larger than the cash balance), DuplicateTransaction.

    Staff in the back office go through `request_adjustment` instead (reason codes, four eyes
    above the threshold); this is the management commands' and the sandbox's way in.
    """
    if not reason.strip():
        raise ValueError("An adjustment needs a reason.")
    if amount == 0:
        raise ValueError("An adjustment moves money: amount must not be 0.")
    return _post_adjustment(
        player_id=player_id, amount=amount, reason=reason, acting_user=acting_user,
        external_id=external_id or uuid.uuid4().hex,
    )  # fmt: skip


def _post_adjustment(
    *, player_id: int, amount: int, reason: str, acting_user: User | None, external_id: str,
    first: Callable[[], None] | None = None, then: Callable[[Transaction], None] | None = None,
) -> Posted:  # fmt: skip
    """The adjustment's movement, one durable transaction: `first()` runs once the player's
    accounts are locked and before anything is written (an approval locks and checks its request
    there, before the staff trail's head, which must be the last lock); `then(tx)` with the
    written transaction (the request's row and its own staff action). Neither runs on a replay."""
    ref = ExternalRef(OPERATOR_ORIGIN, external_id, fingerprint("adjustment", {"player": player_id, "amount": amount}))

    def post_adjustment(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        if first is not None:
            first()
        if amount < 0 and -amount > wallet.cash.balance:
            raise errors.InsufficientFunds("The adjustment would make the cash balance negative.")
        cash_before = wallet.cash.balance
        tx = _post(wallet, TransactionKind.ADJUSTMENT, ref, [(wallet.cash, amount)], counter=ADJUSTMENTS,
                   reason=reason, acting_user=acting_user)  # fmt: skip
        if then is not None:
            then(tx)
        staff_trail.record_staff_action(
            actor=acting_user, action=staff_trail.WALLET_ADJUST, target=wallet.cash, before={"balance": cash_before},
            after={"balance": wallet.cash.balance, "transaction": tx.public_id}, reason=reason,
        )  # fmt: skip
        return tx

    return _move_money(player_id, None, ref, post_adjustment)


# --- staff adjustments: reason codes and four eyes --------------------------------------------------

ADJUSTMENT_REQUEST = "wallet.adjustment.request"
ADJUSTMENT_APPROVE = "wallet.adjustment.approve"
ADJUSTMENT_REJECT = "wallet.adjustment.reject"
_ADJUSTMENT_MAX = 10**12


def four_eyes_threshold(currency: str) -> int:
    """The size (minor units, either sign) from which an adjustment in `currency` waits for a second
    approver: `ADJUSTMENT_FOUR_EYES_THRESHOLDS`, 0 (always) for a currency it does not list."""
    return settings.ADJUSTMENT_FOUR_EYES_THRESHOLDS.get(currency, 0)


def request_adjustment(
    *, player_id: int, amount: int, reason_code: str, reason: str, acting_user: User, idempotency_key: str
) -> AdjustmentRequest:
    """A staff member's adjustment of a player's cash (signed minor units of the player's currency)
    with a reason code (`AdjustmentReason`) and a free-text reason.

    Below the currency's threshold (`four_eyes_threshold`) it posts at once: the request row is
    written `approved` with the transaction, in the movement's transaction (a `wallet.adjust` staff
    action). At or above it, the row is written `pending` with a `wallet.adjustment.request` staff
    action, and moves no money until another staff member approves it (`approve_adjustment`).

    Idempotent on `idempotency_key`: the same key with the same fields returns the first request,
    with other fields raises DuplicateTransaction. Raises InvalidAdjustment, UnknownPlayer,
    FourEyesRequired (the player's own account), InsufficientFunds (a debit posted at once beyond
    the cash balance).
    """
    reason = reason.strip()
    if reason_code not in AdjustmentReason.values:
        codes = ", ".join(AdjustmentReason.values)
        raise errors.InvalidAdjustment(f"Unknown reason code {reason_code!r}: one of {codes}.")
    if not reason:
        raise errors.InvalidAdjustment("An adjustment needs a reason.")
    if not isinstance(amount, int) or amount == 0 or abs(amount) > _ADJUSTMENT_MAX:
        raise errors.InvalidAdjustment("The amount is a non-zero integer of minor units, at most 10^12 either way.")
    if not 0 < len(idempotency_key) <= 64:
        raise errors.InvalidAdjustment("The idempotency key is 1 to 64 characters.")
    fields = {"player_id": player_id, "amount": amount, "reason_code": reason_code, "reason": reason,
              "requested_by_id": acting_user.pk}  # fmt: skip
    first = _replay_of_request(idempotency_key, fields)
    if first is not None:
        return first
    try:
        player = account_selectors.get_player(player_id)
    except Player.DoesNotExist:
        raise errors.UnknownPlayer from None
    if player.user_id == acting_user.pk:
        raise errors.FourEyesRequired("No one adjusts their own player account.")
    currency = player.currency_id
    now = timezone.now()
    row = AdjustmentRequest(currency_id=currency, requested_at=now, idempotency_key=idempotency_key, **fields)

    if abs(amount) >= four_eyes_threshold(currency):
        row.needs_approval, row.status = True, AdjustmentStatus.PENDING
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                staff_trail.record_staff_action(
                    actor=acting_user, action=ADJUSTMENT_REQUEST, target=row,
                    after={"amount": amount, "currency": currency, "reason_code": reason_code, "status": row.status},
                    reason=reason,
                )  # fmt: skip
        except IntegrityError:
            # The same key's first submission committed meanwhile (a double click).
            return _replay_of_request(idempotency_key, fields) or _raise_duplicate()
        return row

    row.needs_approval, row.status, row.decided_at = False, AdjustmentStatus.APPROVED, now

    def write_request(tx: Transaction) -> None:
        row.transaction = tx
        row.save(force_insert=True)

    _post_adjustment(
        player_id=player_id, amount=amount, reason=f"{reason_code}: {reason}", acting_user=acting_user,
        external_id=f"adjustment:{idempotency_key}", then=write_request,
    )  # fmt: skip
    return _replay_of_request(idempotency_key, fields) or _raise_duplicate()


def approve_adjustment(*, request_id: int, acting_user: User) -> AdjustmentRequest:
    """A second staff member's approval of a pending adjustment: the adjustment is posted (a
    `wallet.adjust` staff action by the approver) and the request becomes `approved`, with its
    approver, time and transaction (a `wallet.adjustment.approve` staff action), in one durable
    transaction. The checks run under the request's row lock, so a second tab or a racing call
    sees what the first committed.

    Idempotent: the movement's id is the request's, so an approval sent twice (in a row or at
    once) posts once; the same approver gets the approved request again, another is refused.
    Raises UnknownAdjustment, FourEyesRequired (the requester, or the player themself: a staff
    member's own player account), AdjustmentNotPending, InsufficientFunds (a debit beyond the
    cash balance: the request stays pending)."""
    request = _get_request(request_id)
    if request.status == AdjustmentStatus.APPROVED and request.decided_by_id == acting_user.pk:
        return request  # approved by this approver already: the same answer again
    owner_id = account_selectors.get_player(request.player_id).user_id
    _check_decision(request, acting_user, owner_id)  # a first, unlocked look: refused without a wallet call

    def lock_and_check() -> None:
        locked = locks.lock_adjustment_request(request_id)
        _check_decision(locked, acting_user, owner_id)

    def approve(tx: Transaction) -> None:
        now = timezone.now()
        AdjustmentRequest.objects.filter(pk=request_id).update(
            status=AdjustmentStatus.APPROVED, decided_by=acting_user, decided_at=now, transaction=tx
        )
        staff_trail.record_staff_action(
            actor=acting_user, action=ADJUSTMENT_APPROVE, target=("wallet.adjustmentrequest", str(request_id)),
            before={"status": AdjustmentStatus.PENDING},
            after={"status": AdjustmentStatus.APPROVED, "transaction": tx.public_id},
        )  # fmt: skip

    posted = _post_adjustment(
        player_id=request.player_id, amount=request.amount, reason=f"{request.reason_code}: {request.reason}",
        acting_user=acting_user, external_id=f"adjustment-request:{request_id}", first=lock_and_check, then=approve,
    )  # fmt: skip
    decided = _get_request(request_id)
    if posted.replayed and decided.decided_by_id != acting_user.pk:
        raise errors.AdjustmentNotPending("Another staff member approved it first.")
    return decided


def reject_adjustment(*, request_id: int, acting_user: User, reason: str) -> AdjustmentRequest:
    """A second staff member's rejection of a pending adjustment, with a reason: `rejected`, no
    money moved, a `wallet.adjustment.reject` staff action. Raises UnknownAdjustment,
    InvalidAdjustment (no reason), FourEyesRequired (the requester), AdjustmentNotPending."""
    reason = reason.strip()
    if not reason:
        raise errors.InvalidAdjustment("A rejection needs a reason.")
    owner_id = account_selectors.get_player(_get_request(request_id).player_id).user_id
    with transaction.atomic():
        locked = locks.lock_adjustment_request(request_id)
        _check_decision(locked, acting_user, owner_id)
        locked.status, locked.decided_by, locked.decided_at = AdjustmentStatus.REJECTED, acting_user, timezone.now()
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        staff_trail.record_staff_action(
            actor=acting_user, action=ADJUSTMENT_REJECT, target=locked,
            before={"status": AdjustmentStatus.PENDING}, after={"status": AdjustmentStatus.REJECTED}, reason=reason,
        )  # fmt: skip
    return locked


def _check_decision(request: AdjustmentRequest, acting_user: User, owner_id: int) -> None:
    # Four eyes first: the requester (or the player, a staff member's own account: `owner_id`) is
    # told why, whatever became of the request.
    if acting_user.pk in (request.requested_by_id, owner_id):
        raise errors.FourEyesRequired
    if request.status != AdjustmentStatus.PENDING:
        raise errors.AdjustmentNotPending(f"This adjustment is {request.status}, not pending.")


def _get_request(request_id: int) -> AdjustmentRequest:
    request = AdjustmentRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise errors.UnknownAdjustment
    return request


def _replay_of_request(idempotency_key: str, fields: dict) -> AdjustmentRequest | None:
    first = AdjustmentRequest.objects.filter(idempotency_key=idempotency_key).first()
    if first is None:
        return None
    if any(getattr(first, name) != value for name, value in fields.items()):
        _raise_duplicate()
    return first


def _raise_duplicate():
    raise errors.DuplicateTransaction("This idempotency key was already used for another adjustment.")


def credit(
    *, player_id: int, currency: str, amount: int, kind: TransactionKind, ref: ExternalRef, counter: str,
    to_bonus: bool = False, commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """Credit `amount` (> 0) to the player's cash (or bonus) account from system account
    `counter`: the entry point for deposits and bonus grants. Idempotent on `ref`.

    A deposit is money the payment provider has taken from the player: it is credited whatever the
    player's standing (refusals belong before the player pays: compliance's `assert_may_deposit`
    at the cashier). The participants of `extensions.DEPOSIT` see it (compliance's KYC threshold)
    and may refuse only for their own faults. A player who owes a debt repays it from this money
    in the same database transaction (a `debt_repaid` transaction right after the deposit's).
    """
    if amount <= 0:
        raise ValueError("A credit is positive.")

    def post_credit(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        return _post_credit(wallet, kind=kind, amount=amount, ref=ref, counter=counter, to_bonus=to_bonus)

    return _move_money(player_id, currency, ref, post_credit, commit_with=commit_with)


def _post_credit(
    wallet: locks.LockedWallet, *, kind: TransactionKind, amount: int, ref: ExternalRef, counter: str, to_bonus: bool
) -> Transaction:
    """`credit`'s movement, under the caller's lock: the credit, then a deposit's debt repayment."""
    if kind == TransactionKind.DEPOSIT:
        for participant in extensions.DEPOSIT.participants:
            participant(player=wallet.player, wallet=wallet, amount=amount)
    account = wallet.bonus if to_bonus else wallet.cash
    posted = _post(wallet, kind, ref, [(account, amount)], counter=counter)
    if kind == TransactionKind.DEPOSIT and wallet.debt is not None and wallet.debt.balance:
        repaid = min(wallet.debt.balance, wallet.cash.balance)
        # The repayment's own id: the deposit's, under an origin of its own (unique together).
        repayment = ExternalRef(f"{ref.origin}#debt", ref.external_id, ref.fingerprint)
        _post(wallet, TransactionKind.DEBT_REPAID, repayment, [(wallet.cash, -repaid), (wallet.debt, repaid)])
    return posted


# --- withdrawals: cash -> pending -> paid out, or back -------------------------------------------


def reserve_withdrawal(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, commit_with: CommitWith | None = None
) -> Posted:
    """Move `amount` (> 0) of the player's cash to their pending-withdrawal account, where it cannot
    be bet, until the payout is confirmed (`pay_withdrawal`) or undone (`return_withdrawal`).

    Only cash can be withdrawn, never bonus money. Idempotent on `ref`. Raises UnknownPlayer,
    CurrencyMismatch, DuplicateTransaction, what a participant of `extensions.WITHDRAWAL` raises
    (compliance: KycRequired for an unverified player, PlayerBlocked for a frozen one; an excluded
    player may withdraw), InsufficientFunds beyond the cash balance.
    """
    if amount <= 0:
        raise ValueError("A withdrawal is positive.")

    def post_reservation(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        for participant in extensions.WITHDRAWAL.participants:
            participant(player=wallet.player, wallet=wallet, amount=amount)
        if amount > wallet.cash.balance:
            raise errors.InsufficientFunds("Only cash can be withdrawn, and not more than the cash balance.")
        pending = _open_account(wallet, AccountKind.PENDING_WITHDRAWAL)
        return _post(wallet, TransactionKind.WITHDRAWAL, ref, [(wallet.cash, -amount), (pending, amount)])

    return _move_money(player_id, currency, ref, post_reservation, commit_with=commit_with)


def pay_withdrawal(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, counter: str, commit_with: CommitWith | None = None
) -> Posted:
    """The payout of a reserved withdrawal is confirmed: `amount` leaves the player's
    pending-withdrawal account for system account `counter` (the PSP's clearing account).
    The playable balance does not change. Idempotent on `ref`. Raises InsufficientFunds if less
    than `amount` is pending (a payout the wallet never reserved)."""
    return _release_pending(player_id, currency, amount, ref, TransactionKind.WITHDRAWAL_PAID, counter=counter,
                            commit_with=commit_with)  # fmt: skip


def return_withdrawal(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, commit_with: CommitWith | None = None
) -> Posted:
    """A reserved withdrawal is not paid (cancelled, rejected, the payout failed): `amount` goes back
    from the pending-withdrawal account to cash, playable again. Idempotent on `ref`. Raises
    InsufficientFunds if less than `amount` is pending."""
    return _release_pending(player_id, currency, amount, ref, TransactionKind.WITHDRAWAL_RETURNED, counter=None,
                            commit_with=commit_with)  # fmt: skip


def _release_pending(
    player_id: int, currency: str, amount: int, ref: ExternalRef, kind: TransactionKind, *, counter: str | None,
    commit_with: CommitWith | None,
) -> Posted:  # fmt: skip
    if amount <= 0:
        raise ValueError("A withdrawal is positive.")

    def post_release(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        pending = wallet.pending_withdrawal
        if pending is None or pending.balance < amount:
            raise errors.InsufficientFunds("Less than this amount is pending withdrawal.")
        back_to_cash = [] if counter is not None else [(wallet.cash, amount)]
        return _post(wallet, kind, ref, [(pending, -amount), *back_to_cash], counter=counter)

    return _move_money(player_id, currency, ref, post_release, commit_with=commit_with)


# --- refunds and chargebacks ---------------------------------------------------------------------


def reverse_deposit(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, counter: str, kind: TransactionKind,
    commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """Take a deposit's `amount` back to system account `counter` (the PSP's clearing account): a
    `refund` or a `chargeback`. What the cash covers comes off it; the rest becomes the player's
    debt (their debt account grows), so no balance goes below zero. Bonus money and money pending
    withdrawal are left alone. The participants of `extensions.CHARGEBACK` run for a chargeback
    (compliance locks the account in this transaction). Idempotent on `ref`.
    """
    _check_reversal(kind, amount)

    def post_reversal(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        return _post_reversal(wallet, kind=kind, amount=amount, ref=ref, counter=counter)

    return _move_money(player_id, currency, ref, post_reversal, commit_with=commit_with)


def credit_reversed_deposit(
    *, player_id: int, currency: str, amount: int, ref: ExternalRef, counter: str, reversal_ref: ExternalRef,
    reversal_kind: TransactionKind, commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """A deposit whose refund or chargeback the payment provider sent before its success: the
    deposit's credit (`credit`, on `ref`) and its reversal (`reverse_deposit`, on `reversal_ref`)
    in one durable transaction, as the same ledger transactions those two calls write one after
    the other: the deposit, a `debt_repaid` if the player owed, then the `refund` or `chargeback`
    (cash first, the rest as debt; a chargeback's participants lock the account). The credit and
    its reversal commit together or not at all, so no moment shows the player money the provider
    has already taken back.

    Idempotent on `ref`: a replay answers the credit's values and moves nothing. The answer and
    `commit_with`'s argument are the credit's transaction. Raises what `credit` raises.
    """
    if amount <= 0:
        raise ValueError("A credit is positive.")
    _check_reversal(reversal_kind, amount)

    def post_both(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        posted = _post_credit(wallet, kind=TransactionKind.DEPOSIT, amount=amount, ref=ref, counter=counter,
                              to_bonus=False)  # fmt: skip
        _post_reversal(wallet, kind=reversal_kind, amount=amount, ref=reversal_ref, counter=counter)
        return posted

    return _move_money(player_id, currency, ref, post_both, commit_with=commit_with)


def _check_reversal(kind: TransactionKind, amount: int) -> None:
    if kind not in (TransactionKind.REFUND, TransactionKind.CHARGEBACK):
        raise ValueError("A deposit is reversed by a refund or a chargeback.")
    if amount <= 0:
        raise ValueError("A reversal is positive.")


def _post_reversal(
    wallet: locks.LockedWallet, *, kind: TransactionKind, amount: int, ref: ExternalRef, counter: str
) -> Transaction:
    """`reverse_deposit`'s movement, under the caller's lock."""
    if kind == TransactionKind.CHARGEBACK:
        for participant in extensions.CHARGEBACK.participants:
            participant(player=wallet.player, wallet=wallet, amount=amount)
    from_cash = min(amount, wallet.cash.balance)
    moves = [(wallet.cash, -from_cash)]
    if amount > from_cash:
        moves.append((_open_account(wallet, AccountKind.DEBT), -(amount - from_cash)))
    return _post(wallet, kind, ref, moves, counter=counter)


# --- bonus money's end ---------------------------------------------------------------------------

# How a bonus ends, and where what is left of its money goes: to cash when its wagering is met,
# back to the bonus pool otherwise.
BONUS_END_KINDS = (
    TransactionKind.BONUS_CONVERTED, TransactionKind.BONUS_EXPIRED, TransactionKind.BONUS_FORFEITED,
    TransactionKind.BONUS_CANCELLED,
)  # fmt: skip


def release_bonus_within(
    wallet: locks.LockedWallet, *, kind: TransactionKind, ref: ExternalRef, amount: int
) -> Transaction:
    """Inside a money transaction that holds the player's lock (a participant of the extension
    point, or `release_bonus`): move `amount` (0 to the bonus balance) of the player's bonus money
    off their bonus account, as a transaction of `kind` (`BONUS_END_KINDS`): to cash for a
    conversion, to the bonus pool otherwise. An amount of 0 records the end (its id is taken)
    and moves nothing. The caller's ref must be new: a used id fails the whole call."""
    if kind not in BONUS_END_KINDS:
        raise ValueError(f"{kind} does not end a bonus.")
    if not 0 <= amount <= wallet.bonus.balance:
        raise ValueError("A bonus's end moves at most the bonus balance.")
    if kind == TransactionKind.BONUS_CONVERTED:
        return _post(wallet, kind, ref, [(wallet.bonus, -amount), (wallet.cash, amount)])
    return _post(wallet, kind, ref, [(wallet.bonus, -amount)], counter=BONUS_POOL)


def release_bonus(
    *, player_id: int, currency: str, kind: TransactionKind, ref: ExternalRef,
    amount_of: Callable[[locks.LockedWallet], int], commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """A bonus's end in a transaction of its own (an expiry's sweep, a staff cancellation): under
    the player's lock, `amount_of(wallet)` says how much of the bonus money is this bonus's (it may
    refuse with a PamError, say when the bonus already ended), then `release_bonus_within`.
    Idempotent on `ref`."""

    def post_release(wallet: locks.LockedWallet, _: Transaction | None) -> Transaction:
        return release_bonus_within(wallet, kind=kind, ref=ref, amount=amount_of(wallet))

    return _move_money(player_id, currency, ref, post_release, commit_with=commit_with)


# --- internals -----------------------------------------------------------------------------------

# An operation's own rule: given the locked wallet and a rollback that named the call's id before
# it arrived (or None), refuse with a PamError or write one transaction with `_post`.
Operation = Callable[[locks.LockedWallet, Transaction | None], Transaction]
# The caller's own record of a movement, written in the movement's transaction (the cashier's
# payment status and webhook verdict): called with the written Transaction, after the movement
# and before commit, never on a replay. It may write its own app's tables, and refuse by
# raising a PamError, which rolls the movement back with it.
CommitWith = Callable[[Transaction], None]


def _move_money(
    player_id: int, currency: str | None, ref: ExternalRef, operation: Operation, *, retries: int = 2,
    commit_with: CommitWith | None = None,
) -> Posted:  # fmt: skip
    """Run `operation` in one durable transaction, after the start every money call shares.

    The start (`_open`): lock the player's accounts and look `ref` up; a replay answers the first
    call's values and `operation` never runs. After the operation, `commit_with` (the caller's
    record of the movement, see `CommitWith`) runs in the same transaction. A `PamError` that the
    operation, an extension point participant or `commit_with` raises gets the player's balance
    and currency beside it, as the wallet contract wants; values the error sets itself win.

    An IntegrityError runs the whole call again, at most twice. Calls for one player are
    serialised by the lock, so it happens when two players' calls race with the same (origin,
    external_id): the retry finds the committed row and answers DuplicateTransaction instead of a
    500. It also happens when a remembered system account id names a row whose creating
    transaction rolled back (foreign keys are checked at commit): the retry looks the ids up
    afresh. One call may meet two in a row (seen once under CI: the racing external id on the
    retry of a first IntegrityError), hence two retries; a third is raised.
    """
    _remembered_in_call.keys = ()
    try:
        with transaction.atomic(durable=True):
            wallet, replayed, rollback_first = _open(player_id, currency, ref)
            if replayed:
                return replayed
            # What the player holds before the movement, for a refusal after it (which rolls it
            # back): a participant's once the movement is written, or `commit_with`'s.
            before = _state(wallet)
            try:
                tx = operation(wallet, rollback_first)
                if commit_with is not None:
                    commit_with(tx)
                return Posted.of(tx)
            except PamError as refusal:
                # The contract: errors carry the balance.
                refusal.extra = {**before, **refusal.extra}
                raise
    except IntegrityError:
        if not retries:
            raise
        forget_system_accounts()
        return _move_money(player_id, currency, ref, operation, retries=retries - 1, commit_with=commit_with)
    except BaseException:
        _forget_remembered_in_call()
        raise


def _open(
    player_id: int, currency: str | None, ref: ExternalRef
) -> tuple[locks.LockedWallet, Posted | None, Transaction | None]:
    """Every money call's start: lock the player's accounts, then look `ref` up.

    Returns the locked wallet, the first answer if `ref` is a replay (DuplicateTransaction if it
    is the same id with another body), and a rollback that named `ref` before it arrived. The
    lock and the look-up travel together (one round trip on PostgreSQL: locks.py says why the
    look-up still sees everything committed before the lock was granted).
    """
    params = [ref.external_id, ref.origin, ref.external_id, ref.origin]
    wallet, rows = locks.lock_player_wallet_then(player_id, _FIND_BY_EXTERNAL_ID, params)
    if wallet is None:
        _open_accounts(player_id)
        wallet, rows = locks.lock_player_wallet_then(player_id, _FIND_BY_EXTERNAL_ID, params)
    if currency is not None and currency != wallet.cash.currency_id:
        raise errors.CurrencyMismatch(
            f"The player's wallet is in {wallet.cash.currency_id}, not {currency}.", extra=_state(wallet)
        )
    same_id, rollback_first = _by_external_id(rows, ref)
    return wallet, (_replay(same_id, ref, wallet) if same_id is not None else None), rollback_first


def _open_accounts(player_id: int) -> None:
    player = Player.objects.filter(pk=player_id).only("pk", "currency_id").first()
    if player is None:
        raise errors.UnknownPlayer
    # ignore_conflicts: a concurrent first call may open them too; the unique constraint keeps one.
    Account.objects.bulk_create(
        [
            Account(kind=kind, player=player, currency_id=player.currency_id)
            for kind in (AccountKind.CASH, AccountKind.BONUS)
        ],
        ignore_conflicts=True,
    )


def _open_account(wallet: locks.LockedWallet, kind: str) -> Account:
    """The player's account of `kind` (pending withdrawal, debt), opened and locked on first use."""
    field = {AccountKind.PENDING_WITHDRAWAL: "pending_withdrawal", AccountKind.DEBT: "debt"}[kind]
    account = getattr(wallet, field)
    if account is None:
        currency = wallet.cash.currency_id
        Account.objects.bulk_create([Account(kind=kind, player=wallet.player, currency_id=currency)],
                                    ignore_conflicts=True)  # fmt: skip
        account = locks.lock_player_account(wallet.player.pk, kind)
        setattr(wallet, field, account)
    return account


def _state(wallet: locks.LockedWallet) -> dict:
    """What an error answer carries where the player is known."""
    return {"balance": wallet.balance, "currency": wallet.cash.currency_id}


_TRANSACTION_FIELDS = tuple(field.attname for field in Transaction._meta.concrete_fields)
_TRANSACTION_COLUMNS_SQL = ", ".join(field.column for field in Transaction._meta.concrete_fields)
# Raw SQL on the hot path: the ORM would spend longer building this query than PostgreSQL
# spends answering it. Two equality look-ups, not one OR: with the OR, a planner whose statistics
# did not know the origin yet (a new provider, a fresh database) scanned every transaction of
# that origin on each call, a cost that grew with the ledger (models.py, Transaction.Meta).
_FIND_BY_EXTERNAL_ID = (
    f"SELECT {_TRANSACTION_COLUMNS_SQL} FROM wallet_transaction WHERE external_id = %s AND origin = %s "  # noqa: S608
    f"UNION ALL SELECT {_TRANSACTION_COLUMNS_SQL} FROM wallet_transaction "
    "WHERE reverses_external_id = %s AND origin = %s AND reverses_external_id <> ''"
)


def _by_external_id(rows: list[tuple], ref: ExternalRef) -> tuple[Transaction | None, Transaction | None]:
    """(the transaction with this id, a rollback that named this id), from the look-up's rows.

    The look-up runs after the lock, so a concurrent duplicate that committed first is seen.
    """
    same_id = rollback_first = None
    for row in rows:
        tx = Transaction.from_db(connection.alias, _TRANSACTION_FIELDS, row)
        if tx.external_id == ref.external_id:
            same_id = tx
        else:
            rollback_first = tx
    return same_id, rollback_first


def _replay(previous: Transaction, ref: ExternalRef, wallet: locks.LockedWallet) -> Posted:
    if previous.fingerprint != ref.fingerprint or previous.player_id != wallet.player.pk:
        raise errors.DuplicateTransaction(extra=_state(wallet))
    return Posted.of(previous, replayed=True)


def _named_by_rollback(origin: str, external_id: str):
    """The transaction with this id and the rollbacks that name it: two equality look-ups, for
    the same reason as _FIND_BY_EXTERNAL_ID's."""
    return Transaction.objects.filter(external_id=external_id, origin=origin).union(
        Transaction.objects.filter(reverses_external_id=external_id, origin=origin).exclude(reverses_external_id=""),
        all=True,
    )


# Plain SQL, prepared: every win runs it, and building it with the ORM (a subquery in a
# Coalesce) cost several times what PostgreSQL spends answering it. The bonus entry's look-up
# names the transaction table without an alias, as the plan test reads it.
_ROUND_BETS_AND_ROLLBACKS = (
    "SELECT kind, external_id, reverses_external_id, amount, COALESCE((SELECT u0.amount FROM wallet_entry u0 "
    "WHERE u0.transaction_id = wallet_transaction.id AND u0.account_id = %s LIMIT 1), 0) FROM wallet_transaction "
    "WHERE round_id = %s AND origin = %s AND player_id = %s AND kind IN (%s, %s)"
)


def _round_bets_and_rollbacks(
    origin: str, round_id: str, player_id: int, bonus_account_id: int | None = None
) -> tuple[str, list]:
    """The player's bets and rollbacks of the round, as (SQL, parameters) whose rows are: kind,
    id, the id it reverses, its amount on the playable balance, and its entry on the bonus account
    `bonus_account_id` (0: none)."""
    return _ROUND_BETS_AND_ROLLBACKS, [
        bonus_account_id, round_id, origin, player_id, TransactionKind.BET.value, TransactionKind.ROLLBACK.value,
    ]  # fmt: skip


@dataclass(frozen=True)
class RoundStakes:
    """What a round's standing bets took from the player (not rolled back), in all and from the
    bonus account; and whether every bet of the round was rolled back."""

    staked: int
    from_bonus: int
    all_rolled_back: bool


def _round_stakes(origin: str, round_id: str, player_id: int, bonus_account_id: int) -> RoundStakes:
    """The round's standing stakes, in the look-up that also says whether it was rolled back: the
    player had bets in the round (or rollbacks of bets never seen) and none stands. Per player: a
    provider may share one round id across a live table's players."""
    with prepared_cursor() as cursor:
        cursor.execute(*_round_bets_and_rollbacks(origin, round_id, player_id, bonus_account_id))
        return _stakes_of(cursor.fetchall())


def _stakes_of(rows: list[tuple]) -> RoundStakes:
    """A round's stakes from its rows (kind, id, the id it reverses, amount, amount on bonus)."""
    bets: dict[str, tuple[int, int]] = {}
    rolled_back: set[str] = set()
    for kind, external_id, reverses, amount, on_bonus in rows:
        if kind == TransactionKind.BET:
            bets[external_id] = (-amount, -on_bonus)
        else:
            rolled_back.add(reverses)
    standing = [paid for external_id, paid in bets.items() if external_id not in rolled_back]
    return RoundStakes(
        staked=sum(total for total, _ in standing),
        from_bonus=sum(bonus for _, bonus in standing),
        all_rolled_back=bool(rolled_back) and set(bets) <= rolled_back,
    )


# The stakes of many rounds at once (`settle_wins`), on PostgreSQL: each transaction of the rounds
# with its entry on its player's bonus account, found by that account's id (as `_round_stakes`
# does): joined on the accounts' kind instead, the planner scanned every bonus account of the
# platform for each transaction (240 ms for 50 wins with 2,000 players).
_MANY_ROUNDS = (
    "SELECT t.origin, t.round_id, t.player_id, t.kind, t.external_id, t.reverses_external_id, t.amount, "
    "COALESCE((SELECT u0.amount FROM wallet_entry u0 WHERE u0.transaction_id = t.id AND u0.account_id = p.bonus_id "
    "LIMIT 1), 0) FROM wallet_transaction t "
    "JOIN unnest(%b::bigint[], %b::bigint[]) AS p (player_id, bonus_id) ON p.player_id = t.player_id "
    "WHERE t.round_id = ANY(%b) AND t.origin = ANY(%b) AND t.kind IN (%s, %s)"
)


def _many_round_stakes(rounds: list[tuple[str, str, int, int]]) -> dict[tuple[str, str, int], RoundStakes]:
    """`_round_stakes` of each (origin, round id, player id, bonus account id), in one look-up on
    PostgreSQL: {(origin, round id, player id): RoundStakes}."""
    if connection.vendor != "postgresql":
        return {(origin, round_id, player): _round_stakes(origin, round_id, player, bonus)
                for origin, round_id, player, bonus in rounds}  # fmt: skip
    wanted = {(origin, round_id, player) for origin, round_id, player, _ in rounds}
    bonus_of = {player: bonus for _, _, player, bonus in rounds}
    players = sorted(bonus_of)
    params = [
        players, [bonus_of[player] for player in players], sorted({key[1] for key in wanted}),
        sorted({key[0] for key in wanted}), TransactionKind.BET.value, TransactionKind.ROLLBACK.value,
    ]  # fmt: skip
    found: dict[tuple[str, str, int], list[tuple]] = {key: [] for key in wanted}
    with prepared_cursor() as cursor:
        cursor.execute(_MANY_ROUNDS, params)
        for origin, round_id, player, *row in cursor.fetchall():
            if (origin, round_id, player) in found:
                found[(origin, round_id, player)].append(tuple(row))
    return {key: _stakes_of(rows) for key, rows in found.items()}


def _win_split(amount: int, stakes: RoundStakes) -> int:
    """The part of a win of `amount` credited to bonus: the share of the round's standing stakes
    paid from bonus, rounded down (the odd minor unit goes to cash, the player's own money). A win
    with no standing bet (a provider's free round) is all cash."""
    if stakes.staked <= 0:
        return 0
    return amount * stakes.from_bonus // stakes.staked


def _bonus_share(
    wallet: locks.LockedWallet, moves: list[tuple[Account, int]], share: int
) -> tuple[list[tuple[Account, int]], int]:
    """Where a win's or a refund's bonus share goes: (the player's moves, the part returned to the
    bonus pool). Bonus money exists only under an active bonus: while the player has one (or bonus
    money, which only an active bonus holds) the share is bonus money; after the bonus ended with
    the round still open, it goes where the bonus's own money went: to cash after a conversion,
    back to the pool after an expiry, forfeiture or cancellation (`Player.bonus_state`)."""
    if not share:
        return moves, 0
    if wallet.holds_bonus:
        return [*moves, (wallet.bonus, share)], 0
    if wallet.player.bonus_state == BonusState.CONVERTED:
        cash = sum(amount for _, amount in moves)
        return [(wallet.cash, cash + share)], 0
    return moves, share


def _player_entries(tx: Transaction) -> list[Entry]:
    """The entries of `tx` on player accounts (those with a balance_after), in order."""
    return list(tx.entries.filter(balance_after__isnull=False).order_by("pk"))


_system_account_ids: dict[tuple[str, str], int] = {}
# The ids remembered during this thread's money call: forgotten if the call's transaction rolls
# back, since the row may have been created by it (a refusal after the ledger's write, such as a
# participant's after-write check, rolls the creation back with everything else).
_remembered_in_call = threading.local()


def forget_system_accounts() -> None:
    """Drop the remembered ids (for tests, whose database rolls back between them)."""
    _system_account_ids.clear()


def _forget_remembered_in_call() -> None:
    for key in getattr(_remembered_in_call, "keys", ()):
        _system_account_ids.pop(key, None)


def _system_account_id(code: str, currency: str) -> int:
    """The id of a system account, created on first use and remembered: it never changes, and
    it is never locked (its balance is derived from entries)."""
    key = (code, currency)
    if key in _system_account_ids:
        return _system_account_ids[key]
    kind = SYSTEM_ACCOUNT_KINDS.get(code, AccountKind.CLEARING)
    Account.objects.bulk_create([Account(kind=kind, code=code, currency_id=currency)], ignore_conflicts=True)
    _system_account_ids[key] = Account.objects.get(code=code, currency_id=currency, player__isnull=True).pk
    _remembered_in_call.keys = [*getattr(_remembered_in_call, "keys", ()), key]
    return _system_account_ids[key]


def _post(
    wallet: locks.LockedWallet,
    kind: TransactionKind,
    ref: ExternalRef,
    moves: list[tuple[Account, int]],
    *,
    counter: str | None = None,
    round_id: str = "",
    game_id: str = "",
    reverses: Transaction | None = None,
    reverses_external_id: str = "",
    reason: str = "",
    acting_user: User | None = None,
    returned_to_pool: int = 0,
    system_moves: list[tuple[str, int]] | None = None,
    deferred: list[tuple] | None = None,
) -> Transaction:
    """Write one transaction: the player's moves (entry amounts), the counter account's opposite
    entry, the new stored balances and version. `returned_to_pool` is a bonus share that goes to
    the bonus pool instead of the player (`_bonus_share`): an entry of its own, against the
    counter. `system_moves` are (system account code, amount) entries, also against the counter: a
    held stake moving on to the house. A transaction whose moves are all zero is recorded (its id
    is taken) with no entries for the player, and keeps the version. Moves between the player's
    own accounts (a withdrawal's reservation) need no counter account.

    `Transaction.amount` is what the movement did to the playable balance (cash and bonus): a
    payout from the pending-withdrawal account is 0, the reservation before it the debit.

    With `deferred` (a batch of wins) nothing is written yet: the transaction, its entries, the
    accounts and the event are appended to it, for `_write_many` to write with the batch's others
    (the transaction has no pk until then)."""
    moves = [(account, amount) for account, amount in moves if amount]
    currency = wallet.cash.currency_id
    net = sum(amount for _, amount in moves) + returned_to_pool
    if system_moves:
        net += sum(amount for _, amount in system_moves)
    if net and counter is None:
        raise ValueError("Moves that do not sum to zero need a counter account.")
    if moves:
        wallet.cash.version += 1
    for account, amount in moves:
        account.balance += amount * BALANCE_SIGN.get(account.kind, 1)
        if account is not wallet.cash:
            account.version += 1
    tx = Transaction(
        kind=kind,
        player=wallet.player,
        currency_id=currency,
        amount=sum(amount for account, amount in moves if account.kind in PLAYABLE_KINDS),
        origin=ref.origin,
        external_id=ref.external_id,
        fingerprint=ref.fingerprint,
        round_id=round_id,
        game_id=game_id,
        reverses=reverses,
        reverses_external_id=reverses_external_id,
        reason=reason,
        acting_user=acting_user,
        balance_after=wallet.balance,
        wallet_version=wallet.version,
        created_at=timezone.now(),
    )
    entries = [(account.pk, amount, account.balance, account.version) for account, amount in moves]
    if returned_to_pool:
        entries.append((_system_account_id(BONUS_POOL, currency), returned_to_pool, None, None))
    for code, amount in system_moves or ():
        entries.append((_system_account_id(code, currency), amount, None, None))
    if net:
        entries.append((_system_account_id(counter, currency), -net, None, None))
    # The cash account holds the head of the player's chain: it is written even when nothing moves.
    tx.chain_hash = wallet.cash.chain_hash = chain.link(wallet.cash.chain_hash, tx, entries)
    touched = {account.pk: account for account, _ in moves} | {wallet.cash.pk: wallet.cash}
    # Nothing the player holds changed (a share returned to the pool at most): no event, no frame.
    event = _event(tx, wallet) if moves else None
    if deferred is not None:
        deferred.append((tx, entries, list(touched.values()), event))
        return tx
    event_id = _write(tx, entries, list(touched.values()), event)
    if event is not None:
        event["transaction_id"] = tx.public_id
        events.dispatch_on_commit(event_id, signals.transaction_posted, event)
    return tx


_TRANSACTION_COLUMNS = (
    "kind", "player_id", "currency_id", "amount", "origin", "external_id", "fingerprint", "round_id", "game_id",
    "reverses_id", "reverses_external_id", "reason", "acting_user_id", "balance_after", "wallet_version", "chain_hash",
    "created_at",
)  # fmt: skip
# Built from the constant column list only; every value is a bound parameter.
_INSERT_TRANSACTION = (
    f"INSERT INTO wallet_transaction ({', '.join(_TRANSACTION_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_TRANSACTION_COLUMNS))}) RETURNING id"
)
_INSERT_ENTRY_ROW = "(%s, %s, %s, %s, %s, %s)"


def _write(tx: Transaction, entries: list[tuple], accounts: list[Account], event: dict | None) -> int | None:
    """Insert the transaction and its entries, store the accounts' new balances and versions, and
    record `event` (the `transaction_posted` payload but for its `transaction_id`, which is the
    new row's) in the outbox; returns the event's id.

    Plain SQL rather than create/bulk_create/update: this is every bet's path, and the ORM's query
    building cost more than the statements themselves (measured with `make bench`). On
    PostgreSQL the four writes are one statement (`_write_in_one_statement`); SQLite (embedded
    mode) runs them one after another. The database still checks everything: the CHECKs, the
    foreign keys, the append-only triggers and the zero-sum trigger at commit.
    """
    if connection.vendor == "postgresql":
        return _write_in_one_statement(tx, entries, accounts, event)
    values = [getattr(tx, column) for column in _TRANSACTION_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_TRANSACTION, values)
        tx.pk = cursor.fetchone()[0]
        if entries:
            cursor.execute(
                "INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, "  # noqa: S608
                f"account_version) VALUES {', '.join([_INSERT_ENTRY_ROW] * len(entries))}",
                [value for entry in entries for value in (tx.pk, entry[0], tx.currency_id, *entry[1:])],
            )
        for account in accounts:
            cursor.execute(
                "UPDATE wallet_account SET balance = %s, version = %s, chain_hash = %s WHERE id = %s",
                [account.balance, account.version, account.chain_hash, account.pk],
            )
    if event is None:
        return None
    return events.record(signals.transaction_posted, {**event, "transaction_id": tx.public_id})


# The event's payload as sent, completed with the new transaction's id (its public id).
_EVENT_CTE = events.outbox_cte("%s::jsonb || jsonb_build_object('transaction_id', t.id::text)", "FROM t")


# The entries and the account updates as typed VALUES lists, joined to the new transaction's id.
_ENTRY_VALUES_ROW = "(%s::bigint, %s::bigint, %s::bigint, %s::bigint)"
_ACCOUNT_VALUES_ROW = "(%s::bigint, %s::bigint, %s::bigint, %s::text)"


def _write_in_one_statement(
    tx: Transaction, entries: list[tuple], accounts: list[Account], event: dict | None
) -> int | None:
    """The transaction, its entries, the accounts' new balances and the outbox row in one
    data-modifying CTE: one round trip instead of four (on this machine a round trip costs more
    than the work of any of the four statements). The entries' foreign key to the new transaction
    is checked at the end of the statement, when the transaction row exists; the zero-sum trigger
    still runs at commit. Returns the event's id."""
    sql = f"WITH t AS ({_INSERT_TRANSACTION})"
    params = [getattr(tx, column) for column in _TRANSACTION_COLUMNS]
    if entries:
        sql += (
            ", e AS (INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, "  # noqa: S608
            "account_version) SELECT t.id, v.account_id, %s, v.amount, v.balance_after, v.account_version FROM t, "
            f"(VALUES {', '.join([_ENTRY_VALUES_ROW] * len(entries))}) "
            "AS v (account_id, amount, balance_after, account_version))"
        )
        params += [tx.currency_id, *(value for entry in entries for value in entry)]
    if accounts:
        sql += (
            ", u AS (UPDATE wallet_account a SET balance = v.balance, version = v.version, chain_hash = v.chain_hash "  # noqa: S608
            f"FROM (VALUES {', '.join([_ACCOUNT_VALUES_ROW] * len(accounts))}) AS v (id, balance, version, chain_hash) "
            "WHERE a.id = v.id)"
        )
        params += [
            value
            for account in accounts
            for value in (account.pk, account.balance, account.version, account.chain_hash)
        ]
    if event is not None:
        sql += f", {_EVENT_CTE} SELECT t.id, outbox.id FROM t, outbox"  # noqa: S608 - constant text
        params += events.outbox_params(signals.transaction_posted, json.dumps(event))
    else:
        sql += " SELECT id, NULL FROM t"
    # Prepared (apps.common.db): the text varies only with the number of entries and accounts,
    # and planning this statement cost PostgreSQL more than running it.
    with prepared_cursor() as cursor:
        # Only placeholders are repeated into the text; every value is a bound parameter.
        cursor.execute(sql, params)
        tx.pk, event_id = cursor.fetchone()
    return event_id


# Many transactions in one statement (`_write_many`): each array one column, one element per row.
# The transactions are inserted in the batch's order, so that a player's ids follow their chain;
# the entries and outbox rows find their transaction's new id by its position in the batch. The
# arrays travel in binary (`%b`): in text, psycopg escapes each string element with a regular
# expression, which cost more than the statement itself.
_TRANSACTION_TYPES = (
    "varchar", "bigint", "varchar", "bigint", "varchar", "varchar", "varchar", "varchar", "varchar", "bigint",
    "varchar", "text", "bigint", "bigint", "bigint", "varchar", "timestamptz",
)  # fmt: skip
_TRANSACTION_ARRAYS = ", ".join(f"%b::{kind}[]" for kind in _TRANSACTION_TYPES)
_WRITE_MANY = (
    f"WITH v AS (SELECT * FROM unnest({_TRANSACTION_ARRAYS}) WITH ORDINALITY AS v ({', '.join(_TRANSACTION_COLUMNS)}, "  # noqa: S608 - constants only
    f"n)), t AS (INSERT INTO wallet_transaction ({', '.join(_TRANSACTION_COLUMNS)}) "
    f"SELECT {', '.join(_TRANSACTION_COLUMNS)} FROM v ORDER BY n RETURNING id, origin, external_id), "
    "x AS (SELECT t.id, v.n FROM t JOIN v ON v.origin = t.origin AND v.external_id = t.external_id), "
    "e AS (INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, account_version) "
    "SELECT x.id, w.account_id, w.currency_id, w.amount, w.balance_after, w.account_version FROM unnest(%b::bigint[], "
    "%b::bigint[], %b::varchar[], %b::bigint[], %b::bigint[], %b::bigint[]) WITH ORDINALITY AS w (tx, account_id, "
    "currency_id, amount, balance_after, account_version, n) JOIN x ON x.n = w.tx ORDER BY w.n), "
    "u AS (UPDATE wallet_account a SET balance = z.balance, version = z.version, chain_hash = z.chain_hash "
    "FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::varchar[]) AS z (id, balance, version, chain_hash) "
    "WHERE a.id = z.id), "
    "o AS (INSERT INTO common_outboxevent (name, payload, created_at, attempts, last_error) "
    "SELECT %s, p.payload::jsonb || jsonb_build_object('transaction_id', x.id::text), %s, 0, '' "
    "FROM unnest(%b::bigint[], %b::text[]) WITH ORDINALITY AS p (tx, payload, n) JOIN x ON x.n = p.tx ORDER BY p.n "
    "RETURNING id, payload ->> 'transaction_id' AS tx) "
    "SELECT x.n, x.id, o.id FROM x LEFT JOIN o ON o.tx = x.id::text"
)


def _write_many(deferred: list[tuple]) -> None:
    """`_write` for the transactions `_post` deferred (a batch of wins), in the batch's order: on
    PostgreSQL all of them, their entries, the accounts' final balances and versions, and their
    outbox rows in one statement (one round trip and one execution instead of one per
    transaction: what a sportsbook market's settlement pays for thousands of wins). Each
    transaction gets its pk, and its event is dispatched after commit, as `_post` does."""
    if not deferred:
        return
    if connection.vendor != "postgresql":
        for tx, entries, accounts, event in deferred:
            event_id = _write(tx, entries, accounts, event)
            _dispatch_posted(tx, event, event_id)
        return
    columns = [[getattr(tx, column) for tx, *_ in deferred] for column in _TRANSACTION_COLUMNS]
    entries = [(n, entry) for n, (tx, rows, _, _) in enumerate(deferred, 1) for entry in rows]
    entry_columns = [
        [n for n, _ in entries], [entry[0] for _, entry in entries],
        [deferred[n - 1][0].currency_id for n, _ in entries], [entry[1] for _, entry in entries],
        [entry[2] for _, entry in entries], [entry[3] for _, entry in entries],
    ]  # fmt: skip
    # Each account once, as the last of the batch's transactions left it.
    accounts = {account.pk: account for _, _, touched, _ in deferred for account in touched}.values()
    account_columns = [
        [account.pk for account in accounts], [account.balance for account in accounts],
        [account.version for account in accounts], [account.chain_hash for account in accounts],
    ]  # fmt: skip
    events_at = [n for n, (*_, event) in enumerate(deferred, 1) if event is not None]
    payloads = [json.dumps(deferred[n - 1][3]) for n in events_at]
    params = [*columns, *entry_columns, *account_columns, signals.transaction_posted.name, timezone.now(), events_at,
              payloads]  # fmt: skip
    with prepared_cursor() as cursor:
        cursor.execute(_WRITE_MANY, params)
        rows = sorted(cursor.fetchall())
    for n, pk, event_id in rows:
        tx, _, _, event = deferred[n - 1]
        tx.pk = pk
        _dispatch_posted(tx, event, event_id)


def _dispatch_posted(tx: Transaction, event: dict | None, event_id: int | None) -> None:
    if event is not None:
        event["transaction_id"] = tx.public_id
        events.dispatch_on_commit(event_id, signals.transaction_posted, event)


_POSTED_BEFORE = (
    f"SELECT {_TRANSACTION_COLUMNS_SQL} FROM wallet_transaction "  # noqa: S608 - column names
    "WHERE external_id = ANY(%b) AND origin = ANY(%b)"
)


def _posted_before(refs: list[ExternalRef]) -> dict[tuple[str, str], Transaction]:
    """The transactions already posted with any of `refs`' ids: {(origin, external id): transaction}.
    One prepared look-up on PostgreSQL (it runs once per batch of wins)."""
    if connection.vendor != "postgresql":
        found = Transaction.objects.filter(origin__in={ref.origin for ref in refs},
                                           external_id__in=[ref.external_id for ref in refs])  # fmt: skip
        return {(tx.origin, tx.external_id): tx for tx in found}
    with prepared_cursor() as cursor:
        cursor.execute(_POSTED_BEFORE, [[ref.external_id for ref in refs], sorted({ref.origin for ref in refs})])
        rows = cursor.fetchall()
    wanted = {(ref.origin, ref.external_id) for ref in refs}
    found = (Transaction.from_db(connection.alias, _TRANSACTION_FIELDS, row) for row in rows)
    return {(tx.origin, tx.external_id): tx for tx in found if (tx.origin, tx.external_id) in wanted}


def _event(tx: Transaction, wallet: locks.LockedWallet) -> dict:
    """`transaction_posted`'s payload but for `transaction_id`: the row is written with it."""
    return signals.posted_payload(
        player_id=wallet.player.pk, brand_id=wallet.player.brand_id, kind=tx.kind, amount=tx.amount,
        version=wallet.version, balance=wallet.balance, cash=wallet.cash.balance, bonus=wallet.bonus.balance,
        currency=tx.currency_id, game_id=tx.game_id, created_at=tx.created_at,
    )  # fmt: skip
