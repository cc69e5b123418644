"""Who is who: users (staff and players share one model), brands, currencies, player profiles.

A staff member is a `User` with `is_staff` and a role group; a player is a `User` with a
`Player` profile. Brand and currency are reference data that every money table points at.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

from apps.accounts.choices import BonusState, KycDocumentKind, KycStatus, PlayerStatus, StaffLoginOutcome


class User(AbstractUser):
    """The login identity, from the first migration so nothing ever has to swap it."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Currency(models.Model):
    """An ISO 4217 currency and its minor-unit exponent (EUR 2, JPY 0, BHD 3)."""

    code = models.CharField(primary_key=True, max_length=3)
    name = models.CharField(max_length=64)
    exponent = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)
    # A reference rate, kept by the operator, for thresholds stated in another currency (the KYC
    # threshold of a jurisdiction profile): never used to move money. Null: not known.
    units_per_eur = models.DecimalField(
        max_digits=18, decimal_places=6, null=True, blank=True, help_text="units of this currency one euro buys"
    )

    class Meta:
        verbose_name_plural = "currencies"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z]{3}$"), name="currency_code_iso_4217"),
            models.CheckConstraint(condition=models.Q(exponent__lte=4), name="currency_exponent_at_most_4"),
            models.CheckConstraint(condition=models.Q(units_per_eur__gt=0), name="currency_rate_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class Brand(models.Model):
    """One operator brand (a site); players belong to exactly one."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    # The regulator's numbers (cooling-off periods, KYC threshold ...); None: the default profile.
    jurisdiction = models.ForeignKey(
        "compliance.JurisdictionProfile", on_delete=models.PROTECT, null=True, blank=True, related_name="brands"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Player(models.Model):
    """A player's profile. The wallet, limits and bonuses all hang off this row."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="player")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="players")
    # Kept here as well as on the user because it is unique per brand, not globally.
    email = models.EmailField()
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    date_of_birth = models.DateField()
    status = models.CharField(max_length=16, choices=PlayerStatus.choices, default=PlayerStatus.ACTIVE)
    kyc_status = models.CharField(max_length=16, choices=KycStatus.choices, default=KycStatus.UNVERIFIED)
    # Decided by compliance only, written through accounts' services. The wallet's lock query
    # reads this row with the accounts, so these two let a bet skip every player-protection
    # query when nothing can refuse it: the flag is set while the player has a wager, loss or
    # session limit, an exclusion, a KYC hold or a reality check awaiting its acknowledgement
    # (not for a deposit limit, which the cashier reads at each deposit), and a reality check is
    # sent after the first bet past `reality_check_due_at`.
    needs_compliance_checks = models.BooleanField(default=False)
    reality_check_due_at = models.DateTimeField(null=True, blank=True)
    # Decided by bonuses only, written through accounts' services, read by the wallet's lock
    # query like the two above (BonusState says what for).
    bonus_state = models.CharField(max_length=16, choices=BonusState.choices, default=BonusState.NONE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("brand", Lower("email"), name="player_email_unique_per_brand"),
            # What the ledger's and the bets' foreign keys to their player and currency refer to: a
            # transaction or a bet is in its player's currency (wallet 0018, sportsbook 0012).
            models.UniqueConstraint(fields=["id", "currency"], name="player_id_currency_unique"),
            models.CheckConstraint(condition=models.Q(status__one_of=PlayerStatus.values), name="player_status_valid"),
            models.CheckConstraint(
                condition=models.Q(kyc_status__one_of=KycStatus.values), name="player_kyc_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(bonus_state__one_of=BonusState.values), name="player_bonus_state_valid"
            ),
            models.CheckConstraint(condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="player_country_iso_3166"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} ({self.pk})"

    @property
    def public_id(self) -> str:
        """The id every API shows: a string, as the wallet and real-time contracts require."""
        return str(self.pk)


class AuthToken(models.Model):
    """A player API bearer token. Only its SHA-256 is stored: a database leak gives no logins."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"


class PlayerLogin(models.Model):
    """One login of a player (the site's form, registration, or the API's token login): when, from
    which client address (as the login throttle computes it: `throttling.client_address`), the
    user agent, and the device (the `pam_device` cookie or the API's `X-Device-Id`), kept only as
    its keyed hash (`common.identity`): the raw id is a bearer secret of the browser. Append-only
    history for staff; how long it is kept is the operator's choice."""

    USER_AGENT_LENGTH = 255

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="logins")
    at = models.DateTimeField()
    address = models.CharField(max_length=45, help_text="the client address, or 'unknown'")
    user_agent = models.CharField(max_length=USER_AGENT_LENGTH, blank=True)
    device_hash = models.CharField(max_length=64, blank=True, help_text="HMAC of the device id; empty: none given")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["player", "-at"], name="player_login_player_idx")]

    def __str__(self) -> str:
        return f"login of player {self.player_id} at {self.at:%Y-%m-%d %H:%M:%S}"


