"""Game providers (who may call the wallet API), their games, and one-time launch tokens."""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Player
from apps.games.choices import GameType


class Provider(models.Model):
    """A game provider or aggregator. `secret` keys the HMAC of every wallet API call, so it is
    kept as given (it can't be hashed); `enabled=False` refuses all of its calls at once."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True)
    secret = models.CharField(max_length=256)
    enabled = models.BooleanField(default=True)
    # Where PAM sends a player's browser to open one of the provider's games (docs/games.md,
    # "Launch"): `{game}` stands for the game's code. Blank: its games cannot be launched from PAM.
    launch_url = models.CharField(
        max_length=500,
        blank=True,
        help_text="the game page's URL, {game} for the game's code; relative (/studio/play/{game}/) for one "
        "served by PAM itself; blank: its games cannot be launched from PAM",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Game(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="games")
    code = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    game_type = models.CharField(max_length=16, choices=GameType.choices, default=GameType.SLOTS)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["provider", "code"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="game_code_unique_per_provider"),
            models.CheckConstraint(condition=models.Q(game_type__in=GameType.values), name="game_type_known"),
        ]

    def __str__(self) -> str:
        return f"{self.provider.code}/{self.code}"


class LaunchToken(models.Model):
    """Minted when a player launches a game; the provider exchanges it once (`authenticate`)
    within its lifetime. Only the token's SHA-256 is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    game = models.ForeignKey(Game, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"launch token of player {self.player_id} for {self.provider_id}"
