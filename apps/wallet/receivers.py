"""The wallet's receiver of its own event: counting committed transactions for the metrics."""

from __future__ import annotations

from django.dispatch import receiver

from apps.common import metrics
from apps.wallet.choices import TransactionKind
from apps.wallet.signals import transaction_posted

# A counter per kind made once: one increment per event, no label look-up, and every kind shows
# from the start at 0 (a rate over a series that does not exist yet is "no data", not 0).
_COUNTERS = {kind: metrics.WALLET_TRANSACTIONS.labels(kind=kind) for kind in TransactionKind.values}


@receiver(transaction_posted, dispatch_uid="wallet.count_transaction")
def count_transaction(sender, kind: str, **event) -> None:
    """One more committed transaction of its kind (at kind=bet: the bets per second). After
    commit, outside the money transaction; no receipt: an event the sweeper delivers again because
    another receiver failed is counted twice, which a rate shrugs off."""
    counter = _COUNTERS.get(kind)
    (counter if counter is not None else metrics.WALLET_TRANSACTIONS.labels(kind=kind)).inc()
