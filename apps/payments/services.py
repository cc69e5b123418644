"""The cashier's writes: deposits, withdrawals, staff decisions and the PSPs' webhooks.

Money moves only through the wallet's services, each a durable transaction of its own and
idempotent on a key derived from the payment (so a retried step never moves money twice):

| movement | wallet service | external id (origin `psp:<provider>`) |
| --- | --- | --- |
| a deposit's credit | `credit` | `deposit:<deposit_id>` |
| its refund or chargeback | `reverse_deposit` | `deposit:<deposit_id>:reversal` |
| a withdrawal's reservation | `reserve_withdrawal` | `withdrawal:<withdrawal_id>` |
| its payout | `pay_withdrawal` | `withdrawal:<withdrawal_id>:paid` |
| its return (failed, cancelled, rejected) | `return_withdrawal` | `withdrawal:<withdrawal_id>:returned` |

Each fingerprint names the payment (and a credit's amount), never the event: two different
success events of one deposit credit it once (a second one with another amount is refused by the
wallet as another body, and ignored).

Why not one transaction for the record and the money: the wallet's services are
`atomic(durable=True)`, so nothing here can hold them inside its own transaction. An extension
point participant of the wallet could write payments' rows inside the money transaction, but
the wallet offers such a moment only for some movements (none for a payout or a return), and it
would have payments' rows written from inside the wallet's lock on every deposit. Instead, every
step that moves money runs in three parts, and each part is safe to repeat:

1. *decide* (one transaction): the webhook record (or the withdrawal) locked; the payment
   locked (locks.py); either the event changes nothing (the verdict is written, done) or what is
   about to happen is claimed on the payment's row (a refund's event id, a payout's outcome, a
   cancellation), so that a competing outcome is refused from then on;
2. *move* the money through the wallet (idempotent: a repeat is answered from the ledger);
3. *finish* (one transaction): the record and the payment locked again; the payment's new
   status and the record's verdict written together.

A process that dies between the parts leaves the webhook record `pending` (or the claim set):
the PSP retries an event until it gets a 200, and that retry goes through the same three parts,
where the wallet answers the money already moved from the ledger. Two deliveries of one event
racing both reach the wallet (which moves money once) and then queue on the record's lock in
part 3: the first writes the verdict, the second finds it written and is a `duplicate`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import selectors as accounts
from apps.accounts.models import Player, User
from apps.common import staff_trail
from apps.common.errors import PamError
from apps.common.idempotency import ExternalRef, fingerprint
from apps.compliance import gate
from apps.compliance.errors import LimitReached
from apps.payments import errors, locks, risk, selectors
from apps.payments.adapters import adapter_for
from apps.payments.adapters.base import WebhookEvent as Event
from apps.payments.choices import (
    CREDITED,
    AdapterName,
    DepositStatus,
    EventType,
    WebhookVerdict,
    WithdrawalClaim,
    WithdrawalStatus,
)
from apps.payments.models import DepositIntent, PaymentProvider, WebhookEvent, Withdrawal
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
    row = model.objects.select_related("provider").filter(player=player, idempotency_key=key).first()
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
    maximum). The same key and body again: the first intent (replayed); another body:
    DuplicateTransaction. No money moves here: the PSP's `deposit.succeeded` credits it.
    """
    request_fingerprint = _request_fingerprint("deposit", amount, currency, provider_code)
    intent = _replay_of(DepositIntent, player, idempotency_key, request_fingerprint)
    if intent is not None:
        return Started(_with_redirect(intent), replayed=True)
    provider = selectors.get_enabled_provider(provider_code)
    player = accounts.get_player(player.pk)  # as committed: the protection state is read from it
    try:
        with transaction.atomic():
            locks.lock_player_deposit_starts(player.pk)
            pending = selectors.pending_deposits_total(player.pk, since=timezone.now() - PENDING_DEPOSIT_COUNTS_FOR)
            _assert_may_deposit(player, amount, pending)
            if currency != player.currency_id:
                raise wallet_errors.CurrencyMismatch(f"The player's wallet is in {player.currency_id}, not {currency}.")
            if not provider.min_deposit <= amount <= provider.max_deposit:
                raise errors.AmountOutOfRange(
                    f"{provider.code} takes deposits of {provider.min_deposit} to {provider.max_deposit} minor units."
                )
            intent = DepositIntent.objects.create(
                player=player, provider=provider, amount=amount, currency_id=currency,
                idempotency_key=idempotency_key, request_fingerprint=request_fingerprint,
            )  # fmt: skip
    except IntegrityError:
        # The same key raced in twice: the other request's intent is the answer.
        intent = _replay_of(DepositIntent, player, idempotency_key, request_fingerprint)
        if intent is None:
            raise
        return Started(_with_redirect(intent), replayed=True)
    return Started(_with_redirect(intent), replayed=False)