# What a KYC document may be, told by its first bytes (never by its name or the browser's claim).
KYC_DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def kyc_document_path(document: KycDocument, filename: str) -> str:
    """A name of our own under `kyc/<player>/`: the uploaded name says nothing we keep on disk."""
    extension = KYC_DOCUMENT_TYPES.get(document.content_type, "bin")
    return f"kyc/{document.player_id}/{uuid.uuid4().hex}.{extension}"


class KycDocument(models.Model):
    """A document a player sent for KYC (an ID, a proof of address), uploaded by compliance staff
    through `services.upload_kyc_document`: kept through Django's storage under `MEDIA_ROOT`, which
    no URL serves (the back office streams it to staff who may view documents), with the type its
    bytes showed, its size and SHA-256."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="kyc_documents")
    kind = models.CharField(max_length=24, choices=KycDocumentKind.choices)
    file = models.FileField(upload_to=kyc_document_path, max_length=200)
    content_type = models.CharField(max_length=40, help_text="sniffed from the file's first bytes")
    size = models.PositiveIntegerField()
    # Also in the staff trail's record: a file changed on the storage behind the database's back
    # no longer matches either.
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True, help_text="as uploaded; for display only")
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        permissions = [("decide_kyc", "Can approve or reject a player's KYC")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(content_type__one_of=list(KYC_DOCUMENT_TYPES)), name="kyc_document_type_sniffed"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__one_of=KycDocumentKind.values), name="kyc_document_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["player", "uploaded_at"], name="kyc_document_player_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of player {self.player_id}"


class StaffLogin(models.Model):
    """One back-office sign-in attempt or end of a staff session: a success, each kind of failure
    (wrong password, wrong one-time code, the login throttle's refusal), an idle sign-out and a
    sign-out. `username` is what was typed; `user` the account it names, when one does. The
    address is the client's as the login throttle computes it (`throttling.client_address`).
    Append-only: written by `services.record_staff_login`, read-only in the back office."""

    USER_AGENT_LENGTH = 255
    USERNAME_LENGTH = 150

    username = models.CharField(max_length=USERNAME_LENGTH, help_text="the username given, as typed")
    # Kept when the account goes: the attempt happened; the username still says whose it was.
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_logins", db_index=False
    )
    outcome = models.CharField(max_length=24, choices=StaffLoginOutcome.choices)
    at = models.DateTimeField()
    address = models.CharField(max_length=45, help_text="the client address, or 'unknown'")
    user_agent = models.CharField(max_length=USER_AGENT_LENGTH, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="staff_login_at_idx"),
            models.Index(fields=["user", "-at"], name="staff_login_user_idx"),
            models.Index(fields=["address", "-at"], name="staff_login_address_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} of {self.username!r} at {self.at:%Y-%m-%d %H:%M:%S}"


class PlayerNote(models.Model):
    """A staff member's note on a player (the player 360 page): who wrote what, when. Append-only
    (on PostgreSQL a trigger refuses UPDATE and DELETE): a note is corrected by another note.
    Written only through `services.add_player_note`, which records the staff action."""

    MAX_LENGTH = 4000

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=MAX_LENGTH)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["player", "-created_at"], name="player_note_player_idx")]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="player_note_text_not_empty")]

    def __str__(self) -> str:
        return f"note on player {self.player_id} by {self.author_id} at {self.created_at:%Y-%m-%d %H:%M}"
