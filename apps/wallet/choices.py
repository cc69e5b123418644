from django.db import models


class AccountKind(models.TextChoices):
    CASH = "cash", "Player cash"
    BONUS = "bonus", "Player bonus"
    HOUSE = "house", "House (game results)"
    ADJUSTMENTS = "adjustments", "Operator adjustments"
    BONUS_POOL = "bonus_pool", "Bonus pool"
    CLEARING = "clearing", "Payment or provider clearing"
    # A player's money on its way out: reserved by a withdrawal request, not playable, until the
    # payout is confirmed (it leaves for the PSP's clearing account) or fails (back to cash).
    PENDING_WITHDRAWAL = "pending_withdrawal", "Player pending withdrawals"
    # What a player owes the operator (a refund or chargeback the cash did not cover). Its
    # `balance` is the amount owed, never negative: debit-normal, see `BALANCE_SIGN`.
    DEBT = "debt", "Player debt"
    # Stakes of sportsbook bets waiting out an in-play delay: taken from the player, not yet the
    # house's, until the bet is accepted (on to the house) or rejected (back to the player).
    PENDING_BETS = "pending_bets", "Bets held for an in-play delay"


class TransactionKind(models.TextChoices):
    """The kinds the real-time contract names in `transaction.kind`."""

    BET = "bet", "Bet"
    WIN = "win", "Win"
    ROLLBACK = "rollback", "Rollback"
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    ADJUSTMENT = "adjustment", "Adjustment"
    BONUS = "bonus", "Bonus"
    WITHDRAWAL_PAID = "withdrawal_paid", "Withdrawal paid"
    WITHDRAWAL_RETURNED = "withdrawal_returned", "Withdrawal returned"
    REFUND = "refund", "Deposit refunded"
    CHARGEBACK = "chargeback", "Chargeback"
    DEBT_REPAID = "debt_repaid", "Debt repaid"
    # A bonus's end: what is left of its money moves off the player's bonus account, to cash when
    # its wagering is met, back to the bonus pool otherwise.
    BONUS_CONVERTED = "bonus_converted", "Bonus converted"
    BONUS_EXPIRED = "bonus_expired", "Bonus expired"
    BONUS_FORFEITED = "bonus_forfeited", "Bonus forfeited"
    BONUS_CANCELLED = "bonus_cancelled", "Bonus cancelled"
    # A held stake accepted: it moves from the pending-bets account to the house. The player's
    # money does not move (the stake left the playable balance when the bet was taken).
    BET_ACCEPTED = "bet_accepted", "Held bet accepted"
    # Part of a win taken back because a later result lowered it (a sportsbook resettlement): from
    # cash, and what cash does not cover becomes the player's debt.
    RESETTLEMENT = "resettlement", "Win resettled down"


# The player's accounts, and those of them whose money can be played (the "balance" every API
# and frame shows).
PLAYER_KINDS = (AccountKind.CASH, AccountKind.BONUS, AccountKind.PENDING_WITHDRAWAL, AccountKind.DEBT)
PLAYABLE_KINDS = (AccountKind.CASH, AccountKind.BONUS)
# An account's stored balance is the sum of its entries times this sign. Entries follow one
# convention (positive: the operator owes the player more), so what the player owes is a sum of
# negative entries; the debt account stores it as a positive amount.
BALANCE_SIGN = {AccountKind.DEBT: -1}


# System accounts by code; each exists once per currency and is created on first use.
HOUSE = "house"
ADJUSTMENTS = "adjustments"
BONUS_POOL = "bonus_pool"
PENDING_BETS = "pending_bets"
SYSTEM_ACCOUNT_KINDS = {
    HOUSE: AccountKind.HOUSE,
    ADJUSTMENTS: AccountKind.ADJUSTMENTS,
    BONUS_POOL: AccountKind.BONUS_POOL,
    PENDING_BETS: AccountKind.PENDING_BETS,
}


def clearing_code(party: str) -> str:
    """The clearing account of a payment provider or other counterparty."""
    return f"clearing:{party}"


class AdjustmentReason(models.TextChoices):
    """Why staff adjust a balance: a fixed list, so the adjustments can be counted by cause; the
    free text beside it says what happened (docs/backoffice.md, "Adjustments and four eyes")."""

    GOODWILL = "goodwill", "Goodwill gesture"
    COMPENSATION = "compensation", "Compensation for a fault of ours (outage, game error)"
    CORRECTION = "correction", "Correction of a wrong movement"
    PAYMENT_RECONCILIATION = "payment_reconciliation", "Payment reconciliation (PSP statement differs)"
    CHARGEBACK_FEE = "chargeback_fee", "Chargeback fee passed on to the player"
    BONUS_CORRECTION = "bonus_correction", "Bonus correction"
    TEST = "test", "Test account funding"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting a second approver"
    APPROVED = "approved", "Approved and posted"
    REJECTED = "rejected", "Rejected"
