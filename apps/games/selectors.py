"""Reads of the games app."""

from __future__ import annotations

import time
from decimal import Decimal

from apps.common import rtp
from apps.games.errors import UnknownGame
from apps.games.models import Game, Provider
from apps.wallet import selectors as wallet

# Every wallet call names its provider; reading the row each time costs a round trip per bet.
# A disabled or re-keyed provider takes effect within this many seconds in other processes
# (at once in the process that saved it: see forget_providers).
PROVIDER_CACHE_SECONDS = 5.0
_providers: dict[str, tuple[float, Provider | None]] = {}


def get_enabled_provider(code: str) -> Provider | None:
    if not code:
        return None
    now = time.monotonic()
    cached = _providers.get(code)
    if cached is not None and now - cached[0] < PROVIDER_CACHE_SECONDS:
        return cached[1]
    provider = Provider.objects.filter(code=code, enabled=True).first()
    # Unknown codes are not cached: anyone can send them, and they must not fill memory.
    if provider is not None:
        _providers[code] = (now, provider)
    else:
        _providers.pop(code, None)
    return provider


def forget_providers(**kwargs) -> None:
    """Drop the cache (connected to Provider's post_save, and used by tests)."""
    _providers.clear()


# A provider's calls to the wallet API are recorded under this origin (`ExternalRef.origin`),
# which is all the wallet's participants are told of who called: the one place that spells it.
_PROVIDER_ORIGIN = "provider:"


def provider_origin(code: str) -> str:
    """The wallet origin of provider `code`'s calls."""
    return _PROVIDER_ORIGIN + code


def provider_of_origin(origin: str) -> str:
    """The provider code of a wallet origin, or "" for one that is not a provider's (an
    operator's, a payment provider's, a bonus's)."""
    return origin.removeprefix(_PROVIDER_ORIGIN) if origin.startswith(_PROVIDER_ORIGIN) else ""


# A game's type, asked on the bets of players wagering a bonus (its weight may be per type).
# Types rarely change; a change reaches other processes within this many seconds.
GAME_TYPE_CACHE_SECONDS = 5.0
_GAME_TYPE_CACHE_SIZE = 10_000
_game_types: dict[tuple[str, str], tuple[float, str]] = {}


def game_type(provider_code: str, game_code: str) -> str:
    """The type (`GameType`) of the provider's game `game_code`, or "" for a game not in the
    catalogue. Cached per process; the cache is bounded (providers name games we may not list)."""
    if not game_code or not provider_code:
        return ""
    key = (provider_code, game_code)
    now = time.monotonic()
    cached = _game_types.get(key)
    if cached is not None and now - cached[0] < GAME_TYPE_CACHE_SECONDS:
        return cached[1]
    found = Game.objects.filter(provider__code=provider_code, code=game_code).values_list("game_type", flat=True)
    kind = next(iter(found), "")
    if len(_game_types) >= _GAME_TYPE_CACHE_SIZE:
        _game_types.clear()
    _game_types[key] = (now, kind)
    return kind


def forget_game_types(**kwargs) -> None:
    """Drop the cache (connected to Game's post_save, and used by tests)."""
    _game_types.clear()


# --- the lobby ------------------------------------------------------------------------------------


def list_lobby_games() -> list[Game]:
    """The lobby, with each game's provider, by name: every enabled game of an enabled provider.
    Every brand offers the same games (a per-brand catalogue is not modelled: docs/games.md).
    `is_launchable(game)` says which of them PAM can open."""
    return list(
        Game.objects.filter(enabled=True, provider__enabled=True).select_related("provider").order_by("name", "pk")
    )


def is_launchable(game: Game) -> bool:
    """Whether PAM can open `game` now (what `services.launch` refuses otherwise)."""
    return game.enabled and game.provider.enabled and bool(game.provider.launch_url)


def get_game(game_id: int) -> Game:
    """The game with its provider; raises UnknownGame."""
    game = Game.objects.select_related("provider").filter(pk=game_id).first()
    if game is None:
        raise UnknownGame
    return game


# The expected return of the monitored games, which the drift rule asks on its evaluations
# (a handful a minute per busy game): one query per process every this many seconds at most.
EXPECTATIONS_CACHE_SECONDS = 5.0
_expectations: tuple[float, dict[tuple[str, str], tuple[Decimal, Decimal]]] | None = None


def game_expectations(*, cached: bool = True) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(declared RTP, sigma) per (provider code, game code) of every monitored game (both set),
    per unit staked. Cached per process (`cached=False` reads afresh: the back office's report)."""
    global _expectations
    now = time.monotonic()
    held = _expectations
    if cached and held is not None and now - held[0] < EXPECTATIONS_CACHE_SECONDS:
        return held[1]
    found = {
        (provider, code): (rtp, sigma)
        for provider, code, rtp, sigma in Game.objects.filter(
            declared_rtp__isnull=False, return_sigma__isnull=False
        ).values_list("provider__code", "code", "declared_rtp", "return_sigma")
    }
    _expectations = (now, found)
    return found


def forget_game_expectations(**kwargs) -> None:
    """Drop the cache (connected to Game's post_save, and used by tests)."""
    global _expectations
    _expectations = None


def live_rtp(*, since, sigmas: int = rtp.DEFAULT_SIGMAS) -> list[rtp.LiveRtp]:
    """The live RTP report (docs/rtp.md): every provider's game, per currency and stake band, over
    the rounds posted since `since` (the wallet's `game_rounds`, one statement), each judged
    against the game's declared RTP and sigma when it is monitored. Rows of origins that are not a
    provider's are left out (only provider calls carry a game)."""
    expectations = game_expectations(cached=False)
    rows = []
    for found in wallet.game_rounds(since=since):
        provider = provider_of_origin(found.origin)
        if not provider:
            continue
        rows.append(
            rtp.judge(
                provider=provider, game=found.game_id, currency=found.currency, band=found.band,
                rounds=found.rounds, staked=found.staked, returned=found.returned,
                staked_squares=found.staked_squares, expectation=expectations.get((provider, found.game_id)),
                sigmas=sigmas,
            )
        )  # fmt: skip
    return rows
