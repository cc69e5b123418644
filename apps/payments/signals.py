"""Domain events of the cashier, sent through `send_after_commit` (recorded in the outbox in the
deciding transaction, dispatched after its commit). Payloads are JSON values only.

A deposit that succeeds is the wallet's `transaction_posted` (kind `deposit`); one that fails
moves no money, so the wallet never hears of it: this event says so, for the behaviour rules that
watch failures (compliance receives it: card testing)."""

from apps.common.events import DomainSignal

# player_id: str, deposit_id: str (the deposit's public id), amount: int (minor units, as the
# player asked), currency: str, created_at: ISO-8601 (when the failure was decided).
deposit_failed = DomainSignal("payments.deposit_failed")
