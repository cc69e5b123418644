"""The only module of payments that takes row locks.

A deposit's or a withdrawal's status changes only under `SELECT … FOR UPDATE` of its own row, so
two events (or an event and a staff action) racing for one payment queue, and the second sees
what the first decided.

One order everywhere, so nothing can deadlock: the player's ledger accounts (taken by the wallet,
first in every money transaction), then the webhook record, then the payment. A money step is a
wallet service call whose `commit_with` takes the record's and the payment's locks after the
wallet took the player's; a transaction of payments alone (an event that moves no money, a staff
approval, a verdict written after a refusal) takes the record, then the payment, and never calls
the wallet while it holds them (it cannot: the wallet's services are durable transactions, which
refuse to run inside another). So a payments lock is never held while waiting for a ledger lock.
A player's deposit starts queue on an advisory lock of their own, taken before anything else.

The one payments transaction that writes the player row, a chargeback recorded before its
deposit's success (compliance locks the account in it), writes it after the record's lock and
before the deposit's, as a success that takes a chargeback back does (its wallet transaction
writes the player row, then its `commit_with` locks the record and the deposit). A deposit's lock
takes its own row only: the player row is never locked after a deposit.
"""

from __future__ import annotations

from django.db import connection

from apps.payments.models import DepositIntent, WebhookEvent, Withdrawal


def lock_deposit(pk: int) -> DepositIntent:
    """The deposit, locked until the end of the caller's transaction; its provider and player are
    read with it, not locked. A lock on the player row too would take it after the deposit's,
    while a success that takes a chargeback back writes the player row (the account's lock)
    before it locks the deposit: the two orders could deadlock."""
    return DepositIntent.objects.select_for_update(of=("self",)).select_related("provider", "player").get(pk=pk)


def lock_withdrawal(pk: int) -> Withdrawal:
    """The withdrawal, locked until the end of the caller's transaction."""
    return (
        Withdrawal.objects.select_for_update()
        .select_related("provider", "player__brand", "player__currency")
        .get(pk=pk)
    )


def lock_webhook_event(pk: int) -> WebhookEvent:
    return WebhookEvent.objects.select_for_update().get(pk=pk)


# A namespace of PostgreSQL advisory locks of this app (the first key of the two-key form), so
# that no other lock of the database shares its numbers.
_DEPOSIT_STARTS = 0x7061_7900  # "pay\0"


def lock_player_deposit_starts(player_id: int) -> None:
    """Serialise the player's deposit starts until the end of the caller's transaction: the
    deposits already started count against the player's limits with a new one, so two starts must
    not both read the same. A transaction-level advisory lock on the player's id (not a row: the
    player row is accounts'). SQLite (embedded mode) serialises writers by its IMMEDIATE
    transactions instead."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_DEPOSIT_STARTS, player_id])
