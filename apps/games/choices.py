"""The game types: what a game is, for the lobby and for bonus wagering weights."""

from django.db import models


class GameType(models.TextChoices):
    SLOTS = "slots", "Slots"
    TABLE = "table", "Table game"
    LIVE = "live", "Live casino"
    CRASH = "crash", "Crash"
    OTHER = "other", "Other"
