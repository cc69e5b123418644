from django.db import models


class PlayerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOCKED = "locked", "Locked"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class BonusState(models.TextChoices):
    """What the player's bonus account holds, for the wallet's money path (set by bonuses): the
    wallet reads it with the accounts it locks, so a player who never had a bonus costs a bet no
    bonus query, and a win or refund that would credit bonus money after the bonus ended (its round
    was open when it ended) goes where the bonus's own money went."""

    NONE = "none", "No bonus"
    ACTIVE = "active", "An active bonus"
    # The last bonus converted: a late bonus share is cash, as the bonus's remaining money became.
    CONVERTED = "converted", "Last bonus converted"
    # The last bonus expired, was forfeited or cancelled: a late bonus share goes back to the pool.
    RETURNED = "returned", "Last bonus returned to the pool"


class KycStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class StaffRole(models.TextChoices):
    """The staff groups the data migration creates; `roles.ROLE_PERMISSIONS` says what each may do."""

    SUPPORT = "support", "Support"
    COMPLIANCE = "compliance", "Compliance"
    FINANCE = "finance", "Finance"
    ADMIN = "admin", "Admin"


class KycDocumentKind(models.TextChoices):
    PASSPORT = "passport", "Passport"
    ID_CARD = "id_card", "Identity card"
    DRIVING_LICENCE = "driving_licence", "Driving licence"
    PROOF_OF_ADDRESS = "proof_of_address", "Proof of address"
    OTHER = "other", "Other"


class StaffLoginOutcome(models.TextChoices):
    """How a staff sign-in attempt, or a staff session, ended (`StaffLogin`)."""

    SUCCESS = "success", "Signed in"
    # The username or password was wrong (or the account is inactive): Django refused it.
    BAD_PASSWORD = "bad_password", "Wrong username or password"
    # The password was right; the one-time code or recovery code was missing, wrong or throttled.
    BAD_OTP = "bad_otp", "Wrong one-time code"
    # Two-factor sign-in is required and the staff member has no enrolled authenticator.
    NO_DEVICE = "no_device", "No authenticator enrolled"
    # The password was right, but the account is not a staff account.
    NOT_STAFF = "not_staff", "Not a staff account"
    # The login throttle refused the attempt before the password was checked.
    LOCKED_OUT = "locked_out", "Locked out by the login throttle"
    # The login throttle's store did not answer, so the attempt was refused unchecked.
    THROTTLE_UNAVAILABLE = "throttle_unavailable", "Login throttle unavailable"
    IDLE_LOGOUT = "idle_logout", "Signed out after inactivity"
    LOGOUT = "logout", "Signed out"
