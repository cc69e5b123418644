"""Domain events of the wallet.

`transaction_posted` is sent after commit (through apps.common.events.send_after_commit, so it
is also in the outbox) for every transaction that moved a player's money, with the state the
real-time frame needs: player_id, brand_id (the player's brand's primary key), transaction_id,
kind, amount, version, balance, cash, bonus, currency, game_id, created_at; and the outbox's
`event_id`. Receivers must not assume they run in the money transaction (it has committed) and
must be idempotent per event id: after a crash the sweeper may deliver an event a second time.
"""

from apps.common.events import DomainSignal

transaction_posted = DomainSignal("wallet.transaction_posted")