def _assert_may_deposit(player: Player, amount: int, pending: int) -> None:
    try:
        gate.assert_may_deposit(player=player, amount=amount, pending=pending)
    except LimitReached as refusal:
        # The contract puts the headroom at `error.remaining`; compliance says it per limit, from
        # the ledger: the deposits started and not yet paid take their share of it too.
        limit = refusal.details.get("limit")
        if limit is not None and limit.get("remaining") is not None:
            remaining = max(limit["remaining"] - pending, 0)
            refusal.details = {**refusal.details, "limit": {**limit, "remaining": remaining}, "remaining": remaining}
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
    (risk.py); the PSP is then asked to pay it after commit. `acting_user`: staff requesting on
    the player's behalf (they cannot approve it then); the player's own user by default.
    Raises UnknownProvider and what `reserve_withdrawal` raises: KycRequired / PlayerBlocked
    (unverified, frozen), InsufficientFunds (only cash), CurrencyMismatch; a refused request
    leaves nothing behind. The same key and body again: the first answer (replayed), finishing
    a request a crash interrupted; another body: DuplicateTransaction.
    """
    request_fingerprint = _request_fingerprint("withdrawal", amount, currency, provider_code)
    withdrawal = _replay_of(Withdrawal, player, idempotency_key, request_fingerprint)
    replayed = withdrawal is not None
    if withdrawal is None:
        provider = selectors.get_enabled_provider(provider_code)
        if currency != player.currency_id:
            raise wallet_errors.CurrencyMismatch(f"The player's wallet is in {player.currency_id}, not {currency}.")
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
    try:
        wallet.reserve_withdrawal(
            player_id=player.pk, currency=currency, amount=amount, ref=_withdrawal_ref(withdrawal)
        )
    except PamError:
        # Refused: no money moved, so the request leaves nothing behind. (Any other failure
        # keeps the row: the reservation may have committed, and a retry with the key finishes.)
        Withdrawal.objects.filter(pk=withdrawal.pk, status=WithdrawalStatus.REQUESTED).delete()
        raise
    with transaction.atomic():
        withdrawal = locks.lock_withdrawal(withdrawal.pk)
        if withdrawal.status == WithdrawalStatus.REQUESTED:
            flags = risk.risk_flags(player_id=player.pk)
            within = amount <= selectors.auto_approve_up_to(withdrawal.player.brand, withdrawal.player.currency)
            withdrawal.status = withdrawal.initial_status = (
                WithdrawalStatus.APPROVED if within and not flags else WithdrawalStatus.AWAITING_APPROVAL
            )
            withdrawal.risk_flags = flags
            withdrawal.save(update_fields=["status", "initial_status", "risk_flags", "updated_at"])
            if withdrawal.status == WithdrawalStatus.APPROVED:
                _start_payout_after_commit(withdrawal)
    return Started(withdrawal, replayed=replayed)


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

    def claim(locked: Withdrawal) -> None:
        if locked.claim == WithdrawalClaim.CANCEL:
            return  # a cancellation a crash interrupted: finish it
        if locked.status != WithdrawalStatus.AWAITING_APPROVAL or locked.claim:
            raise errors.WithdrawalNotCancellable
        locked.claim = WithdrawalClaim.CANCEL

    return _return_withdrawal(withdrawal, claim, reason="cancelled by the player")


def reject_withdrawal(*, withdrawal_id: int, acting_user: User, reason: str) -> Withdrawal:
    """Staff's rejection: `cancelled` with `reason`, the money back in the player's cash, a staff
    action in the trail. Raises WithdrawalNotAwaitingApproval."""
    if not reason.strip():
        raise ValueError("A rejection needs a reason.")

    def claim(locked: Withdrawal) -> None:
        if locked.claim == WithdrawalClaim.REJECT:
            return
        if locked.status != WithdrawalStatus.AWAITING_APPROVAL or locked.claim:
            raise errors.WithdrawalNotAwaitingApproval
        locked.claim = WithdrawalClaim.REJECT
        locked.last_touched_by = acting_user

    def record(locked: Withdrawal) -> None:
        staff_trail.record_staff_action(
            actor=acting_user, action=WITHDRAWAL_REJECT, target=locked,
            before={"status": WithdrawalStatus.AWAITING_APPROVAL}, after={"status": locked.status}, reason=reason,
        )  # fmt: skip

    withdrawal = Withdrawal.objects.select_related("provider").get(pk=withdrawal_id)
    return _return_withdrawal(withdrawal, claim, reason=reason, record=record)


def _return_withdrawal(
    withdrawal: Withdrawal, claim: Callable[[Withdrawal], None], *, reason: str,
    record: Callable[[Withdrawal], None] | None = None,
) -> Withdrawal:  # fmt: skip
    """Claim (decide), return the money (move), then `cancelled` (finish): the module's three
    parts for a cancellation or a rejection."""
    with transaction.atomic():
        locked = locks.lock_withdrawal(withdrawal.pk)
        claim(locked)
        locked.save(update_fields=["claim", "last_touched_by", "updated_at"])
    wallet.return_withdrawal(
        player_id=locked.player_id, currency=locked.currency_id, amount=locked.amount,
        ref=_withdrawal_ref(locked, "returned"),
    )  # fmt: skip
    with transaction.atomic():
        locked = locks.lock_withdrawal(withdrawal.pk)
        if locked.status == WithdrawalStatus.AWAITING_APPROVAL:
            locked.status, locked.claim, locked.reason = WithdrawalStatus.CANCELLED, WithdrawalClaim.NONE, reason
            locked.save(update_fields=["status", "claim", "reason", "updated_at"])
            if record is not None:
                record(locked)
    return locked


def approve_withdrawal(*, withdrawal_id: int, acting_user: User) -> Withdrawal:
    """Staff's approval: `approved`, a staff action in the trail, and the PSP asked to pay it
    after commit. Four eyes: whoever requested or last touched it (or the player themself)
    cannot; raises FourEyesRequired, WithdrawalNotAwaitingApproval."""
    with transaction.atomic():
        withdrawal = locks.lock_withdrawal(withdrawal_id)
        if withdrawal.status != WithdrawalStatus.AWAITING_APPROVAL or withdrawal.claim:
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
    Raises only what is not the event's fault (the database, the wallet): the record then stays
    `pending` and the PSP's retry finishes it."""
    record = _record_delivery(provider, event)
    if record is None:
        return WebhookVerdict.DUPLICATE
    handler = _HANDLERS[event.type]
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


