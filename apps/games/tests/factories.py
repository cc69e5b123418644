"""Providers and games for the games app's tests, built through its services."""

from __future__ import annotations

from apps.games import services
from apps.games.models import Game, Provider

SECRET = "acme-launch-secret-0123456789"
LAUNCH_URL = "https://games.acme.example/launch/{game}"


def provider(code: str = "acme-games", *, launch_url: str = LAUNCH_URL, **fields) -> Provider:
    return services.save_provider(code=code, secret=SECRET, name=code.title(), launch_url=launch_url, **fields)


def game(of: Provider | None = None, code: str = "acme-slot", **fields) -> Game:
    fields = {"name": code.replace("-", " ").title(), "game_type": "slots", **fields}
    return services.save_game(provider=of or provider(), code=code, **fields)
