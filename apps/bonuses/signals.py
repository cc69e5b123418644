"""Domain events of the bonuses app (through the outbox, after commit).

`bonus_granted`: player_id: str, bonus_id: str (public), campaign: str (its code), amount: int
(minor units), currency: str, granted_at: ISO-8601; sent in the grant's money transaction, so
it follows the same `transaction_posted` (the player's `wallet.updated`). The real-time app
turns it into a `bonus_granted` notice.
"""

from apps.common.events import DomainSignal

bonus_granted = DomainSignal("bonuses.bonus_granted")
