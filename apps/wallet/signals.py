"""Domain events of the wallet.

`transaction_posted` is sent after commit (through apps.common.events.send_after_commit) for
every transaction that moved a player's money, with the state the real-time frame needs:
player_id, transaction_id, kind, amount, version, balance, cash, bonus, currency, game_id,
created_at. Receivers must not assume they run in the money transaction; it has committed.
"""

from django.dispatch import Signal

transaction_posted = Signal()
