"""Reads of the accounts app."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.models import Device

from apps.accounts.errors import NotAPlayer, UnknownBrand, UnknownDocument
from apps.accounts.models import AuthToken, Brand, Currency, KycDocument, Player, PlayerLogin, PlayerNote, User
from apps.common.db import prepared_cursor
from apps.common.money import format_minor
from apps.common.tokens import hash_token


def get_player_id_of_user(user_id: int) -> int | None:
    """The id of the user's player, or None for a user who is not one (staff)."""
    return Player.objects.filter(user_id=user_id).values_list("pk", flat=True).first()


def get_player_for_user(user: User) -> Player:
    """The user's player profile, with brand and currency; raises NotAPlayer for staff."""
    try:
        return Player.objects.select_related("brand", "currency", "user").get(user=user)
    except Player.DoesNotExist:
        raise NotAPlayer from None


def get_player_of_user(user: User) -> Player:
    """The user's player profile as the authentication read it with the user (a Bearer token's
    look-up: no query), else from the database, without its brand or currency: for a caller that
    needs its id and currency code only. Raises NotAPlayer for staff."""
    try:
        return user.player
    except Player.DoesNotExist:
        raise NotAPlayer from None


def get_player_for_request(request) -> Player | None:
    """The logged-in user's player profile, or None (anonymous, or staff). Read once per request
    and user: the site's header and the page both ask, so the answer is kept on the request
    (a logout during the request, which changes `request.user`, is read afresh)."""
    user = getattr(request, "user", None)
    cached = getattr(request, "_pam_player", None)
    if cached is not None and cached[0] is user:
        return cached[1]
    player = None
    if user is not None and user.is_authenticated:
        player = Player.objects.select_related("brand", "currency", "user").filter(user=user).first()
    request._pam_player = (user, player)
    return player


def find_user(username: str) -> User | None:
    """The user (staff or player) with exactly this username, or None."""
    return User.objects.filter(username=username).first()


def usernames(user_ids) -> dict[int, str]:
    """The username of each of these users (staff or players), by id; an unknown id is left out."""
    return dict(User.objects.filter(pk__in=list(user_ids)).values_list("pk", "username"))


def find_player_by_username(username: str) -> Player | None:
    """The player with exactly this username, or None."""
    return Player.objects.filter(user__username=username).first()


