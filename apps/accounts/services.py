"""Writes of the accounts app: registration, sandbox players, login tokens, staff users, and the
two fields of the player row that player protection keeps there for the money path."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import device_classes
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import device, errors, locks, selectors, throttling
from apps.accounts.choices import KycDocumentKind, KycStatus, StaffLoginOutcome, StaffRole
from apps.accounts.models import (
    KYC_DOCUMENT_TYPES,
    AuthToken,
    Brand,
    KycDocument,
    Player,
    PlayerLogin,
    PlayerNote,
    StaffLogin,
    User,
)
from apps.accounts.signals import player_logged_in, player_registered, player_standing_changed, tokens_revoked
from apps.common import staff_trail
from apps.common.events import send_after_commit
from apps.common.timestamps import iso_utc
from apps.common.tokens import hash_token, new_token

MINIMUM_AGE_YEARS = 18
SANDBOX_BRAND = "sandbox"
# Marks a leaked player API token as ours (greppable in logs and code scanners); not a secret.
TOKEN_PREFIX = "pam_"  # noqa: S105
PLAYER_KYC = "player.kyc"  # the staff action of a KYC decision
KYC_DOCUMENT_UPLOAD = "kyc.document_upload"  # the staff action of a KYC document stored
STAFF_OTP_ENROL = "staff.otp_enrol"  # the staff action of a staff member's (re-)enrolment
# Recovery codes given at each enrolment, each good for one sign-in.
RECOVERY_CODE_COUNT = 10
PLAYER_NOTE = "player.note"  # the staff action of a note added on the player 360 page


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str
    date_of_birth: dt.date
    country: str
    currency: str
    brand: str


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    """Whole years between the two dates; a 29 February birthday counts on 1 March."""
    had_birthday = (today.month, today.day) >= (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (0 if had_birthday else 1)


def register_player(registration: Registration) -> Player:
    """Create a user and its player profile, or refuse with a stable code.

    Raises Underage, UnknownBrand, UnknownCurrency, UsernameTaken, EmailTaken or WeakPassword;
    nothing is written when it raises. Sends `player_registered` (after commit) with the new
    player: every path that creates a player comes here. The password is hashed with the first of
    PASSWORD_HASHERS (argon2).
    """
    today = timezone.now().date()
    if age_on(registration.date_of_birth, today) < MINIMUM_AGE_YEARS:
        raise errors.Underage
    brand = selectors.get_brand(registration.brand)
    currency = selectors.get_active_currency(registration.currency)
    if currency is None:
        raise errors.UnknownCurrency(f"The currency {registration.currency!r} is not offered.")
    _refuse_taken(registration.username, registration.email, brand)

    user = User(username=registration.username, email=registration.email)
    try:
        validate_password(registration.password, user=user)
    except ValidationError as exc:
        raise errors.WeakPassword(" ".join(exc.messages), details={"reasons": exc.messages}) from None
    user.set_password(registration.password)
    try:
        with transaction.atomic():
            user.save()
            player = Player.objects.create(
                user=user,
                brand=brand,
                email=registration.email,
                country=registration.country,
                currency=currency,
                date_of_birth=registration.date_of_birth,
            )
            # In the player's transaction: the event exists exactly when the player does, and its
            # receivers run after the outermost commit (registration's deposit limits included).
            send_after_commit(
                player_registered, player_id=str(player.pk), brand=brand.code, country=player.country,
                registered_at=iso_utc(player.created_at),
            )  # fmt: skip
            return player
    except IntegrityError:
        # Two registrations raced past the checks above; the constraints decided. Say which.
        _refuse_taken(registration.username, registration.email, brand)
        raise


def _refuse_taken(username: str, email: str, brand: Brand) -> None:
    if User.objects.filter(username__iexact=username).exists():
        raise errors.UsernameTaken
    if Player.objects.filter(brand=brand, email__iexact=email).exists():
        raise errors.EmailTaken


def create_player(
    *, username: str, password: str, currency: str, brand: str = SANDBOX_BRAND, country: str = "MT"
) -> Player:
    """A player set up by an operator or an integrator's sandbox script, not by the sign-up form.

    Registered through `register_player`'s rules (the currency is offered, the username is free,
    the password is strong enough), with the e-mail `<username>@sandbox.invalid` and an adult
    date of birth. The brand is created when missing. Raises what register_player raises;
    nothing is written when it raises, not even the brand.
    """
    with transaction.atomic():
        Brand.objects.get_or_create(code=brand, defaults={"name": brand.title()})
        return register_player(
            Registration(
                username=username,
                email=f"{username}@sandbox.invalid",
                password=password,
                date_of_birth=dt.date(1990, 1, 1),
                country=country,
                currency=currency,
                brand=brand,
            )
        )


@dataclass(frozen=True)
class Login:
    token: str
    player: Player


def log_in_player(*, request: HttpRequest, username: str, password: str) -> Login:
    """Check the credentials and issue a bearer token.

    `authenticate` runs the login throttle (apps/accounts/throttling.py) on the request: a
    (username, address) pair that must still wait, or an address past its ceiling, is refused
    with LoginLocked (its `retry_after`) without the password being checked.
    Raises InvalidCredentials, LoginLocked, LoginUnavailable (the throttle's store is away) or
    NotAPlayer.
    """
    user = authenticate(request=request, username=username, password=password)
    refusal = getattr(request, "login_refusal", None)
    if refusal is not None:
        raise refusal
    if user is None:
        raise errors.InvalidCredentials
    player = selectors.get_player_for_user(user)
    # What django.contrib.auth.login() would send: sets last_login, starts the play session.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Login(token=issue_token(user), player=player)


def record_login(*, player: Player, request: HttpRequest) -> PlayerLogin:
    """The player's login as a `PlayerLogin` (client address as the login throttle computes it,
    user agent truncated, the device id's keyed hash only) and `player_logged_in`, in one
    transaction: the event exists exactly when the record does."""
    address = throttling.client_address(request)
    with transaction.atomic():
        login = PlayerLogin.objects.create(
            player=player, at=timezone.now(), address=address, device_hash=device.device_hash(request),
            user_agent=request.headers.get("User-Agent", "")[: PlayerLogin.USER_AGENT_LENGTH],
        )  # fmt: skip
        send_after_commit(
            player_logged_in, player_id=str(player.pk), login_id=str(login.pk), at=iso_utc(login.at),
            address=address, network="" if address == "unknown" else throttling.address_unit(address),
            device_hash=login.device_hash,
        )  # fmt: skip
    return login


def issue_token(user: User) -> str:
    """A new bearer token for `user`, valid for AUTH_TOKEN_TTL; only its hash is stored."""
    token = new_token(prefix=TOKEN_PREFIX)
    AuthToken.objects.create(user=user, key_hash=hash_token(token), expires_at=timezone.now() + settings.AUTH_TOKEN_TTL)
    return token


@transaction.atomic
def revoke_token(token: str) -> None:
    """The token stops working at once (idempotent), and so do the sockets it opened
    (`tokens_revoked`)."""
    _revoke(AuthToken.objects.filter(key_hash=hash_token(token)))


@transaction.atomic
def revoke_all_tokens(user: User, *, sockets_closed_by_caller: bool = False) -> None:
    """Every token of `user` stops working at once (an exclusion logs the player out everywhere),
    and so do the sockets they opened (`tokens_revoked`), unless the caller closes every socket of
    the player itself, saying why (an exclusion's notice)."""
    _revoke(AuthToken.objects.filter(user=user), sockets_closed_by_caller=sockets_closed_by_caller)


def _revoke(tokens, *, sockets_closed_by_caller: bool = False) -> None:
    revoked = locks.lock_tokens(tokens)
    if not revoked:
        return
    tokens.delete()
    by_user: dict[int, list[str]] = {}
    for user_id, key_hash in revoked:
        by_user.setdefault(user_id, []).append(key_hash)
    for user_id, key_hashes in by_user.items():
        tokens_revoked.send(
            sender=AuthToken, user_id=user_id, key_hashes=key_hashes, sockets_closed_by_caller=sockets_closed_by_caller
        )


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Replace the user's password after checking the current one.

    Every bearer token of the user is revoked in the same transaction (a token issued to whoever
    knew the old password must not outlive it); the caller keeps its own session alive with
    `update_session_auth_hash` (the other sessions end, as their hash no longer matches).
    Raises InvalidCredentials (the current password is wrong) or WeakPassword; nothing is
    written when it raises.
    """
    if not user.check_password(current_password):
        raise errors.InvalidCredentials("The current password is wrong.")
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise errors.WeakPassword(" ".join(exc.messages), details={"reasons": exc.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_all_tokens(user)


def set_password(*, user: User, password: str) -> None:
    """An operator's (or the demo seeding's) reset of a password, unchecked against the old one:
    validators do not run (the operator chose it). Every bearer token of the user is revoked."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        revoke_all_tokens(user)


def ensure_brand(*, code: str, name: str) -> Brand:
    """The brand with this code, created with `name` when missing."""
    return Brand.objects.get_or_create(code=code, defaults={"name": name})[0]


def create_staff_user(*, username: str, password: str, role: StaffRole, email: str = "") -> User:
    """A back-office user in the role's group; `admin` is also a superuser."""
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        is_staff=True,
        is_superuser=role == StaffRole.ADMIN,
    )
    user.groups.add(Group.objects.get(name=role.value))
    return user


