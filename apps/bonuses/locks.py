"""The bonuses app's row locks: the only module here that issues SELECT … FOR UPDATE.

A campaign's save locks its row (by its unique code), so two staff saves of one campaign run one
after the other and each records the change from what the other committed. One row per
statement, so no two of these locks can be taken in different orders.
"""

from __future__ import annotations

from apps.bonuses.models import Campaign


def lock_campaign(code: str) -> Campaign | None:
    """The campaign `code` (any case), locked until the caller's transaction ends; None if none."""
    return Campaign.objects.select_for_update().filter(code__iexact=code).first()


def lock_campaign_for_grant(campaign_id: int) -> Campaign:
    """The campaign by key, locked until the caller's transaction ends: grants of one campaign
    check its budget one after the other. Taken inside the wallet's transaction, after the
    player's accounts (the only order in which a grant takes the two)."""
    return Campaign.objects.select_for_update().get(pk=campaign_id)