def _in_parts(
    record: WebhookEvent, event: Event, provider: PaymentProvider,
    decide: Callable[[WebhookEvent], tuple[str, str] | None],
    move: Callable[[], None],
    finish: Callable[[WebhookEvent], tuple[str, str]],
) -> str:  # fmt: skip
    """The module's three parts for one event: `decide` (record locked; a (verdict, reason) ends
    it there, None goes on), `move`, `finish` (record locked; returns the verdict and reason).
    A racing delivery that decided first makes this one a `duplicate`."""
    try:
        with transaction.atomic():
            locked = _lock_pending(record)
            decided = decide(locked)
            if decided is not None:
                _decide(locked, *decided)
                return decided[0]
        move()
        with transaction.atomic():
            locked = _lock_pending(record)
            verdict, reason = finish(locked)
            _decide(locked, verdict, reason)
            return verdict
    except _AlreadyDecided:
        _record_duplicate(provider, event, record)
        return WebhookVerdict.DUPLICATE


def _deposit_of(provider: PaymentProvider, reference: str) -> DepositIntent | None:
    """The deposit `reference` names, if it is this provider's (another PSP's events never touch it)."""
    return DepositIntent.objects.filter(public_id=reference, provider=provider).first()


def _unknown(record: WebhookEvent, what: str) -> str:
    with transaction.atomic():
        try:
            locked = _lock_pending(record)
        except _AlreadyDecided:
            return WebhookVerdict.DUPLICATE
        _decide(
            locked, WebhookVerdict.IGNORED, f"unknown reference: no {what} of this provider is {record.reference!r}"
        )
    return WebhookVerdict.IGNORED