def set_kyc_status(*, player_id: int, kyc_status: str, reason: str, acting_user: User | None = None) -> None:
    """Set the player's KYC status (a staff decision, or the sandbox's `create_player --kyc`): one
    transaction with its staff action (`player.kyc`; `acting_user` None: a management command) and
    `player_standing_changed`, whose receivers (compliance's checks) commit with it. Nothing is
    written when the status is already `kyc_status`."""
    with transaction.atomic():
        before = Player.objects.values_list("kyc_status", flat=True).get(pk=player_id)
        if before == kyc_status:
            return
        Player.objects.filter(pk=player_id).update(kyc_status=kyc_status, updated_at=timezone.now())
        staff_trail.record_staff_action(
            actor=acting_user, action=PLAYER_KYC, target=("accounts.player", str(player_id)),
            before={"kyc_status": before}, after={"kyc_status": kyc_status}, reason=reason,
        )  # fmt: skip
        player_standing_changed.send(sender=Player, player_id=player_id, changed=frozenset({"kyc_status"}))


# --- KYC documents and decisions ----------------------------------------------------------------

# The first bytes of each accepted type. Only these: what a browser could run (HTML, SVG, scripts)
# or a program is refused, whatever its name or declared type says.
_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def sniff_document_type(head: bytes) -> str | None:
    """The type a file's first bytes show (`KYC_DOCUMENT_TYPES`), or None."""
    return next((content_type for magic, content_type in _SIGNATURES if head.startswith(magic)), None)


