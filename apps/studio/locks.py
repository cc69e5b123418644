"""The studio's row locks (the only place that takes them)."""

from __future__ import annotations

from apps.studio.models import CrashChain, CrashRound


def latest_crash_round() -> CrashRound | None:
    """The crash room's latest round, locked: whoever opens the next round holds it, so two runners
    that both believe they lead (one paused past its lease) cannot open two rounds at once."""
    return CrashRound.objects.select_for_update().order_by("-number").first()


def current_crash_chain() -> CrashChain | None:
    """The chain in play (the newest), locked while its next index is taken."""
    return CrashChain.objects.select_for_update().order_by("-pk").first()


def crash_chain(pk: int) -> CrashChain:
    return CrashChain.objects.select_for_update().get(pk=pk)
