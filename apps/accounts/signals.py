"""Signals of the accounts app, for the apps that must act with a change of a player.

`player_standing_changed` is a plain Django signal sent with `.send()` inside the transaction that
made the change (not a domain event through the outbox): a receiver that raises rolls the change
back, so what the receivers keep in step with the player commits with it or not at all.
`player_logged_in` and `player_registered` are domain events: they follow the login or the
registration, after commit.
"""

from django.dispatch import Signal

from apps.common.events import DomainSignal

# player_id: int, changed: frozenset of field names ("status", "kyc_status"). Sent by a change of
# the player's standing in the back office, inside its transaction; compliance refreshes whether
# the money path must read the player's protection state.
player_standing_changed = Signal()

# user_id: int, key_hashes: list of the revoked bearer tokens' hashes (`AuthToken.key_hash`),
# sockets_closed_by_caller: bool (the caller closes every socket of the player itself, saying why).
# Sent by `services.revoke_token` and `revoke_all_tokens` inside the transaction that deletes
# them; realtime closes the sockets those tokens opened (through their tickets) once it commits.
tokens_revoked = Signal()

# A domain event (outbox, after commit), sent with the `PlayerLogin` it reports, in its
# transaction. player_id: str, login_id: str, at: ISO-8601, address: str (the client address as
# the login throttle computes it, or "unknown"), network: str (the throttle's unit of it: the IPv4
# address, an IPv6 address's /64; "" when unknown), device_hash: str (the device id's keyed hash;
# "" when none was given). Compliance indexes the device and network (docs/rules.md).
player_logged_in = DomainSignal("accounts.player_logged_in")

# A domain event (outbox, after commit), sent by `services.register_player` in the transaction that
# creates the player, so every way a player is created (the API's and the site's registration, the
# sandbox's `create_player`) sends it exactly when the player exists. player_id: str, brand: str
# (the brand's code), country: str (ISO 3166-1 alpha-2), registered_at: ISO-8601. Bonuses grant
# their registration campaigns on it (docs/bonuses.md).
player_registered = DomainSignal("accounts.player_registered")
