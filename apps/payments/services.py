"""The cashier's writes: deposits, withdrawals, staff decisions and the PSPs' webhooks.

Money moves only through the wallet's services, each a durable transaction of its own and
idempotent on a key derived from the payment (so a retried step never moves money twice):

| movement | wallet service | external id (origin `psp:<provider>`) |
| --- | --- | --- |
| a deposit's credit | `credit` | `deposit:<deposit_id>` |
| its refund or chargeback | `reverse_deposit` | `deposit:<deposit_id>:reversal` |
| both, the reversal having come first | `credit_reversed_deposit` | the two above |
| a withdrawal's reservation | `reserve_withdrawal` | `withdrawal:<withdrawal_id>` |
| its payout | `pay_withdrawal` | `withdrawal:<withdrawal_id>:paid` |
| its return (failed, cancelled, rejected) | `return_withdrawal` | `withdrawal:<withdrawal_id>:returned` |

Each fingerprint names the payment (and a credit's amount), never the event: two different
success events of one deposit credit it once (a second one with another amount is refused by the
wallet as another body, and ignored).

Each step that moves money is ONE call of the wallet service, whose `commit_with` (the wallet's
hook, called inside the money's transaction after the movement) locks the payments rows and
writes the payment's new status and, for a webhook, the record's verdict. The money, the status
and the verdict commit together or not at all:

1. *record* (a transaction of its own): the delivery's `WebhookEvent`, `pending`, unique per
   (provider, event id); a second delivery of a decided event is recorded as a `duplicate`;
2. *apply* (the wallet's transaction): the wallet locks the player's accounts and moves the
   money; `commit_with` locks the record (still pending, else a racing delivery decided it: a
   `duplicate`) and the payment (locks.py), checks the payment's state and writes the status and
   the verdict. A state in which the event changes nothing raises `_NoEffect`, which rolls the
   money back; its verdict (`ignored`, with why) is then written in a transaction of its own.

An event that moves no money (a failure, an unknown reference, another currency, one that a
first look at the payment shows changes nothing) is decided in one payments transaction.

Why exactly once: the record, the status and the money commit in one transaction. A process that
dies before that commit leaves none of them (the record is still `pending`): the PSP retries an
event until it gets a 200, and the retry applies it once. One that dies after it left everything:
the retry is a `duplicate`. Two deliveries of one event racing queue on the player's accounts in
the wallet: the first commits money and verdict, the second is a wallet replay (the same key; no
`commit_with`) and finds the record decided: a `duplicate`. A second success event of a credited
deposit is a replay too (`ignored`, already credited), or, with another amount, refused by the
wallet as another body (`ignored`). Competing outcomes of one payment (a payout's success and its
failure, a cancellation and an approval) are exclusive because each checks the payment's status
under its lock in the transaction that writes it.

A refund or chargeback of a deposit not credited yet waits on the deposit (one payments
transaction, no money; a chargeback locks the account in it) and is `applied`: the PSP never sends
it again. The success then credits and takes back in one wallet call; its `commit_with` checks
that no reversal was recorded after its first look (one was: the lone credit rolls back and the
success looks again), and a reversal that finds the deposit credited since its first look rolls
back and takes the money back as after any success. docs/payments.md, "A refund or chargeback
before the success".
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import selectors as accounts
from apps.accounts.models import Player, User
from apps.common import staff_trail
from apps.common.errors import InvalidRequest, PamError
from apps.common.events import send_after_commit
from apps.common.idempotency import ExternalRef, fingerprint
from apps.common.timestamps import iso_utc
from apps.compliance import gate
from apps.compliance.errors import LimitReached
from apps.payments import errors, locks, risk, selectors, signals
from apps.payments.adapters import adapter_for, sandbox
from apps.payments.adapters.base import WebhookEvent as Event
from apps.payments.adapters.base import parse_event
from apps.payments.choices import (
    CREDITED,
    AdapterName,
    CashierOperation,
    DepositStatus,
    EventType,
    WebhookVerdict,
    WithdrawalStatus,
)
from apps.payments.models import CashierRefusal, DepositIntent, PaymentProvider, WebhookEvent, Withdrawal
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet
from apps.wallet.choices import TransactionKind, clearing_code

logger = structlog.get_logger(__name__)

SANDBOX = "sandbox"
# A deposit started and not yet paid counts against the player's deposit limits (with the next
# one they start) for this long: the life of a PSP's hosted payment page. One abandoned counts no
# longer, so it cannot hold the player's headroom for the whole limit's period.
PENDING_DEPOSIT_COUNTS_FOR = dt.timedelta(hours=1)
WITHDRAWAL_APPROVE = "payments.withdrawal.approve"
WITHDRAWAL_REJECT = "payments.withdrawal.reject"


# --- providers -----------------------------------------------------------------------------------


def save_provider(
    *, code: str, webhook_secret: str, adapter: str = AdapterName.SANDBOX, name: str = "", enabled: bool = True
) -> PaymentProvider:
    """Create the provider `code`, or update its secret, adapter and state."""
    provider, _ = PaymentProvider.objects.update_or_create(
        code=code,
        defaults={"webhook_secret": webhook_secret, "adapter": adapter, "name": name or code, "enabled": enabled},
    )
    return provider


def ensure_sandbox_provider() -> PaymentProvider:
    """The `sandbox` provider, created with a generated webhook secret when missing (the demo
    seeder's call: `make run` has a working cashier). An existing one is left as it is."""
    existing = PaymentProvider.objects.filter(code=SANDBOX).first()
    if existing is not None:
        return existing
    return save_provider(code=SANDBOX, webhook_secret=secrets.token_urlsafe(32), name="Sandbox PSP")


# --- deposits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """A cashier request's answer: the row, and whether this was a replay of its Idempotency-Key."""

    payment: DepositIntent | Withdrawal
    replayed: bool


def _request_fingerprint(operation: str, amount: int, currency: str, provider: str) -> str:
    return fingerprint(operation, {"amount": amount, "currency": currency, "provider": provider})


def _replay_of(model, player: Player, key: str, request_fingerprint: str):
    """The row an earlier request with this Idempotency-Key made, if any; DuplicateTransaction
    if that request had another body."""
    return _earlier(model.objects.select_related("provider").filter(player=player, idempotency_key=key),
                    request_fingerprint)  # fmt: skip


def _earlier(rows, request_fingerprint: str):
    """The first of `rows` (an earlier request's record under one key), if any; DuplicateTransaction
    if that request had another body."""
    row = rows.first()
    if row is not None and row.request_fingerprint != request_fingerprint:
        raise wallet_errors.DuplicateTransaction("This Idempotency-Key was used with another body.")
    return row


def start_deposit(*, player: Player, amount: int, currency: str, provider_code: str, idempotency_key: str) -> Started:
    """A pending deposit intent and the PSP's hosted page to send the player to.

    Checks, before the player is sent away (contracts/payments.md): UnknownProvider; compliance's
    PlayerBlocked (not active, excluded, KYC needed); LimitReached (with `remaining`, the
    headroom, in the error; the player's deposits started in the last PENDING_DEPOSIT_COUNTS_FOR
    and not yet paid count with this one, and a player's starts are serialised so that two
    cannot pass a limit together); CurrencyMismatch; AmountOutOfRange (the provider's minimum and
    maximum). The same key and body again: the first answer, the intent (replayed) or the
    refusal (kept, raised again as `KeptRefusal`); another body: DuplicateTransaction. No money
    moves here: the PSP's `deposit.succeeded` credits it.
    """
    request_fingerprint = _request_fingerprint("deposit", amount, currency, provider_code)
    request = _KeyedRequest(player, CashierOperation.DEPOSIT, idempotency_key, request_fingerprint)
    player = accounts.get_player(player.pk)  # as committed: the protection state is read from it
    refused: PamError | None = None
    try:
        with transaction.atomic():
            locks.lock_player_deposit_starts(player.pk)
            # The key's earlier answer, taken or refused, read under the lock every start of the
            # player's takes: a request with this key that came just before this one included.
            earlier = _replay_of(DepositIntent, player, idempotency_key, request_fingerprint)
            if earlier is None:
                _raise_kept_refusal(request)
                try:
                    intent = _new_deposit(player, amount, currency, provider_code, request)
                except PamError as refusal:
                    _keep_refusal(request, refusal)
                    refused = refusal
        if earlier is not None:
            return Started(_with_redirect(earlier), replayed=True)
    except IntegrityError:
        # The same key raced in twice: the other request's intent is the answer.
        intent = _replay_of(DepositIntent, player, idempotency_key, request_fingerprint)
        if intent is None:
            raise
        return Started(_with_redirect(intent), replayed=True)
    if refused is not None:
        raise refused
    return Started(_with_redirect(intent), replayed=False)


def _new_deposit(player: Player, amount: int, currency: str, provider_code: str, request: _KeyedRequest):
    """The intent of a deposit start that passes every check (start_deposit's), under the player's
    deposit-start lock; the first check's refusal otherwise."""
    provider = selectors.get_enabled_provider(provider_code)
    pending = selectors.pending_deposits_total(player.pk, since=timezone.now() - PENDING_DEPOSIT_COUNTS_FOR)
    _assert_may_deposit(player, amount, pending)
    if currency != player.currency_id:
        raise wallet_errors.CurrencyMismatch(f"The player's wallet is in {player.currency_id}, not {currency}.")
    if not provider.min_deposit <= amount <= provider.max_deposit:
        raise errors.AmountOutOfRange(
            f"{provider.code} takes deposits of {provider.min_deposit} to {provider.max_deposit} minor units."
        )
    return DepositIntent.objects.create(
        player=player, provider=provider, amount=amount, currency_id=currency,
        idempotency_key=request.key, request_fingerprint=request.fingerprint,
    )  # fmt: skip


@dataclass(frozen=True)
class _KeyedRequest:
    """A cashier request as its Idempotency-Key scopes it: the player, the endpoint, the key, and
    its body's fingerprint."""

    player: Player
    operation: str
    key: str
    fingerprint: str


def _raise_kept_refusal(request: _KeyedRequest) -> None:
    """Raise the refusal an earlier request with this key got (KeptRefusal), if one did;
    DuplicateTransaction if that request had another body."""
    kept = _earlier(
        CashierRefusal.objects.filter(player=request.player, operation=request.operation, idempotency_key=request.key),
        request.fingerprint,
    )
    if kept is None:
        return
    raise errors.KeptRefusal(
        code=kept.code, status=kept.status, message=kept.message, details=kept.details, extra=kept.extra
    )


def _keep_refusal(request: _KeyedRequest, refusal: PamError) -> None:
    """Keep `refusal` as the answer of its key (models.CashierRefusal). Requests with one key
    racing each other keep the first refusal to commit."""
    try:
        with transaction.atomic():
            CashierRefusal.objects.create(
                player=request.player, operation=request.operation, idempotency_key=request.key,
                request_fingerprint=request.fingerprint, status=refusal.status, code=refusal.code,
                message=refusal.message, details=refusal.details, extra=refusal.extra,
            )  # fmt: skip
    except IntegrityError:
        pass


def pay_in_sandbox(*, deposit: DepositIntent, card: str = sandbox.CARD_SUCCEEDS) -> str:
    """What the sandbox PSP does when `card` pays `deposit` on its hosted page, applied here and
    now: the webhook its delivery worker would send, received as the webhook endpoint receives a
    verified one; its verdict. For the demo seeder, which runs before any server could take the
    webhook over HTTP. InvalidRequest when the sandbox is off (`PSP_SANDBOX_ENABLED`: a test card
    credits real ledger money) or the deposit is another PSP's."""
    if not settings.PSP_SANDBOX_ENABLED:
        raise InvalidRequest("The sandbox PSP is off.")
    if not isinstance(adapter_for(deposit.provider), sandbox.SandboxAdapter):
        raise InvalidRequest("Only the sandbox PSP's deposits are paid in the sandbox.")
    event = parse_event(json.dumps(sandbox.deposit_event(deposit, card)).encode())
    return receive_webhook(provider=deposit.provider, event=event)


def _assert_may_deposit(player: Player, amount: int, pending: int) -> None:
    try:
        gate.assert_may_deposit(player=player, amount=amount, pending=pending)
    except LimitReached as refusal:
        # The contract puts the headroom at `error.remaining`; compliance says it per limit (the
        # deposits started and not yet paid counted).
        limit = refusal.details.get("limit")
        if limit is not None and limit.get("remaining") is not None:
            refusal.details = {**refusal.details, "remaining": limit["remaining"]}
        raise


def _with_redirect(intent: DepositIntent) -> DepositIntent:
    """The intent with its hosted page's URL, asked of the PSP once (again only if the first
    answer never got stored)."""
    if not intent.redirect_url:
        intent.redirect_url = adapter_for(intent.provider).start_deposit(intent)
        DepositIntent.objects.filter(pk=intent.pk, redirect_url="").update(redirect_url=intent.redirect_url)
    return intent


def _origin(provider: PaymentProvider) -> str:
    return f"psp:{provider.code}"


def _deposit_ref(intent: DepositIntent, amount: int) -> ExternalRef:
    body = {"deposit": intent.public_id, "amount": amount}
    return ExternalRef(_origin(intent.provider), f"deposit:{intent.public_id}", fingerprint("deposit", body))


def _reversal_ref(intent: DepositIntent) -> ExternalRef:
    external_id = f"deposit:{intent.public_id}:reversal"
    return ExternalRef(_origin(intent.provider), external_id, fingerprint("reversal", {"deposit": intent.public_id}))


# --- withdrawals ---------------------------------------------------------------------------------


def _withdrawal_ref(withdrawal: Withdrawal, step: str = "") -> ExternalRef:
    external_id = f"withdrawal:{withdrawal.public_id}{f':{step}' if step else ''}"
    body = {"withdrawal": withdrawal.public_id, "amount": withdrawal.amount, "step": step}
    return ExternalRef(_origin(withdrawal.provider), external_id, fingerprint("withdrawal", body))


def request_withdrawal(
    *, player: Player, amount: int, currency: str, provider_code: str, idempotency_key: str,
    acting_user: User | None = None,
) -> Started:  # fmt: skip
    """A withdrawal, its amount reserved at once (out of the playable balance into the player's
    pending-withdrawal account), then approved by itself or left for staff.

    Approved by itself when the amount is within the brand's threshold and no risk rule fires
    (risk.py); the PSP is then asked to pay it after commit. The reservation and that decision
    commit together. `acting_user`: staff requesting on the player's behalf (they cannot approve
    it then); the player's own user by default. Raises UnknownProvider and what
    `reserve_withdrawal` raises: KycRequired / PlayerBlocked (unverified, frozen),
    InsufficientFunds (only cash), CurrencyMismatch; a refused request leaves nothing behind.
    The same key and body again: the first answer (replayed); another body: DuplicateTransaction.
    """
    request_fingerprint = _request_fingerprint("withdrawal", amount, currency, provider_code)
    request = _KeyedRequest(player, CashierOperation.WITHDRAWAL, idempotency_key, request_fingerprint)
    withdrawal = _replay_of(Withdrawal, player, idempotency_key, request_fingerprint)
    replayed = withdrawal is not None
    if withdrawal is None:
        _raise_kept_refusal(request)
        try:
            provider = selectors.get_enabled_provider(provider_code)
            if currency != player.currency_id:
                raise wallet_errors.CurrencyMismatch(f"The player's wallet is in {player.currency_id}, not {currency}.")
        except PamError as refusal:
            _keep_refusal(request, refusal)
            raise
        try:
            # The row first, then the money: a reservation never exists without its withdrawal.
            withdrawal = Withdrawal.objects.create(
                player=player, provider=provider, amount=amount, currency_id=currency,
                requested_by=acting_user or player.user, idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
            )  # fmt: skip
        except IntegrityError:
            withdrawal = _replay_of(Withdrawal, player, idempotency_key, request_fingerprint)
            if withdrawal is None:
                raise
            replayed = True
    if withdrawal.status != WithdrawalStatus.REQUESTED:
        return Started(withdrawal, replayed=True)
    decided: list[Withdrawal] = []

    def decide_approval(_: object = None) -> None:
        decided.append(_decide_approval(locks.lock_withdrawal(withdrawal.pk)))

    try:
        posted = wallet.reserve_withdrawal(
            player_id=player.pk, currency=currency, amount=amount, ref=_withdrawal_ref(withdrawal),
            commit_with=decide_approval,
        )  # fmt: skip
    except PamError as refusal:
        # Refused: no money moved, so the request leaves nothing behind but its answer, which
        # takes the row's place under the key in the same transaction.
        with transaction.atomic():
            Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.REQUESTED).delete()
            _keep_refusal(request, refusal)
        raise
    if posted.replayed:
        # Reserved already, by a racing request with the same key (which decided it in the
        # reservation's transaction: nothing to do), or a reservation committed without its
        # decision (which this module never leaves now, but a database may hold): decide it now.
        with transaction.atomic():
            decide_approval()
    return Started(decided[-1], replayed=replayed)


