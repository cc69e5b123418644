"""Signals of the accounts app, for the apps that must act with a change of a player.

These are plain Django signals sent with `.send()` inside the transaction that made the change
(not domain events through the outbox): a receiver that raises rolls the change back, so what
the receivers keep in step with the player commits with it or not at all.
"""

from django.dispatch import Signal

# player_id: int, changed: frozenset of field names ("status", "kyc_status"). Sent by a change of
# the player's standing in the back office, inside its transaction; compliance refreshes whether
# the money path must read the player's protection state.
player_standing_changed = Signal()
