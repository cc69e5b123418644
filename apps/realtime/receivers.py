"""Wallet events become frames for the player and for the back-office feed."""

from __future__ import annotations

from django.dispatch import receiver

from apps.realtime import protocol
from apps.realtime.groups import BACKOFFICE_FEED, player_group
from apps.realtime.push import push
from apps.wallet.signals import transaction_posted


@receiver(transaction_posted, dispatch_uid="realtime.push_wallet_updated")
def push_wallet_updated(sender, event_id: int | None = None, **event) -> None:
    """After commit: one `wallet.updated` frame to the player's group, and the same frame (with
    the player's id) to the back-office feed. Built from the event alone: no query per frame.
    Idempotent without a receipt: a second delivery (the outbox sweeper after a crash) sends a
    frame whose version the client already holds, which the protocol says it ignores."""
    frame = protocol.wallet_updated(event)
    push(
        [
            (player_group(event["player_id"]), {"type": "wallet.updated", "frame": frame}),
            (BACKOFFICE_FEED, {"type": "wallet.updated", "frame": {**frame, "player_id": event["player_id"]}}),
        ]
    )