def _decide_approval(locked: Withdrawal) -> Withdrawal:
    """A reserved withdrawal (locked, still `requested`) approved by itself or left for staff;
    one already decided is left as it is."""
    if locked.status == WithdrawalStatus.REQUESTED:
        flags = risk.risk_flags(player_id=locked.player_id)
        within = locked.amount <= selectors.auto_approve_up_to(locked.player.brand, locked.player.currency)
        locked.status = locked.initial_status = (
            WithdrawalStatus.APPROVED if within and not flags else WithdrawalStatus.AWAITING_APPROVAL
        )
        locked.risk_flags = flags
        locked.save(update_fields=["status", "initial_status", "risk_flags", "updated_at"])
        if locked.status == WithdrawalStatus.APPROVED:
            _start_payout_after_commit(locked)
    return locked


def _start_payout_after_commit(withdrawal: Withdrawal) -> None:
    def start() -> None:
        try:
            adapter_for(withdrawal.provider).start_payout(withdrawal)
        except Exception:
            # The withdrawal stays approved; staff see it in the back office and the PSP's
            # adapter can be asked again. Never undoes the committed approval.
            logger.exception("payments.start_payout_failed", withdrawal=withdrawal.public_id)

    transaction.on_commit(start)


def cancel_withdrawal(*, player: Player, withdrawal_id: str) -> Withdrawal:
    """The player's cancellation of their withdrawal: `cancelled`, the money back in cash.
    Only while awaiting approval; raises NotFound, WithdrawalNotCancellable."""
    withdrawal = selectors.get_player_withdrawal(player, withdrawal_id)

    def check(locked: Withdrawal) -> None:
        if locked.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise errors.WithdrawalNotCancellable

    return _return_withdrawal(withdrawal, check, reason="cancelled by the player")