def get_user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None (unknown, expired or revoked), with its
    player profile read in the same statement (`user.player`; none for staff).

    Every request of the player API with a Bearer token asks this: one prepared statement whose
    rows become the instances directly (`Model.from_db`), rather than a query compiled afresh by
    the ORM each time, which cost the request more than the rest of its authentication."""
    user_columns, player_columns, sql, converters = _user_for_token_sql()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [hash_token(token), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:  # SQLite's dates and booleans, as the ORM's compiler converts them
        row = list(row)
        for index, column, functions in converters:
            for function in functions:
                row[index] = function(row[index], column, connection)
    db = connection.alias
    user = User.from_db(db, user_columns, row[: len(user_columns)])
    player = None
    if row[len(user_columns)] is not None:
        player = Player.from_db(db, player_columns, row[len(user_columns) :])
        player._state.fields_cache["user"] = user
    user._state.fields_cache["player"] = player  # as select_related("player") leaves it
    return user


@dataclass(frozen=True)
class TokenPlayer:
    """A live token's player, as plain values: what a player's request needs of them to be served
    (`pk` and `currency_id`, a Player's names for them), without model instances."""

    pk: int
    currency_id: str


# The player of a live token of an active user (`id`, `currency_id`; no row: an unknown, expired
# or revoked token, or a staff user's), with `token_player_params`: what `get_user_for_token`
# decides, as a query that a reader needing the player in its own statement may embed.
PLAYER_OF_KEY_HASH_SQL = (
    "SELECT p.id, p.currency_id FROM accounts_authtoken t JOIN accounts_user u ON u.id = t.user_id "
    "JOIN accounts_player p ON p.user_id = u.id WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active LIMIT 1"
)


def token_player_params(token: str) -> list:
    """PLAYER_OF_KEY_HASH_SQL's parameters for `token`, now."""
    return [hash_token(token), timezone.now()]


def is_live_token_hash(key_hash: str) -> bool:
    """Whether the bearer token of this hash (`AuthToken.key_hash`) still signs its user in: not
    revoked, not expired."""
    return AuthToken.objects.filter(key_hash=key_hash, expires_at__gt=timezone.now()).exists()


def get_token_player(token: str) -> TokenPlayer | None:
    """The player a live token of an active user belongs to, or None (unknown, expired or revoked,
    or a staff user's token), in one prepared statement: what `get_user_for_token` decides, for a
    view that needs the player's id and currency only."""
    with prepared_cursor() as cursor:
        cursor.execute(PLAYER_OF_KEY_HASH_SQL, token_player_params(token))
        row = cursor.fetchone()
    return None if row is None else TokenPlayer(row[0], row[1])


@cache
def _user_for_token_sql() -> tuple[list[str], list[str], str, list[tuple]]:
    fields = [*User._meta.concrete_fields, *Player._meta.concrete_fields]
    user_columns = [field.attname for field in User._meta.concrete_fields]
    player_columns = [field.attname for field in Player._meta.concrete_fields]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        functions = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
        if functions:
            converters.append((index, column, functions))
    qn = connection.ops.quote_name
    select = ", ".join([*(f"u.{qn(field.column)}" for field in User._meta.concrete_fields),
                        *(f"p.{qn(field.column)}" for field in Player._meta.concrete_fields)])  # fmt: skip
    sql = (
        f"SELECT {select} FROM {qn(User._meta.db_table)} u "  # noqa: S608 - the models' own names
        f"JOIN {qn(AuthToken._meta.db_table)} t ON t.user_id = u.id "
        f"LEFT JOIN {qn(Player._meta.db_table)} p ON p.user_id = u.id "
        "WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active LIMIT 1"
    )
    return user_columns, player_columns, sql, converters


def get_player(player_id: int) -> Player:
    """The player with brand, currency and user, as committed; raises Player.DoesNotExist."""
    return Player.objects.select_related("brand", "currency", "user").get(pk=player_id)


def money_text_of(player: Player) -> Callable[[int], str]:
    """What shows an amount in the player's currency to the player: 1250 as "12.50 EUR", for the
    messages players read (their `data` keep minor units, for programs). Reads the currency's
    row unless the player was read with it."""
    currency = player.currency
    return lambda amount: f"{format_minor(amount, currency.exponent)} {currency.code}"


def get_player_status(player_id: int) -> str:
    """The account's standing (active, locked, frozen, closed), as committed."""
    return Player.objects.values_list("status", flat=True).get(pk=player_id)


def get_reality_check_due(player_id: int) -> dt.datetime | None:
    """When the player's next reality check is due, as committed (None before their first login)."""
    return Player.objects.values_list("reality_check_due_at", flat=True).get(pk=player_id)


def get_brand(code: str) -> Brand:
    """The brand with this code; raises UnknownBrand."""
    brand = Brand.objects.filter(code=code).first()
    if brand is None:
        raise UnknownBrand
    return brand


def brand_codes() -> dict[int, str]:
    """Every brand's code by its primary key (a handful of rows)."""
    return dict(Brand.objects.values_list("pk", "code"))


def get_player_brand_and_currency(player_id: int | str) -> tuple[str, str] | None:
    """The player's brand code and currency, as committed; None for no such player."""
    return Player.objects.filter(pk=player_id).values_list("brand__code", "currency_id").first()


def list_active_currencies() -> list[Currency]:
    """The currencies a player may open a wallet in, by code."""
    return list(Currency.objects.filter(is_active=True).order_by("code"))


def get_active_currency(code: str) -> Currency | None:
    return Currency.objects.filter(code=code, is_active=True).first()


_KNOWN_CURRENCIES_TTL_SECONDS = 60.0
_known_currencies: tuple[float, frozenset[str]] = (0.0, frozenset())


def is_known_currency(code: str) -> bool:
    """Whether `code` is an active currency. Read on every wallet call, so the set is kept in
    memory for a minute: a currency an admin adds is known everywhere within that minute."""
    global _known_currencies
    loaded_at, codes = _known_currencies
    now = time.monotonic()
    if now - loaded_at > _KNOWN_CURRENCIES_TTL_SECONDS or (code not in codes and now - loaded_at > 1):
        codes = frozenset(Currency.objects.filter(is_active=True).values_list("code", flat=True))
        _known_currencies = (now, codes)
    return code in codes


def list_kyc_documents(player_id: int) -> list[KycDocument]:
    """The player's KYC documents, oldest first, with who uploaded each."""
    return list(KycDocument.objects.filter(player_id=player_id).select_related("uploaded_by"))


def get_kyc_document(player_id: int, document_id: int) -> KycDocument:
    """One of the player's KYC documents; raises UnknownDocument (also for another player's)."""
    document = KycDocument.objects.filter(player_id=player_id, pk=document_id).first()
    if document is None:
        raise UnknownDocument
    return document


# --- staff sessions: two-factor sign-in and inactivity (docs/backoffice.md) -----------------------

# The session's last back-office activity, in whole seconds since the epoch.
STAFF_SEEN_AT_SESSION_KEY = "pam_staff_seen_at"
# The stamp moves at most this often, so a burst of back-office requests writes the session once.
STAFF_ACTIVITY_STAMP_SECONDS = 60


def staff_has_device(user: User) -> bool:
    """Whether the staff member has a confirmed one-time-code device (authenticator or recovery
    codes): then they are asked for a code at every sign-in, required or not."""
    return user_has_device(user, confirmed=True)


def staff_must_give_code(user: User) -> bool:
    """Whether signing `user` in takes a one-time code: always when two-factor sign-in is
    required (STAFF_2FA_REQUIRED), otherwise when they have a confirmed device."""
    return settings.STAFF_2FA_REQUIRED or staff_has_device(user)


def request_passes_two_factor(request) -> bool:
    """Whether the request's session satisfies the back office's two-factor rule: always when it
    is not required (who has a device gave a code at sign-in, `staff_must_give_code`); when
    required, only a session signed in with a code (`OTPMiddleware`'s `is_verified`)."""
    if not settings.STAFF_2FA_REQUIRED:
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return is_verified is not None and is_verified()


def staff_session_idle(session, now: float | None = None) -> bool:
    """Whether a staff session's last back-office activity is older than
    STAFF_SESSION_IDLE_SECONDS. A session without a stamp (one that predates it) is not: the next
    request stamps it."""
    seen_at = session.get(STAFF_SEEN_AT_SESSION_KEY)
    if seen_at is None:
        return False
    now = time.time() if now is None else now
    return now - seen_at > settings.STAFF_SESSION_IDLE_SECONDS


def staff_socket_refusal(user: User, session) -> str | None:
    """Why a staff member's session may not open the back office's socket, or None: "idle" (the
    session is past STAFF_SESSION_IDLE_SECONDS) or "unverified" (two-factor sign-in is required
    and the session did not sign in with a code of one of the user's confirmed devices). The
    socket has no `OTPMiddleware`, so the session's device is read here."""
    if staff_session_idle(session):
        return "idle"
    if settings.STAFF_2FA_REQUIRED:
        persistent_id = session.get(DEVICE_ID_SESSION_KEY)
        device = Device.from_persistent_id(persistent_id) if persistent_id else None
        if device is None or device.user_id != user.pk or not device.confirmed:
            return "unverified"
    return None


def session_signs_in(session_key: str, user: User) -> bool:
    """Whether the site session with this key still signs `user` (as stored now) in, as Django's
    `auth.get_user` judges it at the session's next request: the session exists and names the
    user, who is active, and it carries the hash of the user's current password (a password
    change ends every other session; the one that changed it gets a new key and hash). Read
    only: Django's own check would flush a session that fails it."""
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if data.get(SESSION_KEY) != user._meta.pk.value_to_string(user):
        return False
    return session_hash_signs_in(data.get(HASH_SESSION_KEY, ""), user)


def session_hash_of(session) -> str:
    """The password hash a signed-in session carries (`session_hash_signs_in` judges it later), or
    "" for a session that signed nobody in."""
    return session.get(HASH_SESSION_KEY, "")


def session_hash_signs_in(stored: str, user: User) -> bool:
    """Whether a session carrying `stored` (its HASH_SESSION_KEY) would still sign `user` in, as
    Django judges it: the user is active and `stored` is the hash of their current password (by
    the current secret key or a fallback). What a socket keeps of the session that asked for its
    ticket, where the session's key is not kept."""
    if not user.is_active or not stored:
        return False
    hashes = [user.get_session_auth_hash()]
    hashes += [user._get_session_auth_hash(secret=secret) for secret in settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(stored, expected) for expected in hashes)


def get_user(user_id: int) -> User | None:
    """The user as stored now, or None (deleted). A new object on every call: Django caches a
    user's permissions on the object that checked them, so one read earlier answers with what
    they had then (the back office's socket reads its staff member's access again with this)."""
    return User.objects.filter(pk=user_id).first()


def list_staff_ids_in_groups(group_ids: Iterable[int]) -> list[int]:
    """The staff members in any of the groups: whose access a change of a role's permissions changes."""
    return list(User.objects.filter(is_staff=True, groups__in=list(group_ids)).values_list("pk", flat=True).distinct())


def list_staff_ids_holding(permission_id: int) -> list[int]:
    """The staff members who hold the permission, given to them or through one of their groups."""
    holders = User.objects.filter(Q(user_permissions=permission_id) | Q(groups__permissions=permission_id))
    return list(holders.filter(is_staff=True).values_list("pk", flat=True).distinct())


# --- the back office's player 360 page ---------------------------------------------------------


def list_player_logins(player_id: int, limit: int = 20) -> list[PlayerLogin]:
    """The player's latest logins, newest first (the (player, -at) index)."""
    return list(PlayerLogin.objects.filter(player_id=player_id).order_by("-at", "-pk")[:limit])


def list_player_notes(player_id: int, limit: int = 50) -> list[PlayerNote]:
    """The staff notes on the player, newest first, with their authors."""
    return list(
        PlayerNote.objects.filter(player_id=player_id).select_related("author").order_by("-created_at", "-pk")[:limit]
    )
