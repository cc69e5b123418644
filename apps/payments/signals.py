"""Domain events of the cashier, sent through `send_after_commit` (recorded in the outbox in the
deciding transaction, dispatched after its commit). Payloads are JSON values only."""

from apps.common.events import DomainSignal

# player_id: str, deposit_id: str (the deposit's public id), fingerprint: str (the PSP's keyed
# hash of the instrument, never its number), at: ISO-8601. Sent with the credit of a deposit
# whose PSP named the instrument, in the transaction that stores it on the deposit; compliance
# indexes it (docs/rules.md, "Shared identity").
deposit_instrument_seen = DomainSignal("payments.deposit_instrument_seen")
