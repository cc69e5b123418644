"""Domain events of the wallet.

`transaction_posted` is sent after commit (through apps.common.events.send_after_commit, so it
is also in the outbox) for every transaction that moved a player's money, with the state the
real-time frame needs: player_id, brand_id (the player's brand's primary key), transaction_id,
kind, amount, version, balance, cash, bonus, currency, game_id, created_at; and the outbox's
`event_id`. Receivers must not assume they run in the money transaction (it has committed) and
must be idempotent per event id: after a crash the sweeper may deliver an event a second time.
"""

import datetime as dt

from apps.common.events import DomainSignal
from apps.common.timestamps import iso_utc

transaction_posted = DomainSignal("wallet.transaction_posted")


def posted_payload(
    *, player_id: int, brand_id: int, kind: str, amount: int, version: int, balance: int, cash: int, bonus: int,
    currency: str, game_id: str, created_at: dt.datetime,
) -> dict:  # fmt: skip
    """`transaction_posted`'s payload but for `transaction_id`, which the writer adds with the new
    row's id. The one shape both of the wallet's bet paths send (services._event, fast_bet)."""
    return {
        "player_id": str(player_id),
        "brand_id": brand_id,  # the back-office feed's brand filter, without a query
        "kind": kind,
        "amount": amount,
        "version": version,
        "balance": balance,
        "cash": cash,
        "bonus": bonus,
        "currency": currency,
        "game_id": game_id,
        "created_at": iso_utc(created_at),
    }
