"""The kinds, triggers and states of the bonuses app."""

from django.db import models


class CampaignKind(models.TextChoices):
    DEPOSIT_MATCH = "deposit_match", "Deposit match"
    FIXED = "fixed", "Fixed bonus"
    FREE_BET = "free_bet", "Free-bet credit"
    CASHBACK = "cashback", "Cash-back on net losses"


class Trigger(models.TextChoices):
    REGISTRATION = "registration", "Registration"
    FIRST_DEPOSIT = "first_deposit", "First deposit"
    ANY_DEPOSIT = "any_deposit", "Any deposit"
    WAGERING_THRESHOLD = "wagering_threshold", "Wagering threshold in a period"
    STAFF_GRANT = "staff_grant", "Staff grant"
    # A cash-back campaign's: each of its periods pays at its end (services.grant_cashback).
    PERIOD_END = "period_end", "End of each cash-back period"


# The triggers a deposit sets off: they take a minimum deposit.
DEPOSIT_TRIGGERS = (Trigger.FIRST_DEPOSIT, Trigger.ANY_DEPOSIT)


class WageringBase(models.TextChoices):
    BONUS = "bonus", "Bonus"
    BONUS_AND_DEPOSIT = "bonus_and_deposit", "Bonus and deposit"


class BonusStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CONVERTED = "converted", "Converted"
    EXPIRED = "expired", "Expired"
    FORFEITED = "forfeited", "Forfeited"
    CANCELLED = "cancelled", "Cancelled"