def reject_withdrawal(*, withdrawal_id: int, acting_user: User, reason: str) -> Withdrawal:
    """Staff's rejection: `cancelled` with `reason`, the money back in the player's cash, a staff
    action in the trail (all in one transaction). Raises WithdrawalNotAwaitingApproval."""
    if not reason.strip():
        raise ValueError("A rejection needs a reason.")

    def check(locked: Withdrawal) -> None:
        if locked.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise errors.WithdrawalNotAwaitingApproval

    def record(locked: Withdrawal) -> None:
        locked.last_touched_by = acting_user
        staff_trail.record_staff_action(
            actor=acting_user, action=WITHDRAWAL_REJECT, target=locked,
            before={"status": WithdrawalStatus.AWAITING_APPROVAL}, after={"status": locked.status}, reason=reason,
        )  # fmt: skip

    withdrawal = Withdrawal.objects.select_related("provider").get(pk=withdrawal_id)
    return _return_withdrawal(withdrawal, check, reason=reason, record=record)


def _return_withdrawal(
    withdrawal: Withdrawal, check: Callable[[Withdrawal], None], *, reason: str,
    record: Callable[[Withdrawal], None] | None = None,
) -> Withdrawal:  # fmt: skip
    """A cancellation or a rejection: one `return_withdrawal` call whose `commit_with` locks the
    withdrawal (after the wallet locked the player's accounts), `check`s it still awaits approval
    (else its refusal rolls the money back), makes it `cancelled` and runs `record`: the money,
    the status and the staff action commit together. An approval racing it queues on the
    withdrawal's lock, and whichever commits second finds the other's status and is refused."""
    check(withdrawal)  # a first, unlocked look: refused without a wallet call
    cancelled: list[Withdrawal] = []

    def cancel(_: object = None) -> None:
        locked = locks.lock_withdrawal(withdrawal.pk)
        check(locked)
        locked.status, locked.reason = WithdrawalStatus.CANCELLED, reason
        if record is not None:
            record(locked)
        locked.save(update_fields=["status", "reason", "last_touched_by", "updated_at"])
        cancelled.append(locked)

    try:
        posted = wallet.return_withdrawal(
            player_id=withdrawal.player_id, currency=withdrawal.currency_id, amount=withdrawal.amount,
            ref=_withdrawal_ref(withdrawal, "returned"), commit_with=cancel,
        )  # fmt: skip
    except wallet_errors.InsufficientFunds:
        # Its money is no longer pending: an outcome that committed since the first look took it.
        with transaction.atomic():
            check(locks.lock_withdrawal(withdrawal.pk))
        raise
    if posted.replayed:
        # Returned already: by a racing cancellation or rejection, whose status `check` now
        # refuses, or a return committed without its status (never left now, but a database may
        # hold one): finish it.
        with transaction.atomic():
            cancel()
    return cancelled[-1]


