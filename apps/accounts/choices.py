from django.db import models


class PlayerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOCKED = "locked", "Locked"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


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
