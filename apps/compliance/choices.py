from django.db import models


class LimitKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit (gross)"
    LOSS = "loss", "Loss (net of wins)"
    WAGER = "wager", "Wager (turnover)"
    SESSION = "session", "Session time (minutes)"


# The limits a stake counts against; a deposit limit is the cashier's alone (gate.assert_may_deposit).
STAKE_LIMIT_KINDS = (LimitKind.WAGER, LimitKind.LOSS, LimitKind.SESSION)


class LimitPeriod(models.TextChoices):
    """Rolling windows of the money limits; a session limit has none (stored as "")."""

    DAY = "24h", "24 hours"
    WEEK = "7d", "7 days"
    MONTH = "30d", "30 days"


class ExclusionKind(models.TextChoices):
    TIME_OUT = "time_out", "Time-out"
    SELF_EXCLUSION = "self_exclusion", "Self-exclusion"


class SelfExclusionPeriod(models.TextChoices):
    SIX_MONTHS = "6m", "6 months"
    ONE_YEAR = "1y", "1 year"
    FIVE_YEARS = "5y", "5 years"


class LimitChangeStatus(models.TextChoices):
    """What an audit row records: a change applied at once, queued behind the cooling-off, or the
    queued change taking effect (its `created_at` is when it was materialised, `effective_at`
    when it took effect)."""

    APPLIED = "applied", "Applied at once"
    QUEUED = "queued", "Queued (cooling-off)"
    CONFIRMED = "confirmed", "Confirmed by the player"
    MATURED = "matured", "Took effect after the cooling-off"
    CANCELLED = "cancelled", "Pending change cancelled"


class RuleType(models.TextChoices):
    """The behaviour rules the engine evaluates on the wallet's events (docs/rules.md)."""

    DEPOSIT_THRESHOLD = "deposit_threshold", "Deposit threshold (sum within a window)"
    DEPOSIT_VELOCITY = "deposit_velocity", "Deposit velocity (count within a window)"
    MICRO_BET = "micro_bet", "Micro-bet abuse (tiny stakes within a window)"
    FAILED_DEPOSITS = "failed_deposits", "Failed deposits in a row (card testing)"
    STRUCTURING = "structuring", "Structuring (deposits just below a threshold)"
    RAPID_CYCLING = "rapid_cycling", "Rapid cycling (withdrawal after little wagering)"
    LOSS_CHASING = "loss_chasing", "Loss chasing (rising deposits after losses)"
    NIGHT_PLAY = "night_play", "Night play (a session mostly through the night)"
    SHARED_IDENTITY = "shared_identity", "Shared identity (an instrument, device or address shared)"
    GAME_RTP_DRIFT = "game_rtp_drift", "Game RTP drift (a game's return outside its expected band)"


class MarkKind(models.TextChoices):
    """What an identity mark identifies (docs/rules.md, "Shared identity")."""

    INSTRUMENT = "instrument", "Payment instrument"
    DEVICE = "device", "Device"
    ADDRESS = "address", "Network address"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RuleAction(models.TextChoices):
    """What a firing rule does, each once per firing."""

    ALERT = "alert", "Raise an alert for staff"
    NOTICE = "notice", "Send the player a notice"
    LIMIT = "limit", "Apply a limit (the rule's limit parameter)"
    REQUIRE_KYC = "require_kyc", "Require KYC (deposits and bets wait for verification)"
    LOCK = "lock", "Lock the account"
    FREEZE = "freeze", "Freeze the account (no bets, deposits or withdrawals until staff review)"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"


class CaseStatus(models.TextChoices):
    """A case is opened, worked on (once assigned) and resolved; a resolved case is final."""

    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    RESOLVED = "resolved", "Resolved"


class CaseOutcome(models.TextChoices):
    """How a resolved case ended (docs/rules.md, "Cases")."""

    NO_ACTION = "no_action", "No action needed"
    SAR_FILED = "sar_filed", "Suspicious-activity report filed"
    ACCOUNT_CLOSED = "account_closed", "Account closed"
    OTHER = "other", "Other (see the note)"