def approve_withdrawal(*, withdrawal_id: int, acting_user: User) -> Withdrawal:
    """Staff's approval: `approved`, a staff action in the trail, and the PSP asked to pay it
    after commit. Four eyes: whoever requested or last touched it (or the player themself)
    cannot; raises FourEyesRequired, WithdrawalNotAwaitingApproval. Moves no money: one
    payments transaction, which a cancellation or rejection racing it queues behind (or ahead of)
    on the withdrawal's lock."""
    with transaction.atomic():
        withdrawal = locks.lock_withdrawal(withdrawal_id)
        if withdrawal.status != WithdrawalStatus.AWAITING_APPROVAL:
            raise errors.WithdrawalNotAwaitingApproval
        if acting_user.pk in (withdrawal.requested_by_id, withdrawal.last_touched_by_id, withdrawal.player.user_id):
            raise errors.FourEyesRequired
        withdrawal.status = WithdrawalStatus.APPROVED
        withdrawal.approved_by = withdrawal.last_touched_by = acting_user
        withdrawal.save(update_fields=["status", "approved_by", "last_touched_by", "updated_at"])
        staff_trail.record_staff_action(
            actor=acting_user, action=WITHDRAWAL_APPROVE, target=withdrawal,
            before={"status": WithdrawalStatus.AWAITING_APPROVAL}, after={"status": WithdrawalStatus.APPROVED},
        )  # fmt: skip
        send_after_commit(signals.withdrawal_approved, player_id=str(withdrawal.player_id),
                          withdrawal_id=withdrawal.public_id, amount=withdrawal.amount,
                          currency=withdrawal.currency_id, approved_at=iso_utc(timezone.now()))  # fmt: skip
        _start_payout_after_commit(withdrawal)
    return withdrawal


# --- webhooks ------------------------------------------------------------------------------------


def record_refused_webhook(*, provider: PaymentProvider, reason: str) -> WebhookEvent:
    """A delivery refused before its body was parsed (signature, timestamp, size, shape)."""
    return WebhookEvent.objects.create(
        provider=provider, verdict=WebhookVerdict.REFUSED, reason=reason, decided_at=timezone.now()
    )


