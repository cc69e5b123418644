"""Reads of the games app."""

from __future__ import annotations

import time

from apps.games.models import Provider

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
