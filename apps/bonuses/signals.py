"""Domain events of the bonuses app (through the outbox, after commit).

`bonus_granted`: player_id: str, bonus_id: str (public), campaign: str (its code), amount: int
(minor units), currency: str, granted_at: ISO-8601; sent in the grant's money transaction, so
it follows the same `transaction_posted` (the player's `wallet.updated`). The real-time app
turns it into a `bonus_granted` notice.

`bonus_ended`: player_id: str, bonus_id: str, campaign: str, status: str (`converted`,
`expired`, `forfeited` or `cancelled`), amount: int (what the end moved: to cash for a
conversion, back to the pool otherwise), currency: str, ended_at: ISO-8601, reason: str (a
staff cancellation's); sent in the end's money transaction, beside its `wallet.updated`. The
real-time app turns it into a `bonus_converted`, `bonus_expired` or `bonus_forfeited` notice (a
cancellation is a forfeiture the player did not cause: `data.status` says which).
"""

from apps.common.events import DomainSignal

bonus_granted = DomainSignal("bonuses.bonus_granted")
bonus_ended = DomainSignal("bonuses.bonus_ended")
