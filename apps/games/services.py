"""Writes of the games app: providers and launch tokens."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Player
from apps.common.tokens import hash_token, new_token
from apps.games.errors import TokenInvalid
from apps.games.models import Game, LaunchToken, Provider

LAUNCH_TOKEN_LIFETIME = dt.timedelta(minutes=10)


def save_provider(*, code: str, secret: str, name: str = "", enabled: bool = True) -> Provider:
    """Create the provider, or update its secret, name and state."""
    provider, _ = Provider.objects.update_or_create(
        code=code, defaults={"secret": secret, "name": name or code, "enabled": enabled}
    )
    return provider


def save_game(*, provider: Provider, code: str, name: str, game_type: str, enabled: bool = True) -> Game:
    """Create the provider's game `code`, or update its name, type and state."""
    game, _ = Game.objects.update_or_create(
        provider=provider, code=code, defaults={"name": name, "game_type": game_type, "enabled": enabled}
    )
    return game


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
