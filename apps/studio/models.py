"""The studio's own records: play sessions (and, beside them, its rounds). It keeps no money: the
wallet holds it, and these rows are what the studio needs to play and to recover."""

from __future__ import annotations

from django.db import models


class Session(models.Model):
    """A player's session of one game, opened by exchanging a launch token with the wallet
    (`authenticate`). The jurisdiction rules came signed with the launch (apps/common/launch.py).
    Only the session key's SHA-256 is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    player_id = models.CharField(max_length=100, help_text="PAM's id of the player, as the wallet API gives it")
    currency = models.CharField(max_length=3)
    game_code = models.CharField(max_length=64)
    jurisdiction = models.CharField(max_length=16, blank=True)
    min_cycle_ms = models.PositiveIntegerField(default=0, help_text="the shortest time between two rounds' starts")
    autoplay_allowed = models.BooleanField(default=True)
    show_session_info = models.BooleanField(default=False, help_text="net position and time shown in play")
    opened_at = models.DateTimeField()
    last_round_at = models.DateTimeField(null=True, blank=True, help_text="the start of the latest round")
    staked = models.BigIntegerField(default=0)
    returned = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["player_id", "opened_at"], name="studio_session_player")]
        constraints = [
            models.CheckConstraint(condition=models.Q(staked__gte=0, returned__gte=0), name="studio_session_sums"),
        ]

    def __str__(self) -> str:
        return f"{self.game_code} session of player {self.player_id}"

    @property
    def net_position(self) -> int:
        """What the player is up (positive) or down in this session, in minor units."""
        return self.returned - self.staked
