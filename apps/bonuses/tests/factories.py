"""Bonuses test data, built through the services the product uses."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from apps.accounts.choices import BonusState
from apps.accounts.models import Currency, Player
from apps.accounts.services import set_bonus_state
from apps.bonuses import services
from apps.bonuses.models import Bonus, Campaign
from apps.common.idempotency import ExternalRef
from apps.wallet.choices import BONUS_POOL, TransactionKind
from apps.wallet.services import credit
from apps.wallet.tests.factories import system_balance

# A valid campaign of each kind (the fields it needs and nothing it does not).
KINDS = {
    "deposit_match": {"kind": "deposit_match", "match_percent": 100, "cap": 10_000, "trigger": "any_deposit",
                      "min_deposit": 1_000},
    "fixed": {"kind": "fixed", "amount": 500, "trigger": "registration", "requires_opt_in": False},
    "free_bet": {"kind": "free_bet", "amount": 200, "trigger": "wagering_threshold", "wagering_threshold": 50_000,
                 "wagering_period_days": 7},
    "cashback": {"kind": "cashback", "cashback_percent": 10, "cashback_period_days": 7, "trigger": "period_end",
                 "starts_at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC)},
}  # fmt: skip


def campaign(code: str = "SPRING", *, kind: str = "deposit_match", acting_user=None, weights=(), **fields) -> Campaign:
    """An enabled opt-in campaign of `kind` in EUR (a registration campaign takes no opt-in),
    saved through `save_campaign`."""
    euro = Currency.objects.get(code="EUR")
    values = {"name": f"{code} campaign", "enabled": True, "requires_opt_in": True, "currency": euro,
              "wagering_multiple": 10, **KINDS[kind], **fields}  # fmt: skip
    return services.save_campaign(code=code, acting_user=acting_user, reason="test", weights=weights, **values)


def fund_bonus(player: Player, amount: int) -> None:
    """The money a grant of `amount` credits (bonus pool to the player's bonus account), for a
    `bonus_of` row; the player's bonus state as a grant sets it."""
    ref = ExternalRef("test", f"fund:{player.pk}:{amount}:{uuid.uuid4().hex}", "f")
    credit(player_id=player.pk, currency=player.currency_id, amount=amount, kind=TransactionKind.BONUS, to_bonus=True,
           counter=BONUS_POOL, ref=ref)  # fmt: skip
    set_bonus_state(player_id=player.pk, state=BonusState.ACTIVE)


def bonus_of(player: Player, of: Campaign, amount: int = 1_000, **fields) -> Bonus:
    """A bonus row as a grant writes it, without the money (the list and the admin read these;
    `fund_bonus` adds the money)."""
    now = timezone.now()
    values = {"status": "active", "amount": amount, "remaining": amount, "wagering_required": amount * 10,
              "granted_at": now, "expires_at": now + dt.timedelta(days=30), **fields}  # fmt: skip
    return Bonus.objects.create(player=player, campaign=of, currency_id=of.currency_id, **values)


def pool(currency: str = "EUR") -> int:
    """The bonus pool's balance in `currency` (a system account's is the sum of its entries)."""
    return system_balance(BONUS_POOL, currency)