def receive_webhook(*, provider: PaymentProvider, event: Event) -> str:
    """Apply one authentic event of `provider` exactly once and return its verdict: `applied`,
    `duplicate` or `ignored` (contracts/payments.md's rules; each recorded with its reason).
    Raises only what is not the event's fault (the database, the wallet): nothing it would have
    changed is then committed, the record stays `pending`, and the PSP's retry applies it."""
    record = _record_delivery(provider, event)
    if record is None:
        return WebhookVerdict.DUPLICATE
    handler = _HANDLERS.get(event.type, _unknown_type)
    return handler(record, provider, event)


def _record_delivery(provider: PaymentProvider, event: Event) -> WebhookEvent | None:
    """The event's decisive record, new or left `pending` by an interrupted delivery; None when it
    was decided already (this delivery is then recorded as a `duplicate`)."""
    fields = {
        "type": event.type, "reference": event.reference, "amount": event.amount, "currency": event.currency,
        "body": event.body,
    }  # fmt: skip
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                provider=provider, event_id=event.event_id, verdict=WebhookVerdict.PENDING, **fields
            )
    except IntegrityError:
        pass
    first = WebhookEvent.objects.exclude(verdict__in=[WebhookVerdict.DUPLICATE, WebhookVerdict.REFUSED]).get(
        provider=provider, event_id=event.event_id
    )
    if first.verdict == WebhookVerdict.PENDING:
        return first
    _record_duplicate(provider, event, first)
    return None


def _record_duplicate(provider: PaymentProvider, event: Event, first: WebhookEvent) -> None:
    WebhookEvent.objects.create(
        provider=provider, event_id=event.event_id, type=event.type, reference=event.reference, amount=event.amount,
        currency=event.currency, body=event.body, verdict=WebhookVerdict.DUPLICATE, decided_at=timezone.now(),
        reason=f"event already seen (record {first.pk}: {first.verdict})",
    )  # fmt: skip


class _AlreadyDecided(Exception):
    """The record was decided by a racing delivery of the same event."""


class _NoEffect(PamError):
    """Raised in a wallet call's `commit_with`: the event changes nothing after all (`ignored`,
    with `reason`) or a racing delivery decided its record first (`duplicate`). Raising it rolls
    the money back with everything the call wrote; the verdict is then written on its own.
    Never leaves this module."""

    code = "PAYMENT_EVENT_NO_EFFECT"

    def __init__(self, verdict: str, reason: str = "") -> None:
        super().__init__(reason or verdict)
        self.verdict, self.reason = verdict, reason


class _StaleLook(PamError):
    """Raised in a wallet call's `commit_with`: the payment changed since the first look in a way
    that changes the movement itself (a refund or chargeback recorded on a deposit whose credit
    was about to move alone). It rolls the money back; the caller looks again and moves the
    right money. Never leaves this module."""

    code = "PAYMENT_CHANGED_SINCE_FIRST_LOOK"


class _NotWaiting(Exception):
    """A reversal found, under the locks, that it cannot wait on the deposit after all (credited,
    or another reversal waits already): what its transaction wrote is rolled back."""


def _decide(record: WebhookEvent, verdict: str, reason: str) -> None:
    """Write the verdict on the record, inside the caller's transaction, which locked the record
    with `_lock_pending` first."""
    record.verdict, record.reason, record.decided_at = verdict, reason, timezone.now()
    record.save(update_fields=["verdict", "reason", "decided_at"])


def _lock_pending(record: WebhookEvent) -> WebhookEvent:
    locked = locks.lock_webhook_event(record.pk)
    if locked.verdict != WebhookVerdict.PENDING:
        raise _AlreadyDecided
    return locked


Decision = tuple[str, str]  # (verdict, reason)


def _settle(
    record: WebhookEvent, provider: PaymentProvider, event: Event, decide: Callable[[], Decision | None]
) -> str | None:
    """Decide the record in one transaction that moves no money: the record locked (a racing
    delivery decided it: this one is a `duplicate`), then `decide()` (which locks the payment it
    reads) gives the verdict and reason to write, or None to write nothing (None is returned)."""
    try:
        with transaction.atomic():
            locked = _lock_pending(record)
            decided = decide()
            if decided is None:
                return None
            _decide(locked, *decided)
            return decided[0]
    except _AlreadyDecided:
        _record_duplicate(provider, event, record)
        return WebhookVerdict.DUPLICATE


def _settled(record: WebhookEvent, provider: PaymentProvider, event: Event, decide: Callable[[], Decision]) -> str:
    """`_settle` with a `decide` that always decides: the verdict written (or `duplicate`)."""
    return cast(str, _settle(record, provider, event, decide))


Payment = DepositIntent | Withdrawal
P = TypeVar("P", DepositIntent, Withdrawal)


@dataclass(frozen=True)
class _MoneyEffect:
    """What an event that moves money does to its payment.

    `unchanged(payment)`: why the event changes nothing in the payment's state, or None.
    `apply(payment)`: the payment's new status written (the payment locked); the verdict's reason.
    `move(payment, commit_with)`: the one wallet call, with `commit_with` passed on.
    `conflict`: the verdict's reason when the wallet refuses the call's key as another body.
    """

    lock: Callable[[], Payment]
    unchanged: Callable[[Payment], str | None]
    apply: Callable[[Payment], str]
    move: Callable[[Payment, wallet.CommitWith], wallet.Posted]
    conflict: str = ""


