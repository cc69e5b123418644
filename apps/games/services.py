"""Writes of the games app: providers, games, launch tokens and the launch itself."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts.models import Player
from apps.common.launch import signed_query
from apps.common.tokens import hash_token, new_token
from apps.compliance import gate
from apps.compliance import selectors as compliance_selectors
from apps.games import selectors
from apps.games.errors import GameUnavailable, TokenInvalid
from apps.games.models import Game, LaunchToken, Provider

LAUNCH_TOKEN_LIFETIME = dt.timedelta(minutes=10)
# A launch is refused when the wallet would refuse any bet: compliance is asked about the smallest
# stake there is, one minor unit (a player whose limit has no unit left cannot play either).
SMALLEST_STAKE = 1

TEN_PLACES = Decimal("1e-10")


def save_provider(
    *, code: str, secret: str, name: str = "", enabled: bool | None = True, launch_url: str | None = None
) -> Provider:
    """Create the provider, or update its secret, name, state and launch URL. `enabled=None` keeps
    an existing provider's state (a new one is enabled); `launch_url=None` keeps its launch URL
    (a new one has none)."""
    defaults: dict[str, object] = {"secret": secret, "name": name or code}
    if enabled is not None:
        defaults["enabled"] = enabled
    if launch_url is not None:
        defaults["launch_url"] = launch_url
    provider, _ = Provider.objects.update_or_create(code=code, defaults=defaults)
    return provider


# `save_game`'s "leave as it is" for the expected return, so a caller that only renames a game
# does not blank what staff or the studio's catalogue set.
KEEP = object()


def save_game(
    *, provider: Provider, code: str, name: str, game_type: str, enabled: bool | None = True,
    declared_rtp: Decimal | Fraction | object | None = KEEP, return_sigma: Decimal | Fraction | object | None = KEEP,
) -> Game:  # fmt: skip
    """Create the provider's game `code`, or update its name, type and state (`enabled=None`
    keeps an existing game's state; a new one is enabled); and its expected
    return when given (`declared_rtp`, `return_sigma`: per unit staked, a Decimal or an exact
    Fraction, rounded half-even to the fields' 10 places; None blanks it: not monitored).
    Raises ValueError for a value the fields refuse (RTP not in (0, 10), sigma not positive)."""
    defaults: dict[str, object] = {"name": name, "game_type": game_type}
    if enabled is not None:
        defaults["enabled"] = enabled
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


def issue_launch_token(*, player: Player, provider: Provider, game: Game | None = None) -> str:
    """A fresh one-time token for `player` to start a game of `provider` (the game `game`, when
    the launch names one); valid 10 minutes."""
    token = new_token()
    LaunchToken.objects.create(
        token_hash=hash_token(token),
        player=player,
        provider=provider,
        game=game,
        expires_at=timezone.now() + LAUNCH_TOKEN_LIFETIME,
    )
    return token


def launch(*, player: Player, game: Game) -> str:
    """The URL that opens `game` for `player`: the provider's launch URL with the signed launch
    query (apps/common/launch.py) carrying a fresh one-time token bound to the game and the rules
    for play of the player's jurisdiction profile. Relative when the provider's launch URL is
    (PAM's own studio, same origin).

    Raises GameUnavailable (the game or its provider disabled, or no launch URL), and the wallet's
    own refusals of a bet, from compliance's gate, asked as for the smallest stake: PlayerBlocked
    (PLAYER_BLOCKED: locked, frozen, closed, excluded or on a time-out, or KYC needed) and
    LimitReached (LIMIT_REACHED; `reason` `reality_check` while a reality check awaits its
    acknowledgement). A refusal issues no token.
    """
    provider = game.provider
    if not selectors.is_launchable(game):
        raise GameUnavailable
    with transaction.atomic():
        # As committed, not as the caller read it: the gate decides from the player's row.
        current = accounts_selectors.get_player(player.pk)
        gate.assert_may_stake(player=current, amount=SMALLEST_STAKE)
        token = issue_launch_token(player=current, provider=provider, game=game)
    profile = compliance_selectors.get_profile(current)
    params = {
        "token": token,
        "jurisdiction": profile.code,
        "min_cycle_ms": str(profile.min_game_cycle_ms),
        "autoplay": "1" if profile.autoplay_allowed else "0",
        "session_info": "1" if profile.session_info_in_play else "0",
    }
    base = provider.launch_url.replace("{game}", quote(game.code, safe=""))
    return f"{base}{'&' if '?' in base else '?'}{signed_query(provider.secret, game.code, params)}"


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
