"""Player protection: jurisdiction profiles, limits and their audit trail, time-outs and
self-exclusions, and the per-player protection state the money path reads; and the hash-chained
trail of every staff action (`StaffAction`, written by `staff_audit.py`).

Design overview
---------------
The wallet asks `gate.assert_may_stake` / `assert_may_deposit` inside its money transaction,
after locking the player's accounts (through its extension point, `apps.wallet.extensions`). The
lock query already reads the player row, and `Player.needs_compliance_checks` says whether
anything here can refuse that player's stakes: a player with no wager, loss or session limit,
exclusion or KYC hold costs the bet no query at all (the cashier reads the deposit limits at each
deposit's start). Every service here that creates such a rule sets the flag in the same
transaction.

Nothing is ever applied by a scheduled job. A queued limit increase is a row with its
`pending_effective_at`; readers evaluate it against the clock (`Limit.effective`), and writers
materialise it the next time they touch the row. An exclusion is refused while `now < ends_at`
and, after that, until the player has asked to return and the return cooling-off has passed.

Usage over the rolling windows is summed from the ledger (wallet Transaction rows, by player and
created_at; the index is created by migration 0003 of this app).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Brand, Currency, Player
from apps.compliance.choices import (
    AlertStatus,
    CaseOutcome,
    CaseStatus,
    ExclusionKind,
    LimitChangeStatus,
    LimitKind,
    LimitPeriod,
    MarkKind,
    RuleType,
    SelfExclusionPeriod,
    Severity,
)

# How long the account stays closed after the player asks to come back (all profiles).
RETURN_COOLING_OFF = dt.timedelta(hours=24)


class JurisdictionProfile(models.Model):
    """The regulator's numbers a brand runs under (UKGC, MGA, SGA are seeded; admins edit them)."""

    code = models.SlugField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    # The profile of a brand that has none set (exactly one profile may be the default).
    is_default = models.BooleanField(default=False)
    deposit_limit_cooling_off = models.DurationField(help_text="before a deposit-limit increase or removal applies")
    other_limit_cooling_off = models.DurationField(help_text="before any other limit increase or removal applies")
    increase_needs_confirmation = models.BooleanField(
        default=False, help_text="the player must re-confirm an increase once its cooling-off has ended (UKGC)"
    )
    deposit_limit_at_registration = models.BooleanField(default=True)
    reality_check_minutes = models.PositiveIntegerField(help_text="default reality-check interval")
    shortest_self_exclusion = models.CharField(
        max_length=2, choices=SelfExclusionPeriod.choices, default=SelfExclusionPeriod.SIX_MONTHS
    )
    kyc_deposit_threshold = models.BigIntegerField(
        help_text="cumulative deposits (minor units of the threshold's currency) an unverified player may make"
    )
    # A player in another currency: the threshold at the currencies' reference rates (Currency.units_per_eur).
    kyc_threshold_currency = models.ForeignKey(Currency, on_delete=models.PROTECT, default="EUR", related_name="+")
    # The rules for play, which the launch signs into the game's URL (docs/player-protection.md,
    # "Rules for play"): the game enforces them, PAM cannot see a round's pace.
    min_game_cycle_ms = models.PositiveIntegerField(
        default=0, help_text="shortest time between the starts of two game rounds, ms (0: no minimum)"
    )
    autoplay_allowed = models.BooleanField(default=True, help_text="whether games may offer autoplay")
    session_info_in_play = models.BooleanField(
        default=False, help_text="whether the game shows the session's net position and elapsed time while playing"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"),
            models.CheckConstraint(condition=Q(reality_check_minutes__gte=1), name="profile_reality_check_positive"),
            models.CheckConstraint(condition=Q(kyc_deposit_threshold__gte=0), name="profile_kyc_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.code

    def cooling_off(self, kind: str) -> dt.timedelta:
        return self.deposit_limit_cooling_off if kind == LimitKind.DEPOSIT else self.other_limit_cooling_off


@dataclass(frozen=True)
class Pending:
    amount: int | None
    effective_at: dt.datetime
    needs_confirmation: bool


class Limit(models.Model):
    """One limit of a player: a kind and a period (session limits: period "", minutes).

    `amount` is what is in force (None: no limit, the row is kept for a queued change). A queued
    increase or removal is `pending_*`; it counts from `pending_effective_at` on, or, when
    `pending_needs_confirmation`, from the player's confirmation after that moment.
    """

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="limits")
    kind = models.CharField(max_length=8, choices=LimitKind.choices)
    period = models.CharField(max_length=3, choices=LimitPeriod.choices, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    has_pending = models.BooleanField(default=False)
    pending_amount = models.BigIntegerField(null=True, blank=True)
    pending_effective_at = models.DateTimeField(null=True, blank=True)
    pending_needs_confirmation = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["player", "kind", "period"]
        constraints = [
            models.UniqueConstraint(fields=["player", "kind", "period"], name="one_limit_per_kind_and_period"),
            models.CheckConstraint(
                condition=(Q(kind=LimitKind.SESSION) & Q(period=""))
                | (~Q(kind=LimitKind.SESSION) & Q(period__one_of=LimitPeriod.values)),
                name="limit_period_matches_kind",
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="limit_amount_positive"),
            models.CheckConstraint(
                condition=Q(has_pending=False) | Q(pending_effective_at__isnull=False), name="limit_pending_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period or 'session'} of player {self.player_id}"

    def effective(self, now: dt.datetime) -> tuple[int | None, Pending | None]:
        """(the amount in force at `now`, the change still pending at `now`), without writing."""
        return limit_in_force(self.amount, self.has_pending, self.pending_amount, self.pending_effective_at,
                              self.pending_needs_confirmation, now)  # fmt: skip


def limit_in_force(
    amount: int | None,
    has_pending: bool,
    pending_amount: int | None,
    pending_effective_at: dt.datetime | None,
    pending_needs_confirmation: bool,
    now: dt.datetime,
) -> tuple[int | None, Pending | None]:
    """`Limit.effective` on a limit's columns, for the money path (which reads them with plain
    SQL and does not build a model per limit): a pending change whose cooling-off has ended and
    that needs no confirmation is in force."""
    if not has_pending:
        return amount, None
    if now >= pending_effective_at and not pending_needs_confirmation:
        return pending_amount, None
    return amount, Pending(pending_amount, pending_effective_at, pending_needs_confirmation)


class LimitChange(models.Model):
    """The audit trail of limits: every change, who made it, the old and new value, and why."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=LimitKind.choices)
    period = models.CharField(max_length=3, choices=LimitPeriod.choices, blank=True)
    status = models.CharField(max_length=10, choices=LimitChangeStatus.choices)
    old_amount = models.BigIntegerField(null=True, blank=True)
    new_amount = models.BigIntegerField(null=True, blank=True)
    effective_at = models.DateTimeField()
    # None with `by_player`: the player; a staff user otherwise. None and not by_player: the system.
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_player = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["player", "created_at"], name="limit_change_player_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period or 'session'}: {self.old_amount} -> {self.new_amount} ({self.status})"


class Exclusion(models.Model):
    """A time-out or a self-exclusion. Never shortened, never deleted: the admin shows it read-only
    and no service changes `ends_at`. The player is blocked while `now < ends_at`, and after that
    until `return_requested_at + RETURN_COOLING_OFF`."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="exclusions")
    kind = models.CharField(max_length=16, choices=ExclusionKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    return_requested_at = models.DateTimeField(null=True, blank=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="exclusion_ends_after_start")
        ]
        indexes = [models.Index(fields=["player", "-starts_at"], name="exclusion_player_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of player {self.player_id} until {self.ends_at:%Y-%m-%d %H:%M}"

    def blocks_at(self, now: dt.datetime) -> bool:
        if now < self.ends_at:
            return True
        return self.return_requested_at is None or now < self.return_requested_at + RETURN_COOLING_OFF

    def returns_at(self) -> dt.datetime | None:
        return None if self.return_requested_at is None else self.return_requested_at + RETURN_COOLING_OFF


class PlayerProtection(models.Model):
    """The per-player state the money path reads in one query when the player's flag is set:
    the current exclusion, the KYC hold, the play session and the reality-check setting."""

    player = models.OneToOneField(Player, on_delete=models.PROTECT, primary_key=True, related_name="protection")
    exclusion = models.ForeignKey(Exclusion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Set by the deposit that took an unverified player's cumulative deposits to the threshold.
    kyc_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    # The current play session: from the last login (the session time limit and reality checks).
    session_started_at = models.DateTimeField(null=True, blank=True)
    reality_check_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="None: the profile's")
    last_reality_check_at = models.DateTimeField(null=True, blank=True)
    reality_check_acknowledged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"protection of player {self.player_id}"

    @property
    def reality_check_awaits_ack(self) -> bool:
        return reality_check_awaits_ack(self.last_reality_check_at, self.reality_check_acknowledged_at)


def reality_check_awaits_ack(sent_at: dt.datetime | None, acknowledged_at: dt.datetime | None) -> bool:
    """Whether play is paused at a reality check: one was sent in this session and the player has
    not acknowledged it since (a new login starts a session with none)."""
    return sent_at is not None and (acknowledged_at is None or acknowledged_at < sent_at)


class PlaySession(models.Model):
    """A login of the player: its Django session key (None for a bearer-token login), so that an
    exclusion can end every session of the player without scanning the session table."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["player"], name="play_session_player_idx")]

    def __str__(self) -> str:
        return f"session of player {self.player_id} from {self.started_at:%Y-%m-%d %H:%M}"


class StaffAction(models.Model):
    """One thing a staff member (or, with no actor, a management command) did: the audit trail of
    ARCHITECTURE.md's invariant 5 for staff actions, written by `staff_audit.record_staff_action`.

    Append-only (PostgreSQL triggers reject UPDATE and DELETE, migration 0004) and hash-chained:
    `chain_hash` is the SHA-256 of `previous_hash` and the record (`staff_audit.link`), so a
    record changed, removed or inserted behind the triggers is named by `manage.py staff_audit`.
    `before` and `after` hold the values of the fields that changed, secrets as "[redacted]".
    """

    created_at = models.DateTimeField()
    # None only for the system (a management command); every back-office path names its user.
    # Indexed with the record's id (`staff_action_actor_idx`): one staff member's records in order.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", db_index=False)  # fmt: skip
    # With no actor: which part of the system acted ("rules": the behaviour-rule engine); empty
    # for a management command, as before this column existed.
    system_actor = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=100, help_text="a stable code: admin.change, limit.set, wallet.adjust …")
    target_type = models.CharField(max_length=100, help_text="app_label.model")
    target_id = models.CharField(max_length=255, help_text="the object's primary key")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            # One chain, never a fork: two records cannot follow the same one, even if an append
            # ever skipped the head's lock.
            models.UniqueConstraint(fields=["previous_hash"], name="staff_action_one_successor"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="staff_action_target_idx"),
            # The back office's list by action or by actor, newest first (docs/backoffice.md,
            # "Large tables in the admin"); their leading columns also give the filters' choices.
            models.Index(fields=["action", "id"], name="staff_action_action_idx"),
            models.Index(fields=["actor", "id"], name="staff_action_actor_idx"),
        ]

    def __str__(self) -> str:
        by = self.actor_id or (f"system:{self.system_actor}" if self.system_actor else "system")
        return f"{self.action} {self.target_type}:{self.target_id} by {by}"


class StaffActionHead(models.Model):
    """The end of the staff-action chain: a single row (pk 1) holding the last record's hash. Every
    append locks it (`locks.lock_staff_action_head`), which is what serialises the chain, and the
    audit compares it with the last record (a removed last record shows here)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    chain_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="staff_action_head_single_row")]

    def __str__(self) -> str:
        return f"staff action chain head {self.chain_hash[:12]}"


# --- the behaviour-rule engine (docs/rules.md) ------------------------------------------------------


class Rule(models.Model):
    """A behaviour rule as data: its type, parameters (validated per type: `rules.py`), severity,
    scope (a brand, a jurisdiction, both, or neither: every player) and actions.

    Written only by `services.save_rule`, which also appends the `RuleVersion` that `version`
    names and a `rule.save` staff action: an alert names the version that fired, so a rule edited
    later still says what it was when it fired. Never deleted (versions and alerts point at it):
    a rule is retired by disabling it.
    """

    code = models.SlugField(max_length=64, unique=True, help_text="a stable name, e.g. micro-bets-60s")
    type = models.CharField(max_length=32, choices=RuleType.choices)
    parameters = models.JSONField(default=dict)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              help_text="empty: every brand")  # fmt: skip
    jurisdiction = models.ForeignKey(JurisdictionProfile, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", help_text="empty: every jurisdiction")  # fmt: skip
    actions = models.JSONField(default=list, help_text="a list among alert, notice, limit, require_kyc, lock, freeze")
    enabled = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=0, help_text="the number of the current RuleVersion")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(type__one_of=RuleType.values), name="rule_type_valid"),
            models.CheckConstraint(condition=Q(severity__one_of=Severity.values), name="rule_severity_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class RuleVersion(models.Model):
    """One saved state of a rule, immutable (a PostgreSQL trigger rejects UPDATE and DELETE):
    what was in force between its `created_at` and the next version's."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=32, choices=RuleType.choices)
    parameters = models.JSONField(default=dict)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    jurisdiction = models.ForeignKey(JurisdictionProfile, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")  # fmt: skip
    actions = models.JSONField(default=list)
    enabled = models.BooleanField()
    created_at = models.DateTimeField()
    # None: the seed migration (the system); otherwise the staff user who saved it.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")  # fmt: skip
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="rule_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class WindowBucket(models.Model):
    """A player's sum and count of one metric over one bucket of time: what a rule's window reads
    instead of the ledger (docs/rules.md, "Windows").

    `metric` names what is counted and the bucket's size ("deposit@3600": deposits in hourly
    buckets); `bucket_start` is the bucket's start in Unix seconds (integers: the same on
    PostgreSQL and SQLite, and exact). Upserted by the engine in the transaction that also writes
    the event's receipt, so an event is counted once however often it is delivered.
    `event_ids` keeps the first `EVENT_IDS_PER_BUCKET` outbox event ids of the bucket: what an
    alert says made it fire.
    """

    EVENT_IDS_PER_BUCKET = 50

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=40)
    bucket_start = models.BigIntegerField()
    total = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)
    event_ids = models.JSONField(default=list)

    class Meta:
        db_table = "compliance_window_bucket"
        constraints = [
            models.UniqueConstraint(fields=["player", "metric", "bucket_start"], name="window_bucket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} of player {self.player_id} at {self.bucket_start}: {self.total} / {self.count}"


class RuleRun(models.Model):
    """A player's current run of events in a row for the rules that follow runs rather than
    windows (docs/rules.md, "Runs"): failed deposits with no successful one between them, or
    deposits each larger than the one before, made after losses.

    `key` names the run and what breaks it ("deposit_failed@3600"): rules with the same key share
    it. Times are Unix seconds, as the buckets'. `events` keeps the last `rules.RUN_EVENTS` events as
    [outbox event id, second]: what the rule measures and what its alert lists. Written by the
    engine in the transaction of the event's receipt, so an event moves a run once however often
    it is delivered; a break starts a new run on the same row.
    """

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=40)
    count = models.IntegerField(default=0, help_text="the events of the run so far")
    started_at = models.BigIntegerField(help_text="the run's first event (Unix seconds): its firing window")
    last_at = models.BigIntegerField(help_text="the run's last event (Unix seconds)")
    last_value = models.BigIntegerField(default=0, help_text="the last event's amount (minor units)")
    events = models.JSONField(default=list)

    class Meta:
        db_table = "compliance_rule_run"
        constraints = [models.UniqueConstraint(fields=["player", "key"], name="rule_run_unique")]

    def __str__(self) -> str:
        return f"{self.key} of player {self.player_id}: {self.count} since {self.started_at}"


class IdentityMark(models.Model):
    """A player seen with one payment instrument, device or network (`kind`), by its keyed hash
    (`value`: `common.identity`, never the raw number, id or address): first and last seen, and
    the outbox event that last saw it. Upserted by `identity.py` from accounts' and payments'
    events; what the shared-identity rule reads, through the (kind, value, last_seen) index, one
    bounded query per event (docs/rules.md, "Shared identity")."""

    kind = models.CharField(max_length=16, choices=MarkKind.choices)
    value = models.CharField(max_length=64)
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_event_id = models.BigIntegerField(default=0, help_text="the outbox event that last saw it (0: none)")

    class Meta:
        db_table = "compliance_identity_mark"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value", "player"], name="identity_mark_unique"),
            models.CheckConstraint(condition=Q(kind__one_of=MarkKind.values), name="identity_mark_kind_valid"),
        ]
        indexes = [models.Index(fields=["kind", "value", "last_seen"], name="identity_mark_seen_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value[:12]}… of player {self.player_id}"


class RuleFiring(models.Model):
    """A rule version firing for a player in one firing window: the row whose uniqueness makes
    each action apply once per firing (a re-delivered event, or the next event still over the
    threshold in the same window, finds it and does nothing)."""

    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    # A rule about a player names the player; a rule about a game (RTP drift) names none, and its
    # `subject` says which game, currency and stake band instead ("acme/fruits EUR 1").
    player = models.ForeignKey(Player, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=240, blank=True, default="")
    window_start = models.DateTimeField(help_text="the start of the firing window (the rule's window, aligned)")
    value = models.BigIntegerField(help_text="the sum or count that reached the threshold")
    threshold = models.BigIntegerField()
    event_id = models.BigIntegerField(help_text="the outbox event that made it fire")
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_version", "player", "window_start"], name="rule_fires_once_per_window"
            ),
            # A player's NULL would make every game firing distinct: games are unique by subject.
            models.UniqueConstraint(
                fields=["rule_version", "subject", "window_start"],
                condition=Q(player__isnull=True),
                name="rule_fires_once_per_window_and_subject",
            ),
            models.CheckConstraint(
                condition=(Q(player__isnull=False) & Q(subject="")) | (Q(player__isnull=True) & ~Q(subject="")),
                name="rule_firing_player_xor_subject",
            ),
        ]

    def __str__(self) -> str:
        about = self.subject or f"player {self.player_id}"
        return f"{self.rule_version} fired for {about} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Alert(models.Model):
    """What a firing with the `alert` action leaves for compliance staff: the rule version, the
    player, the severity, the events that made it fire, and its status."""

    firing = models.OneToOneField(RuleFiring, on_delete=models.PROTECT, related_name="alert")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="alerts")
    # None for an alert about a game (RTP drift: `detail` says which game and band); such an
    # alert is never put in a case, which is about one player.
    player = models.ForeignKey(Player, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    # The outbox event ids of the window's events (up to EVENT_IDS_PER_BUCKET per bucket), in order.
    event_ids = models.JSONField(default=list)
    value = models.BigIntegerField()
    threshold = models.BigIntegerField()
    # What the value alone does not say, per rule type: for a shared identity, the mark's kind and
    # the other players who share it ({"kind": ..., "players": [ids]}); for an RTP drift, the game,
    # currency, band, rounds and the RTPs (docs/rtp.md).
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # The case the alert was grouped into (cases.py), set once. A nullable foreign key rather than
    # a link table: "at most one case per alert" is then the column itself, not a unique
    # constraint to remember, and the alerts queue filters on it without a join.
    case = models.ForeignKey("Case", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"], name="alert_status_idx")]

    def __str__(self) -> str:
        about = f"player {self.player_id}" if self.player_id else self.detail.get("subject", "a game")
        return f"{self.severity} alert {self.pk} for {about}"


RESOLVED_WITH_OUTCOME = (
    Q(status=CaseStatus.RESOLVED, outcome__one_of=CaseOutcome.values, resolved_at__isnull=False)
    & ~Q(resolution_note="")
) | (~Q(status=CaseStatus.RESOLVED) & Q(outcome="", resolved_at__isnull=True))


class Case(models.Model):
    """Alerts of one player grouped for an investigation by compliance staff (docs/rules.md,
    "Cases"). Written only by `cases.py`, each change a staff action; once resolved (an outcome
    and a note), it takes no more changes. `period_start`/`period_end` bound the transactions its
    suspicious-activity report lists (both included)."""

    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")  # fmt: skip
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=16, choices=CaseOutcome.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"], name="case_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__one_of=CaseStatus.values), name="case_status_valid"),
            # An outcome exactly when resolved, with its time and a note that says why.
            models.CheckConstraint(condition=RESOLVED_WITH_OUTCOME, name="case_outcome_when_resolved"),
            models.CheckConstraint(condition=Q(period_start__lt=F("period_end")), name="case_period_valid"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.title}"


class CaseComment(models.Model):
    """A staff member's note on a case; append-only (on PostgreSQL a trigger refuses UPDATE and
    DELETE: migration 0008)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"comment {self.pk} on case {self.case_id}"


class CaseAttachment(models.Model):
    """A file attached to a case (evidence: a statement, a screenshot), kept through Django's
    storage under `MEDIA_ROOT`; its declared type and size were checked by `cases.attach`."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="cases/%Y/%m/")
    name = models.CharField(max_length=200, help_text="the file's name as uploaded")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # The SHA-256 of the content, also in the trail's record: a file changed on the storage
    # behind the database's back no longer matches either.
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name