def _with_money(
    record: WebhookEvent, provider: PaymentProvider, event: Event, payment: Payment, effect: _MoneyEffect
) -> str:
    """Apply an event that moves money: one wallet call whose `commit_with` locks the record
    (still pending) and the payment, checks the payment's state and writes its new status and the
    record's verdict, so the money, the status and the verdict commit together or not at all.

    `payment` is a first, unlocked look: a state in which the event changes nothing is decided
    without the wallet (and checked again under the locks). A refusal in `commit_with` (the state
    changed since, a racing delivery decided the record) rolls the money back and its verdict is
    written on its own. A wallet replay (this movement committed earlier, with its payment's
    status) is decided from the payment's state."""

    def decided_by_state() -> Decision | None:
        reason = effect.unchanged(effect.lock())
        return None if reason is None else (WebhookVerdict.IGNORED, reason)

    if effect.unchanged(payment) is not None:
        verdict = _settle(record, provider, event, decided_by_state)
        if verdict is not None:
            return verdict
        payment = type(payment).objects.get(pk=payment.pk)  # it moved on since the first look

    def commit_with(_: object) -> None:
        try:
            locked = _lock_pending(record)
        except _AlreadyDecided:
            raise _NoEffect(WebhookVerdict.DUPLICATE) from None
        locked_payment = effect.lock()
        reason = effect.unchanged(locked_payment)
        if reason is not None:
            raise _NoEffect(WebhookVerdict.IGNORED, reason)
        _decide(locked, WebhookVerdict.APPLIED, effect.apply(locked_payment))

    try:
        posted = effect.move(payment, commit_with)
    except _StaleLook:
        raise
    except _NoEffect as no_effect:
        if no_effect.verdict == WebhookVerdict.DUPLICATE:
            _record_duplicate(provider, event, record)
            return WebhookVerdict.DUPLICATE
        reason = no_effect.reason
        return _settled(record, provider, event, lambda: (WebhookVerdict.IGNORED, reason))
    except wallet_errors.DuplicateTransaction:
        if not effect.conflict:
            raise
        return _settled(record, provider, event, lambda: (WebhookVerdict.IGNORED, effect.conflict))
    except PamError:
        # The wallet refused (a payout's money no longer pending): an outcome that committed
        # since the first look may explain it; anything else stays the wallet's error.
        verdict = _settle(record, provider, event, decided_by_state)
        if verdict is None:
            raise
        return verdict
    if not posted.replayed:
        return WebhookVerdict.APPLIED

    def after_replay() -> Decision:
        # The movement committed earlier with the payment's new status (a racing delivery, another
        # event of the same outcome): `unchanged` says so. A state the movement would still change
        # means a movement committed without its status (never left now, but a database may hold
        # one): finish it.
        locked_payment = effect.lock()
        reason = effect.unchanged(locked_payment)
        if reason is not None:
            return WebhookVerdict.IGNORED, reason
        return WebhookVerdict.APPLIED, effect.apply(locked_payment)

    return _settled(record, provider, event, after_replay)


def _deposit_of(provider: PaymentProvider, reference: str) -> DepositIntent | None:
    """The deposit `reference` names, if it is this provider's (another PSP's events never touch it)."""
    return _with_provider(DepositIntent.objects.filter(public_id=reference, provider=provider).first(), provider)


def _with_provider(payment: P | None, provider: PaymentProvider) -> P | None:
    """The payment with its provider set from the one in hand (its keys name it: no query)."""
    if payment is not None:
        payment.provider = provider
    return payment


def _unknown(record: WebhookEvent, provider: PaymentProvider, event: Event, what: str) -> str:
    reason = f"unknown reference: no {what} of this provider is {record.reference!r}"
    return _settled(record, provider, event, lambda: (WebhookVerdict.IGNORED, reason))


