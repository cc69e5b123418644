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


class RoundState(models.TextChoices):
    """opened → bet_placed → outcome_drawn → settled, or → rolled_back / refused (docs/studio.md,
    "Rounds"). The first three are unfinished: a crash there leaves the round to recovery."""

    OPENED = "opened"
    BET_PLACED = "bet_placed"
    OUTCOME_DRAWN = "outcome_drawn"
    SETTLED = "settled"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"


UNFINISHED = (RoundState.OPENED, RoundState.BET_PLACED, RoundState.OUTCOME_DRAWN)


class Round(models.Model):
    """One round of a session. Its wallet calls' transaction ids derive from `round_id`
    (`<round_id>:bet`, `:win`, `:rollback`), so every resend is idempotent on the wallet's side;
    `request_id` (the client's, unique per session) makes a resend idempotent on the studio's."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="rounds")
    request_id = models.CharField(max_length=64)
    round_id = models.CharField(max_length=40, unique=True)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request: a reused request_id must match")
    autoplay = models.BooleanField(default=False)
    stake = models.BigIntegerField(help_text="the round's whole stake, in minor units")
    bets = models.JSONField(default=list, blank=True, help_text="roulette: the bets as the player placed them")
    state = models.CharField(max_length=16, choices=RoundState.choices, default=RoundState.OPENED)
    outcome = models.JSONField(null=True, blank=True)
    payout = models.BigIntegerField(null=True, blank=True)
    refusal_code = models.CharField(max_length=32, blank=True)
    answer_status = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True, help_text="what a resend of the request is answered, once final")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="while a request or recovery carries the round on (locks.claim_round)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "request_id"], name="studio_round_request_once"),
            models.CheckConstraint(condition=models.Q(stake__gt=0), name="studio_round_stake_positive"),
            models.CheckConstraint(
                condition=models.Q(payout__isnull=True) | models.Q(payout__gte=0), name="studio_round_payout"
            ),
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="studio_round_state")]

    def __str__(self) -> str:
        return f"round {self.round_id} ({self.state})"

    def transaction_id(self, operation: str) -> str:
        return f"{self.round_id}:{operation}"


class CrashChain(models.Model):
    """A hash chain of crash-room seeds (docs/crash-room.md): s_N drawn from the CSPRNG, each
    s_{i-1} = SHA-256(s_i), the commitment s_0 published before round 1. The terminal seed never
    leaves the server: every round's seed derives from it."""

    commitment = models.CharField(max_length=64, unique=True, help_text="s_0, hex: public")
    length = models.PositiveIntegerField(help_text="N: rounds the chain can play")
    next_index = models.PositiveIntegerField(default=1, help_text="the chain index of the next round to open")
    terminal_seed = models.CharField(max_length=64, help_text="s_N, hex: server-side only, never shown")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"crash chain {self.commitment[:12]}… ({self.next_index - 1}/{self.length} used)"


class CrashPhase(models.TextChoices):
    BETTING = "betting"
    RUNNING = "running"
    CRASHED = "crashed"


class CrashRound(models.Model):
    """One round of the crash room. Its crash point is fixed when it opens (from its seed) but is
    shown, with the seed, only once it has crashed."""

    number = models.PositiveBigIntegerField(unique=True)
    chain = models.ForeignKey(CrashChain, on_delete=models.PROTECT, related_name="rounds")
    chain_index = models.PositiveIntegerField(help_text="k: the round plays s_k")
    crash_x100 = models.PositiveBigIntegerField()
    phase = models.CharField(max_length=8, choices=CrashPhase.choices, default=CrashPhase.BETTING)
    betting_closes_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    crashed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, help_text="every bet's win call answered")
    seed = models.CharField(max_length=64, blank=True, help_text="s_k, hex: empty until the round crashed")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "chain_index"], name="studio_crash_round_chain_index"),
            models.CheckConstraint(condition=models.Q(crash_x100__gte=100), name="studio_crash_round_point"),
        ]

    def __str__(self) -> str:
        return f"crash round {self.number} ({self.phase})"


class CrashBetState(models.TextChoices):
    PENDING = "pending", "bet sent to the wallet"
    ACCEPTED = "accepted", "in play"
    CASHED_OUT = "cashed_out", "cashed out"
    LOST = "lost", "lost at the crash"
    VOID = "void", "not taken (the wallet gave no answer; rolled back)"


class CrashBet(models.Model):
    """One session's bet in one round. The wallet transaction ids derive from the round and the
    session (`bet_transaction_id`, `win_transaction_id`), so every resend of a call is the same
    call to the wallet and moves money at most once."""

    round = models.ForeignKey(CrashRound, on_delete=models.PROTECT, related_name="bets")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="crash_bets")
    player_id = models.CharField(max_length=100)
    currency = models.CharField(max_length=3)
    stake = models.BigIntegerField()
    cashout_x100 = models.PositiveBigIntegerField(null=True, blank=True)
    win = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=CrashBetState.choices, default=CrashBetState.PENDING)
    settled = models.BooleanField(default=False, help_text="the wallet answered the round's win call")
    placed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "session"], name="studio_crash_bet_one_per_session"),
            models.CheckConstraint(condition=models.Q(stake__gt=0), name="studio_crash_bet_stake"),
            models.CheckConstraint(
                condition=models.Q(win__gte=0) | models.Q(win__isnull=True), name="studio_crash_bet_win"
            ),
        ]
        indexes = [models.Index(fields=["settled", "state"], name="studio_crash_bet_unsettled")]

    def __str__(self) -> str:
        return f"crash bet of session {self.session_id} in round {self.round_id}"

    @staticmethod
    def transaction_id(round_number: int, session_id: int, kind: str) -> str:
        return f"pam-crash-{round_number}-{session_id}-{kind}"

    @staticmethod
    def wallet_round_id(round_number: int) -> str:
        return f"pam-crash-{round_number}"
