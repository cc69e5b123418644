"""Reads of the games app."""

from __future__ import annotations

from apps.games.models import Provider


def get_enabled_provider(code: str) -> Provider | None:
    return Provider.objects.filter(code=code, enabled=True).first() if code else None