def _deposit_succeeded(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, "deposit")

    def decide(_: WebhookEvent) -> tuple[str, str] | None:
        locked = locks.lock_deposit(intent.pk)
        if locked.status in CREDITED:
            return WebhookVerdict.IGNORED, f"already credited (deposit {locked.status})"
        if event.currency != locked.currency_id:
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
        return None

    conflict: list[str] = []

    def move() -> None:
        # Never refused for player protection: the PSP took the player's money, so it is theirs.
        try:
            wallet.credit(
                player_id=intent.player_id, currency=intent.currency_id, amount=event.amount,
                kind=TransactionKind.DEPOSIT, ref=_deposit_ref(intent, event.amount),
                counter=clearing_code(provider.code),
            )  # fmt: skip
        except wallet_errors.DuplicateTransaction:
            # Another success event of this deposit credited another amount first.
            conflict.append("credited already with another amount, by another event")

    def finish(_: WebhookEvent) -> tuple[str, str]:
        locked = locks.lock_deposit(intent.pk)
        if locked.status in CREDITED:
            return WebhookVerdict.IGNORED, f"already credited (deposit {locked.status})"
        if conflict:
            # That event's own delivery (or its retry) records the deposit as succeeded.
            return WebhookVerdict.IGNORED, conflict[0]
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
        locked.save()
        return WebhookVerdict.APPLIED, reason

    return _in_parts(record, event, provider, decide, move, finish)


def _deposit_failed(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, "deposit")

    def decide(_: WebhookEvent) -> tuple[str, str]:
        locked = locks.lock_deposit(intent.pk)
        if locked.status != DepositStatus.PENDING:
            return WebhookVerdict.IGNORED, f"the deposit is {locked.status}: a failure changes nothing"
        locked.status = DepositStatus.FAILED
        locked.save(update_fields=["status", "updated_at"])
        return WebhookVerdict.APPLIED, "the deposit failed"

    return _in_parts(record, event, provider, decide, lambda: None, lambda _: ("", ""))


