from django.db import models


class AccountKind(models.TextChoices):
    CASH = "cash", "Player cash"
    BONUS = "bonus", "Player bonus"
    HOUSE = "house", "House (game results)"
    ADJUSTMENTS = "adjustments", "Operator adjustments"
    BONUS_POOL = "bonus_pool", "Bonus pool"
    CLEARING = "clearing", "Payment or provider clearing"


class TransactionKind(models.TextChoices):
    """The kinds the real-time contract names in `transaction.kind`."""

    BET = "bet", "Bet"
    WIN = "win", "Win"
    ROLLBACK = "rollback", "Rollback"
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    ADJUSTMENT = "adjustment", "Adjustment"
    BONUS = "bonus", "Bonus"


# System accounts by code; each exists once per currency and is created on first use.
HOUSE = "house"
ADJUSTMENTS = "adjustments"
BONUS_POOL = "bonus_pool"
SYSTEM_ACCOUNT_KINDS = {
    HOUSE: AccountKind.HOUSE,
    ADJUSTMENTS: AccountKind.ADJUSTMENTS,
    BONUS_POOL: AccountKind.BONUS_POOL,
}


def clearing_code(party: str) -> str:
    """The clearing account of a payment provider or other counterparty."""
    return f"clearing:{party}"