def upload_kyc_document(*, player_id: int, kind: str, file: UploadedFile, acting_user: User) -> KycDocument:
    """Store a player's KYC document through Django's storage: its type sniffed from its first
    bytes (PDF, JPEG, PNG; the name and the browser's declared type are ignored), at most
    `KYC_DOCUMENT_MAX_BYTES`, with its SHA-256; a `kyc.document_upload` staff action. Raises
    UnsupportedDocument, DocumentTooLarge, InvalidKycDecision (an unknown kind), Player.DoesNotExist.

    The file is written to the storage inside the transaction; if the transaction then fails, the
    file stays without a row (an orphan to sweep), never a row without its file."""
    if kind not in KycDocumentKind.values:
        raise errors.InvalidKycDecision(f"Unknown document kind {kind!r}.")
    limit = settings.KYC_DOCUMENT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise errors.DocumentTooLarge(f"A KYC document is at most {limit} bytes.")
    file.seek(0)
    content_type = sniff_document_type(file.read(8))
    if content_type is None:
        raise errors.UnsupportedDocument
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    if size > limit:  # the size the upload declared was not the size it had
        raise errors.DocumentTooLarge(f"A KYC document is at most {limit} bytes.")
    file.seek(0)
    original_name = (file.name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        player = Player.objects.get(pk=player_id)
        document = KycDocument(
            player=player, kind=kind, content_type=content_type, size=size, sha256=digest.hexdigest(),
            original_name=original_name, uploaded_by=acting_user, uploaded_at=timezone.now(),
        )  # fmt: skip
        document.file.save(KYC_DOCUMENT_TYPES[content_type], file, save=False)
        document.save(force_insert=True)
        staff_trail.record_staff_action(
            actor=acting_user, action=KYC_DOCUMENT_UPLOAD, target=document,
            after={"player": player_id, "kind": kind, "content_type": content_type, "size": size,
                   "sha256": document.sha256, "name": original_name},
        )  # fmt: skip
    return document


KYC_APPROVE, KYC_REJECT = "approve", "reject"


def decide_kyc(*, player_id: int, decision: str, reason: str, acting_user: User) -> None:
    """Staff's KYC decision from the documents: `approve` (verified; the player needs at least one
    document) or `reject` (rejected; a reason is required), through `set_kyc_status` (its
    `player.kyc` staff action). Raises InvalidKycDecision, KycDocumentsRequired."""
    reason = reason.strip()
    if decision not in (KYC_APPROVE, KYC_REJECT):
        raise errors.InvalidKycDecision(f"Unknown decision {decision!r}: approve or reject.")
    if decision == KYC_REJECT and not reason:
        raise errors.InvalidKycDecision("A rejection needs a reason.")
    with transaction.atomic():
        if decision == KYC_APPROVE:
            if not KycDocument.objects.filter(player_id=player_id).exists():
                raise errors.KycDocumentsRequired
            status, reason = KycStatus.VERIFIED, reason or "documents checked"
        else:
            status = KycStatus.REJECTED
        set_kyc_status(player_id=player_id, kyc_status=status, reason=reason, acting_user=acting_user)


def add_player_note(*, player_id: int, author: User, text: str) -> PlayerNote:
    """A staff member's note on a player, with its staff action (`player.note`), in one
    transaction. Notes are never changed: a correction is another note. Raises InvalidNote for
    empty text or text over PlayerNote.MAX_LENGTH."""
    text = text.strip()
    if not text or len(text) > PlayerNote.MAX_LENGTH:
        raise errors.InvalidNote
    with transaction.atomic():
        note = PlayerNote.objects.create(
            player=Player.objects.get(pk=player_id), author=author, text=text, created_at=timezone.now()
        )
        staff_trail.record_staff_action(
            actor=author, action=PLAYER_NOTE, target=note, after={"player_id": player_id, "text": text}
        )
    return note


# --- the player row's player-protection fields ------------------------------------------------------
# Compliance decides them and calls these (accounts imports no compliance): they live on the player
# row because the wallet's lock query reads that row anyway, so a bet by a player whom nothing can
# refuse costs no player-protection query at all.


def set_needs_compliance_checks(*, player_id: int, needed: bool) -> None:
    """Whether the money path must ask compliance about the player's stakes (a deposit's start
    asks it every time). Writes only when the value changes, in the caller's transaction."""
    Player.objects.filter(pk=player_id).exclude(needs_compliance_checks=needed).update(needs_compliance_checks=needed)


def set_bonus_state(*, player_id: int, state: str) -> None:
    """What the player's bonus account holds (`BonusState`), in the caller's transaction (a
    bonus's grant or end, under the wallet's lock of the player). Writes only on a change."""
    Player.objects.filter(pk=player_id).exclude(bonus_state=state).update(bonus_state=state)


def set_player_status(*, player_id: int, status: str) -> None:
    """The account's standing (active, locked, frozen, closed), in the caller's transaction."""
    Player.objects.filter(pk=player_id).update(status=status, updated_at=timezone.now())


def move_player_status(*, player_id: int, from_statuses: tuple[str, ...], status: str) -> str:
    """Set the account's standing to `status` if it is one of `from_statuses`, in the caller's
    transaction, under the player row's lock (of a rule's lock and a staff re-opening racing, the
    second sees what the first did). Returns the status found: it changed only if that is one of
    `from_statuses`. Raises Player.DoesNotExist."""
    found = locks.lock_player_status(player_id)
    if found in from_statuses:
        Player.objects.filter(pk=player_id).update(status=status, updated_at=timezone.now())
    return found


def set_reality_check_due(*, player_id: int, due_at: dt.datetime | None) -> None:
    """When the player's next reality check is due (the first bet from then on asks for it)."""
    Player.objects.filter(pk=player_id).update(reality_check_due_at=due_at)


def move_reality_check_due(*, player_id: int, seen: dt.datetime, due_at: dt.datetime) -> bool:
    """Move the player's next reality check from `seen` to `due_at`, only if it is still `seen`:
    of several callers that saw the same due time (bets, sockets, a re-delivered event), exactly
    one moves it, and that one gets True."""
    return Player.objects.filter(pk=player_id, reality_check_due_at=seen).update(reality_check_due_at=due_at) == 1


# --- staff sign-in: the record of each attempt, one-time codes, enrolment (docs/backoffice.md) ----


def record_staff_login(
    *, request: HttpRequest | None, outcome: StaffLoginOutcome, username: str, user: User | None = None
) -> StaffLogin:
    """One `StaffLogin`: the outcome of a back-office sign-in attempt, or the end of a staff
    session, with the client address as the login throttle computes it and the user agent."""
    return StaffLogin.objects.create(
        username=username[: StaffLogin.USERNAME_LENGTH],
        user=user if user is not None and user.pk is not None else None,
        outcome=outcome,
        at=timezone.now(),
        address=throttling.client_address(request) if request is not None else "unknown",
        user_agent=request.headers.get("User-Agent", "")[: StaffLogin.USER_AGENT_LENGTH] if request is not None else "",
    )


def check_staff_otp(*, user: User, token: str):
    """The confirmed device of `user` that accepts `token`: a code of their authenticator (digits)
    or one of their recovery codes (letters and digits), which is used up. Raises OtpRequired
    (no code), OtpThrottled (django-otp makes the devices wait after wrong codes, doubling each
    time) or OtpInvalid.

    Only the device the code's shape names is tried, so a mistyped authenticator code does not
    also count against the recovery codes. The devices are locked while checked: the same code
    sent twice at once signs in once (a TOTP code is refused once used; a recovery code is
    deleted)."""
    token = "".join(token.split()).lower()
    if not token:
        raise errors.OtpRequired
    model = TOTPDevice if token.isdigit() else StaticDevice
    verified, locked_until = None, None
    # The wrong code's throttle count must commit, so the refusal is raised after the block.
    with transaction.atomic():
        for device in locks.lock_staff_devices(model, user):
            allowed, info = device.verify_is_allowed()
            if not allowed:
                locked_until = max(filter(None, (locked_until, (info or {}).get("locked_until"))), default=None)
                continue
            if device.verify_token(token):
                verified = device
                break
    if verified is not None:
        return verified
    if locked_until is not None:
        raise errors.OtpThrottled(retry_after=max(1, int((locked_until - timezone.now()).total_seconds() + 0.999)))
    raise errors.OtpInvalid


@dataclass(frozen=True)
class StaffEnrolment:
    """What a staff member's enrolment gives them, shown once: the authenticator's device (its
    `config_url` is the otpauth:// URI) and the recovery codes."""

    device: TOTPDevice
    recovery_codes: list[str]

    @property
    def secret(self) -> str:
        """The authenticator's secret in base32, for apps that cannot read the URI."""
        return base64.b32encode(self.device.bin_key).decode()


def enrol_staff_otp(*, user: User, acting_user: User | None = None) -> StaffEnrolment:
    """Give the staff member a new authenticator (TOTP) device and RECOVERY_CODE_COUNT new
    recovery codes, replacing every device they had (a lost phone, used-up codes): one transaction
    with its staff action (`staff.otp_enrol`; `acting_user` None: a management command). Sessions
    signed in with a replaced device stop passing the two-factor rule. The devices are confirmed
    at once: the secret is handed to the staff member by whoever enrols them."""
    if not user.is_staff:
        raise errors.NotStaff
    with transaction.atomic():
        replaced = []
        for model in device_classes():
            devices = model.objects.filter(user=user)
            replaced += [f"{device.persistent_id} {device.name}" for device in devices]
            devices.delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = _new_recovery_codes()
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
        staff_trail.record_staff_action(
            actor=acting_user, action=STAFF_OTP_ENROL, target=user, before={"devices": sorted(replaced)},
            after={"devices": [f"{device.persistent_id} {device.name}", f"{recovery.persistent_id} {recovery.name}"],
                   "recovery_codes": len(codes)},
            reason="re-enrolment: devices replaced" if replaced else "enrolment",
        )  # fmt: skip
    return StaffEnrolment(device=device, recovery_codes=codes)


def _new_recovery_codes() -> list[str]:
    """RECOVERY_CODE_COUNT distinct codes, each with a letter: a code of digits only would be read
    as an authenticator code (`check_staff_otp`)."""
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if not code.isdigit() and code not in codes:
            codes.append(code)
    return codes