def _deposit_reversed(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    intent = _deposit_of(provider, event.reference)
    if intent is None:
        return _unknown(record, "deposit")
    chargeback = event.type == EventType.DEPOSIT_CHARGEBACK
    status = DepositStatus.CHARGED_BACK if chargeback else DepositStatus.REFUNDED
    claimed: list[DepositIntent] = []

    def decide(_: WebhookEvent) -> tuple[str, str] | None:
        locked = locks.lock_deposit(intent.pk)
        if locked.reversal_event and locked.reversal_event != event.event_id:
            return WebhookVerdict.IGNORED, f"the deposit was already taken back (event {locked.reversal_event})"
        if locked.status != DepositStatus.SUCCEEDED and not locked.reversal_event:
            return WebhookVerdict.IGNORED, f"the deposit is {locked.status}: nothing was credited to take back"
        locked.reversal_event = event.event_id
        locked.save(update_fields=["reversal_event", "updated_at"])
        claimed.append(locked)
        return None

    def move() -> None:
        locked = claimed[0]
        wallet.reverse_deposit(
            player_id=locked.player_id, currency=locked.currency_id, amount=locked.credited_amount,
            ref=_reversal_ref(locked), counter=clearing_code(provider.code),
            kind=TransactionKind.CHARGEBACK if chargeback else TransactionKind.REFUND,
        )  # fmt: skip

    def finish(_: WebhookEvent) -> tuple[str, str]:
        locked = locks.lock_deposit(intent.pk)
        if locked.status != DepositStatus.SUCCEEDED:
            return WebhookVerdict.IGNORED, f"the deposit is already {locked.status}"
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        what = "charged back: the account is locked" if chargeback else "refunded"
        return WebhookVerdict.APPLIED, f"{locked.credited_amount} {locked.currency_id} taken back, {what}"

    return _in_parts(record, event, provider, decide, move, finish)


def _payout(record: WebhookEvent, provider: PaymentProvider, event: Event) -> str:
    withdrawal = Withdrawal.objects.filter(public_id=event.reference, provider=provider).first()
    if withdrawal is None:
        return _unknown(record, "withdrawal")
    succeeded = event.type == EventType.PAYOUT_SUCCEEDED

    def decide(_: WebhookEvent) -> tuple[str, str] | None:
        locked = locks.lock_withdrawal(withdrawal.pk)
        if locked.claim == WithdrawalClaim.PAYOUT and locked.claim_event == event.event_id:
            return None  # this event's payout, interrupted: finish it
        if locked.status in (WithdrawalStatus.PAID, WithdrawalStatus.FAILED):
            return WebhookVerdict.IGNORED, f"the withdrawal is already {locked.status}"
        if locked.claim == WithdrawalClaim.PAYOUT:
            return WebhookVerdict.IGNORED, f"the payout's outcome is already being applied (event {locked.claim_event})"
        if locked.status != WithdrawalStatus.APPROVED or locked.claim:
            return WebhookVerdict.IGNORED, f"the withdrawal is {locked.status}, not approved"
        locked.claim, locked.claim_event = WithdrawalClaim.PAYOUT, event.event_id
        locked.save(update_fields=["claim", "claim_event", "updated_at"])
        return None

    def move() -> None:
        if succeeded:
            wallet.pay_withdrawal(
                player_id=withdrawal.player_id, currency=withdrawal.currency_id, amount=withdrawal.amount,
                ref=_withdrawal_ref(withdrawal, "paid"), counter=clearing_code(provider.code),
            )  # fmt: skip
        else:
            wallet.return_withdrawal(
                player_id=withdrawal.player_id, currency=withdrawal.currency_id, amount=withdrawal.amount,
                ref=_withdrawal_ref(withdrawal, "returned"),
            )  # fmt: skip

    def finish(_: WebhookEvent) -> tuple[str, str]:
        locked = locks.lock_withdrawal(withdrawal.pk)
        if locked.status != WithdrawalStatus.APPROVED:
            return WebhookVerdict.IGNORED, f"the withdrawal is already {locked.status}"
        locked.status = WithdrawalStatus.PAID if succeeded else WithdrawalStatus.FAILED
        locked.claim = WithdrawalClaim.NONE
        if not succeeded:
            locked.reason = f"the PSP could not pay it (event {event.event_id})"
        locked.save(update_fields=["status", "claim", "reason", "updated_at"])
        what = "paid" if succeeded else "failed: the money is back in the player's cash"
        return WebhookVerdict.APPLIED, f"{locked.amount} {locked.currency_id} {what}"

    return _in_parts(record, event, provider, decide, move, finish)


_HANDLERS = {
    EventType.DEPOSIT_SUCCEEDED: _deposit_succeeded,
    EventType.DEPOSIT_FAILED: _deposit_failed,
    EventType.DEPOSIT_REFUNDED: _deposit_reversed,
    EventType.DEPOSIT_CHARGEBACK: _deposit_reversed,
    EventType.PAYOUT_SUCCEEDED: _payout,
    EventType.PAYOUT_FAILED: _payout,
}
