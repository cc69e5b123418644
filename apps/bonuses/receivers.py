"""The bonuses app's receivers: the events that grant campaigns, after they commit.

- a deposit grants the campaigns it qualifies for (`services.grant_for_deposit`);
- a bet grants the wagering-threshold campaigns whose threshold the player's stakes in the period
  reach (`services.grant_for_wagering`; nothing at all while none is open: `triggers`);
- a registration grants the registration campaigns (`services.grant_for_registration`).

Not wrapped in `once_per_event`: a grant is a durable wallet transaction of its own, which cannot
run inside a receipt's transaction. Each is idempotent without one: its wallet external id is
derived from its trigger (the deposit's transaction id, the player and the period, the player's
registration: `services.grant_key`), so a re-delivered event finds the grant already made and
moves nothing.

A campaign saved in this process makes the bet path's cache forget the campaigns at once.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.signals import player_registered
from apps.bonuses import services, triggers
from apps.bonuses.models import Campaign
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


@receiver(transaction_posted, dispatch_uid="bonuses.grant_on_wagering")
def grant_on_wagering(sender, kind: str, player_id: str, currency: str, created_at: str, **event) -> None:
    """After a bet commits: the threshold campaigns its stakes reach. Other kinds cost nothing."""
    if kind != TransactionKind.BET:
        return
    services.grant_for_wagering(player_id=int(player_id), currency=currency, bet_at=created_at)


@receiver(player_registered, dispatch_uid="bonuses.grant_on_registration")
def grant_on_registration(sender, player_id: str, **event) -> None:
    """After a registration commits: the registration campaigns."""
    services.grant_for_registration(player_id=int(player_id))


@receiver(post_save, sender=Campaign, dispatch_uid="bonuses.forget_saved_campaign")
def forget_saved_campaign(sender, **kwargs) -> None:
    """A campaign saved: the bet path reads the campaigns again, at once and again after commit
    (a bet in between may have cached the campaigns as they were)."""
    triggers.forget()
    transaction.on_commit(triggers.forget)
