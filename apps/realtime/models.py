"""One-time tickets that authenticate a WebSocket connection without a session cookie."""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Player


class RealtimeTicket(models.Model):
    """Got from `POST /api/player/v1/realtime/ticket` (or `manage.py realtime_ticket`) and
    passed as `?ticket=` when connecting; redeemed once within its lifetime. Only the ticket's
    SHA-256 is stored, so a database leak gives no connections."""

    token_hash = models.CharField(max_length=64, unique=True)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    credential = models.CharField(
        max_length=80, blank=True, default="",
        help_text="the sign-in that asked for it, as services.credential_of names it (empty: a sandbox command's); "
        "its sign-out closes the socket",
    )  # fmt: skip
    session_hash = models.CharField(
        max_length=128, blank=True, default="",
        help_text="when a session asked for it: the password hash the session carries, so that a password change "
        "or a deactivation that ends the session closes the socket too",
    )  # fmt: skip

    def __str__(self) -> str:
        return f"realtime ticket of player {self.player_id}"