def _unknown_type(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    """An authentic event of a type the contract does not name (a PSP's newer kind of news):
    `ignored`, recorded with its reason, so that the PSP stops sending it."""
    reason = f"unknown event type {event.type!r}: nothing to do"
    return _settled(record, provider, event, lambda: (WebhookVerdict.IGNORED, reason))


def _already_credited(deposit: DepositIntent) -> str | None:
    return f"already credited (deposit {deposit.status})" if deposit.status in CREDITED else None


def _deposit_succeeded(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, provider, event, "deposit")
    if event.currency != intent.currency_id and intent.status not in CREDITED:
        return _settled(record, provider, event, lambda: _another_currency(intent.pk, event))
    try:
        return _credit_deposit(record, provider, event, intent)
    except _StaleLook:
        # A refund or chargeback was recorded on the deposit after the first look and before the
        # credit's lock; it can be recorded only once, so the second look is the last.
        return _credit_deposit(record, provider, event, _deposit_of(provider, event.reference))


def _credit_deposit(record: WebhookEvent, provider: PaymentProvider, event: Event, intent: DepositIntent) -> str:
    """The success's money: the credit, and with it, in the same wallet transaction, the refund
    or chargeback that came before it (`intent.early_reversal`, as the first look saw it; a
    reversal recorded since is found under the deposit's lock and raises `_StaleLook`)."""
    waiting = intent.early_reversal
    chargeback = waiting == EventType.DEPOSIT_CHARGEBACK
    reversal_posted: list[bool] = []

    def apply(locked: DepositIntent) -> str:
        if locked.early_reversal != waiting:
            raise _StaleLook("A reversal was recorded on the deposit since the first look.")
        if waiting and not reversal_posted:
            # A wallet replay: the credit committed earlier without its status, so its reversal
            # never moved. This module never leaves that state; finishing it by hand beats
            # marking the money as taken back when it was not.
            raise RuntimeError(f"deposit {locked.public_id}: credited without its status while a reversal waits")
        was = locked.status
        locked.status, locked.credited_amount = DepositStatus.SUCCEEDED, event.amount
        reason = f"credited {event.amount} {locked.currency_id}"
        if event.amount != locked.amount:
            reason += f" as the PSP reported (the player asked for {locked.amount})"
            locked.flagged_for_staff = True
            locked.flag_reason = (
                f"event {event.event_id}: the PSP reported {event.amount}, the player asked for {locked.amount}"
            )
        if was == DepositStatus.FAILED:
            reason += " after a deposit.failed"
        if waiting:
            locked.status = DepositStatus.CHARGED_BACK if chargeback else DepositStatus.REFUNDED
            what = "charged back: the account is locked" if chargeback else "refunded"
            reason += (
                f", then {event.amount} {locked.currency_id} taken back, {what} "
                f"(the {_reversal_noun(waiting)}, event {locked.reversal_event}, came before the success)"
            )
        locked.instrument_fingerprint = adapter_for(provider).instrument_fingerprint(event)
        locked.save()
        if locked.instrument_fingerprint:
            # In the credit's transaction: the event exists exactly when the credit does.
            send_after_commit(
                signals.deposit_instrument_seen, player_id=str(locked.player_id), deposit_id=locked.public_id,
                fingerprint=locked.instrument_fingerprint, at=iso_utc(timezone.now()),
            )  # fmt: skip
        return reason

    def move(deposit: DepositIntent, commit_with: wallet.CommitWith) -> wallet.Posted:
        # Never refused for player protection: the PSP took the player's money, so it is theirs.
        if not waiting:
            return wallet.credit(
                player_id=deposit.player_id, currency=deposit.currency_id, amount=event.amount,
                kind=TransactionKind.DEPOSIT, ref=_deposit_ref(deposit, event.amount),
                counter=clearing_code(provider.code), commit_with=commit_with,
            )  # fmt: skip

        def with_reversal(tx: object) -> None:
            reversal_posted.append(True)
            commit_with(tx)

        # The reversal that came first is taken back in the credit's own transaction: the same
        # ledger transactions as a reversal after the success, and no moment in which the player
        # holds money the PSP has already taken back.
        return wallet.credit_reversed_deposit(
            player_id=deposit.player_id, currency=deposit.currency_id, amount=event.amount,
            ref=_deposit_ref(deposit, event.amount), reversal_ref=_reversal_ref(deposit),
            reversal_kind=TransactionKind.CHARGEBACK if chargeback else TransactionKind.REFUND,
            counter=clearing_code(provider.code), commit_with=with_reversal,
        )  # fmt: skip

    effect = _MoneyEffect(
        lock=lambda: locks.lock_deposit(intent.pk), unchanged=_already_credited, apply=apply, move=move,
        # Another success event of this deposit credited another amount first.
        conflict="credited already with another amount, by another event",
    )  # fmt: skip
    return _with_money(record, provider, event, intent, effect)


def _reversal_noun(event_type: str) -> str:
    return "chargeback" if event_type == EventType.DEPOSIT_CHARGEBACK else "refund"


def _another_currency(deposit_pk: int, event: Event) -> Decision:
    """A success in a currency other than the deposit's: nothing credited, the deposit flagged."""
    locked = locks.lock_deposit(deposit_pk)
    if (reason := _already_credited(locked)) is not None:
        return WebhookVerdict.IGNORED, reason
    locked.flagged_for_staff = True
    locked.flag_reason = (
        f"event {event.event_id}: success of {event.amount} {event.currency} for a deposit in "
        f"{locked.currency_id}; nothing was credited"
    )
    locked.save(update_fields=["flagged_for_staff", "flag_reason", "updated_at"])
    return (
        WebhookVerdict.IGNORED,
        f"another currency ({event.currency}, deposit in {locked.currency_id}): flagged for staff",
    )


def _deposit_failed(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, provider, event, "deposit")

    def decide() -> Decision:
        locked = locks.lock_deposit(intent.pk)
        if locked.status != DepositStatus.PENDING:
            return WebhookVerdict.IGNORED, f"the deposit is {locked.status}: a failure changes nothing"
        locked.status = DepositStatus.FAILED
        reason = "the deposit failed"
        if locked.early_reversal:
            reason += _flag_reversal_of_failed(locked, event.event_id)
        locked.save(update_fields=["status", "flagged_for_staff", "flag_reason", "updated_at"])
        # With the status, in its transaction: a failure recorded is a failure announced.
        send_after_commit(
            signals.deposit_failed, player_id=str(locked.player_id), deposit_id=locked.public_id,
            amount=locked.amount, currency=locked.currency_id, created_at=iso_utc(locked.updated_at),
        )  # fmt: skip
        return WebhookVerdict.APPLIED, reason

    return _settled(record, provider, event, decide)


def _flag_reversal_of_failed(locked: DepositIntent, event_id: str) -> str:
    """A deposit the PSP says failed, with a refund or chargeback of it recorded too: a
    contradiction for staff (the PSP may still send a success, which would credit the deposit and
    take it back at once). Flags the locked deposit (the caller saves it); the verdict's words."""
    noun = _reversal_noun(locked.early_reversal)
    locked.flagged_for_staff = True
    locked.flag_reason = (
        f"event {event_id}: the PSP says the deposit failed and sent a {noun} of it (event {locked.reversal_event}): "
        "nothing was credited or taken back"
        + ("; the chargeback locked the account" if locked.early_reversal == EventType.DEPOSIT_CHARGEBACK else "")
    )
    return f"; its {noun} (event {locked.reversal_event}) moved no money and waits on a success: flagged for staff"


def _deposit_reversed(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, provider, event, "deposit")
    chargeback = event.type == EventType.DEPOSIT_CHARGEBACK
    if intent.status in (DepositStatus.PENDING, DepositStatus.FAILED) and not intent.reversal_event:
        verdict = _record_early_reversal(record, provider, event, intent)
        if verdict is not None:
            return verdict
        intent = _deposit_of(provider, event.reference)  # credited, or another reversal waits

    def unchanged(deposit: DepositIntent) -> str | None:
        if deposit.early_reversal and deposit.status in (DepositStatus.PENDING, DepositStatus.FAILED):
            noun = _reversal_noun(deposit.early_reversal)
            return f"the deposit's {noun} is already recorded (event {deposit.reversal_event}), waiting on its success"
        # A reversal event recorded with the deposit still `succeeded` names the event whose money
        # moved without its status (never left now, but a database may hold one): that event
        # finishes it, no other one does.
        if deposit.reversal_event and deposit.reversal_event != event.event_id:
            return f"the deposit was already taken back (event {deposit.reversal_event})"
        if deposit.status != DepositStatus.SUCCEEDED:
            return f"the deposit is {deposit.status}: nothing was credited to take back"
        return None

    def apply(locked: DepositIntent) -> str:
        locked.status = DepositStatus.CHARGED_BACK if chargeback else DepositStatus.REFUNDED
        locked.reversal_event = event.event_id
        locked.save(update_fields=["status", "reversal_event", "updated_at"])
        what = "charged back: the account is locked" if chargeback else "refunded"
        return f"{locked.credited_amount} {locked.currency_id} taken back, {what}"

    def move(deposit: DepositIntent, commit_with: wallet.CommitWith) -> wallet.Posted:
        return wallet.reverse_deposit(
            player_id=deposit.player_id, currency=deposit.currency_id, amount=deposit.credited_amount,
            ref=_reversal_ref(deposit), counter=clearing_code(provider.code),
            kind=TransactionKind.CHARGEBACK if chargeback else TransactionKind.REFUND, commit_with=commit_with,
        )  # fmt: skip

    effect = _MoneyEffect(lock=lambda: locks.lock_deposit(intent.pk), unchanged=unchanged, apply=apply, move=move)
    return _with_money(record, provider, event, intent, effect)


def _record_early_reversal(
    record: WebhookEvent, provider: PaymentProvider, event: Event, intent: DepositIntent
) -> str | None:
    """A refund or chargeback of a deposit not credited (yet): kept on the deposit, to be taken
    back in the transaction of its success (`_credit_deposit`), and `applied`, since what it says
    is recorded at once: the PSP, answered 200, never sends it again. A chargeback locks the
    account at once, as it would after a success: the PSP says the player disputed the payment.
    One payments transaction, no money. None, with everything rolled back, when the locks show a
    deposit credited since the first look (the caller takes the money back now) or another
    reversal recorded first."""
    chargeback = event.type == EventType.DEPOSIT_CHARGEBACK
    try:
        with transaction.atomic():
            locked_record = _lock_pending(record)
            if chargeback:
                # Before the deposit's lock: a success's wallet transaction writes the player row
                # (its chargeback's lock) before it locks the deposit, so the player row comes first
                # here too, or the two could deadlock.
                gate.lock_for_chargeback(player=accounts.get_player(intent.player_id), amount=intent.amount)
            locked = locks.lock_deposit(intent.pk)
            if locked.status not in (DepositStatus.PENDING, DepositStatus.FAILED) or locked.reversal_event:
                raise _NotWaiting
            locked.early_reversal, locked.reversal_event = event.type, event.event_id
            noun = _reversal_noun(event.type)
            reason = f"the deposit is {locked.status}: its {noun} is recorded, to take the money back with its success"
            if chargeback:
                reason += "; the account is locked"
            fields = ["early_reversal", "reversal_event", "updated_at"]
            if locked.status == DepositStatus.FAILED:
                reason += _flag_reversal_of_failed(locked, event.event_id)
                fields += ["flagged_for_staff", "flag_reason"]
            locked.save(update_fields=fields)
            _decide(locked_record, WebhookVerdict.APPLIED, reason)
            return WebhookVerdict.APPLIED
    except _AlreadyDecided:
        _record_duplicate(provider, event, record)
        return WebhookVerdict.DUPLICATE
    except _NotWaiting:
        return None


def _payout(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    withdrawal = _with_provider(
        Withdrawal.objects.filter(public_id=event.reference, provider=provider).first(), provider
    )
    if withdrawal is None:
        return _unknown(record, provider, event, "withdrawal")
    succeeded = event.type == EventType.PAYOUT_SUCCEEDED

    def unchanged(current: Withdrawal) -> str | None:
        if current.status in (WithdrawalStatus.PAID, WithdrawalStatus.FAILED):
            return f"the withdrawal is already {current.status}"
        if current.status != WithdrawalStatus.APPROVED:
            return f"the withdrawal is {current.status}, not approved"
        return None

    def apply(locked: Withdrawal) -> str:
        locked.status = WithdrawalStatus.PAID if succeeded else WithdrawalStatus.FAILED
        fields = ["status", "reason", "updated_at"]
        if not succeeded:
            locked.reason = f"the PSP could not pay it (event {event.event_id})"
        elif (event.amount, event.currency) != (locked.amount, locked.currency_id):
            # The PSP says it paid this withdrawal: what was reserved for it leaves, and staff
            # reconcile the difference with the PSP.
            locked.flagged_for_staff = True
            locked.flag_reason = (
                f"event {event.event_id}: the PSP reported paying {event.amount} {event.currency}, "
                f"the withdrawal is {locked.amount} {locked.currency_id}"
            )
            fields += ["flagged_for_staff", "flag_reason"]
        locked.save(update_fields=fields)
        what = "paid" if succeeded else "failed: the money is back in the player's cash"
        if locked.flagged_for_staff:
            what += " (flagged for staff: the PSP reported another amount or currency)"
        return f"{locked.amount} {locked.currency_id} {what}"

    def move(current: Withdrawal, commit_with: wallet.CommitWith) -> wallet.Posted:
        if succeeded:
            return wallet.pay_withdrawal(
                player_id=current.player_id, currency=current.currency_id, amount=current.amount,
                ref=_withdrawal_ref(current, "paid"), counter=clearing_code(provider.code), commit_with=commit_with,
            )  # fmt: skip
        return wallet.return_withdrawal(
            player_id=current.player_id, currency=current.currency_id, amount=current.amount,
            ref=_withdrawal_ref(current, "returned"), commit_with=commit_with,
        )  # fmt: skip

    effect = _MoneyEffect(
        lock=lambda: locks.lock_withdrawal(withdrawal.pk), unchanged=unchanged, apply=apply, move=move
    )
    return _with_money(record, provider, event, withdrawal, effect)


_HANDLERS = {
    EventType.DEPOSIT_SUCCEEDED: _deposit_succeeded,
    EventType.DEPOSIT_FAILED: _deposit_failed,
    EventType.DEPOSIT_REFUNDED: _deposit_reversed,
    EventType.DEPOSIT_CHARGEBACK: _deposit_reversed,
    EventType.PAYOUT_SUCCEEDED: _payout,
    EventType.PAYOUT_FAILED: _payout,
}
