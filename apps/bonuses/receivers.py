"""The bonuses app's receivers: a deposit grants the campaigns it qualifies for, on the event.

Not wrapped in `once_per_event`: a grant is a durable wallet transaction of its own, which cannot
run inside a receipt's transaction. It is idempotent without one: its wallet external id is
derived from the deposit's transaction id (`services.grant_key`), so a re-delivered event finds
the grant already made and moves nothing.
"""

from __future__ import annotations

from django.dispatch import receiver

from apps.bonuses import services
from apps.wallet.choices import TransactionKind
from apps.wallet.signals import transaction_posted


@receiver(transaction_posted, dispatch_uid="bonuses.grant_on_deposit")
def grant_on_deposit(sender, kind: str, player_id: str, transaction_id: str, amount: int, currency: str,
                     event_id: int | None = None, **event) -> None:  # fmt: skip
    """After a deposit commits: its deposit-triggered campaigns. Other kinds cost nothing."""
    if kind != TransactionKind.DEPOSIT:
        return
    services.grant_for_deposit(player_id=int(player_id), transaction_id=transaction_id, amount=amount,
                               currency=currency)  # fmt: skip
