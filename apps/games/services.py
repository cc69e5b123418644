"""Writes of the games app: providers and launch tokens."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.common.tokens import hash_token, new_token
from apps.games.errors import TokenInvalid
from apps.games.models import Game, LaunchToken, Provider

LAUNCH_TOKEN_LIFETIME = dt.timedelta(minutes=10)
TEN_PLACES = Decimal("1e-10")


def save_provider(*, code: str, secret: str, name: str = "", enabled: bool = True) -> Provider:
    """Create the provider, or update its secret, name and state."""
    provider, _ = Provider.objects.update_or_create(
        code=code, defaults={"secret": secret, "name": name or code, "enabled": enabled}
    )
    return provider


# `save_game`'s "leave as it is" for the expected return, so a caller that only renames a game
# does not blank what staff or the studio's catalogue set.
KEEP = object()


def save_game(
    *, provider: Provider, code: str, name: str, game_type: str, enabled: bool = True,
    declared_rtp: Decimal | Fraction | object | None = KEEP, return_sigma: Decimal | Fraction | object | None = KEEP,
) -> Game:  # fmt: skip
    """Create the provider's game `code`, or update its name, type and state; and its expected
    return when given (`declared_rtp`, `return_sigma`: per unit staked, a Decimal or an exact
    Fraction, rounded half-even to the fields' 10 places; None blanks it: not monitored).
    Raises ValueError for a value the fields refuse (RTP not in (0, 10), sigma not positive)."""
    defaults: dict[str, object] = {"name": name, "game_type": game_type, "enabled": enabled}
    for field, value in (("declared_rtp", declared_rtp), ("return_sigma", return_sigma)):
        if value is not KEEP:
            defaults[field] = None if value is None else _ten_places(value)
    rtp, sigma = defaults.get("declared_rtp"), defaults.get("return_sigma")
    if rtp is not None and not 0 < rtp < 10:
        raise ValueError("A declared RTP is a return per unit staked above 0 and below 10.")
    if sigma is not None and sigma <= 0:
        raise ValueError("A return's standard deviation is positive.")
    game, _ = Game.objects.update_or_create(provider=provider, code=code, defaults=defaults)
    return game


def _ten_places(value: Decimal | Fraction) -> Decimal:
    """`value` to the fields' 10 decimal places, exactly from a Fraction (never through a float)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(TEN_PLACES, rounding=ROUND_HALF_EVEN)


def issue_launch_token(*, player: Player, provider: Provider) -> str:
    """A fresh one-time token for `player` to start a game of `provider`; valid 10 minutes."""
    token = new_token()
    LaunchToken.objects.create(
        token_hash=hash_token(token),
        player=player,
        provider=provider,
        expires_at=timezone.now() + LAUNCH_TOKEN_LIFETIME,
    )
    return token


@transaction.atomic
def redeem_launch_token(*, token: str, provider: Provider) -> Player:
    """Exchange a launch token once for its player. A conditional UPDATE marks it used, so two
    concurrent exchanges cannot both succeed. Raises TokenInvalid."""
    now = timezone.now()
    used = LaunchToken.objects.filter(
        token_hash=hash_token(token), provider=provider, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if used != 1:
        raise TokenInvalid
    return LaunchToken.objects.select_related("player__currency").get(token_hash=hash_token(token)).player
