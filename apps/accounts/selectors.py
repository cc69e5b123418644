"""Reads of the accounts app."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone

from apps.accounts.errors import NotAPlayer, UnknownBrand
from apps.accounts.models import Brand, Currency, Player, User
from apps.common.tokens import hash_token


def get_player_for_user(user: User) -> Player:
    """The user's player profile, with brand and currency; raises NotAPlayer for staff."""
    try:
        return Player.objects.select_related("brand", "currency", "user").get(user=user)
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
    """The active user a live token belongs to, or None (unknown, expired or revoked)."""
    return (
        User.objects.filter(
            auth_tokens__key_hash=hash_token(token),
            auth_tokens__expires_at__gt=timezone.now(),
            is_active=True,
        )
        .select_related("player")
        .first()
    )


def get_player(player_id: int) -> Player:
    """The player with brand, currency and user, as committed; raises Player.DoesNotExist."""
    return Player.objects.select_related("brand", "currency", "user").get(pk=player_id)


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
