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
    # What the game is expected to return, for the live RTP report and the drift rule
    # (docs/rtp.md). Exact enough to hold 36/37 to 10 places; both blank: the game is not monitored.
    declared_rtp = models.DecimalField(
        max_digits=12, decimal_places=10, null=True, blank=True,
        help_text="expected return per unit staked, e.g. 0.9729729730 for 97.30 %; blank: not monitored",
    )  # fmt: skip
    return_sigma = models.DecimalField(
        max_digits=14, decimal_places=10, null=True, blank=True,
        help_text="standard deviation of one round's return per unit staked (sigma); blank: not monitored",
    )  # fmt: skip

    class Meta:
        ordering = ["provider", "code"]
        permissions = [("view_live_rtp", "Can view the live RTP report")]
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="game_code_unique_per_provider"),
            models.CheckConstraint(condition=models.Q(game_type__one_of=GameType.values), name="game_type_known"),
            models.CheckConstraint(
                condition=models.Q(declared_rtp__isnull=True) | models.Q(declared_rtp__gt=0, declared_rtp__lt=10),
                name="game_declared_rtp_range",
            ),
            models.CheckConstraint(
                condition=models.Q(return_sigma__isnull=True) | models.Q(return_sigma__gt=0),
                name="game_return_sigma_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider.code}/{self.code}"

    @property
    def monitored(self) -> bool:
        """Whether the live RTP report and the drift rule judge this game: both values known."""
        return self.declared_rtp is not None and self.return_sigma is not None


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
