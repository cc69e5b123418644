"""Domain events of the cashier, sent through `send_after_commit` (recorded in the outbox in the
deciding transaction, dispatched after its commit). Payloads are JSON values only.

A deposit that succeeds is the wallet's `transaction_posted` (kind `deposit`); one that fails
moves no money, so the wallet never hears of it: `deposit_failed` says so, for the behaviour rules
that watch failures (compliance receives it: card testing). `deposit_instrument_seen` names the
instrument a deposit was paid with (the shared-identity rule)."""

from apps.common.events import DomainSignal

# player_id: str, deposit_id: str (the deposit's public id), amount: int (minor units, as the
# player asked), currency: str, created_at: ISO-8601 (when the failure was decided).
deposit_failed = DomainSignal("payments.deposit_failed")

# player_id: str, deposit_id: str (the deposit's public id), fingerprint: str (the PSP's keyed
# hash of the instrument, never its number), at: ISO-8601. Sent with the credit of a deposit
# whose PSP named the instrument, in the transaction that stores it on the deposit; compliance
# indexes it (docs/rules.md, "Shared identity").
deposit_instrument_seen = DomainSignal("payments.deposit_instrument_seen")

# player_id: str, withdrawal_id: str (the withdrawal's public id), amount: int (minor units),
# currency: str, approved_at: ISO-8601. Staff approved a withdrawal waiting in the queue (it moves
# no money; its reservation and payout are the wallet's events): the back office's live feed shows it.
withdrawal_approved = DomainSignal("payments.withdrawal_approved")
