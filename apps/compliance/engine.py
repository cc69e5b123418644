"""The behaviour-rule engine: on every wallet event, the player's windowed counters and the rules
that apply to them (docs/rules.md).

Design
------
`receivers.evaluate_rules` hands each `transaction_posted` event here, after the money committed
(in the thread that moved it; the outbox sweeper re-delivers what a crash left undone).

- The enabled rules are cached per process (`active_rules`): loaded in one query at most every
  `CACHE_SECONDS`, and forgotten at once in the process that saves a rule (other processes see a
  change within `CACHE_SECONDS`). An event that no enabled rule counts (a win; every bet when no
  micro-bet rule is enabled; a bet by day when the only rule on bets is night play) costs nothing
  more: no receipt, no query.
- Otherwise, in one transaction with the event's receipt (`once_per_event`): one statement upserts
  the event into the buckets of the metrics the rules count, one bounded statement reads the
  buckets of their windows (never the ledger, never the player's history), and each rule whose
  window reaches its threshold fires. A re-delivered event finds its receipt and changes nothing;
  a crash before the commit leaves neither receipt nor counts, and the sweeper runs it again.
  Night play keeps no buckets: a bet at night reads the play session's start (one query) and
  compares the session with the night hours in Python (`_evaluate_sessions`).
- A firing is a `RuleFiring` row, unique per rule version, player and firing window (a database
  constraint): its actions run only when that row is new, so each is applied once per firing.
  Actions: `alert` (an `Alert`, and `alert_raised` after commit, which the real-time app pushes to
  the back office), `notice` (`player_notice`), `limit` (the rule's money limit, where it lowers
  the player's: `services.lower_limit_by_rule`), `require_kyc` (an unverified player's KYC hold:
  `services.require_kyc_by_rule`), `lock` and `freeze` (the account, through accounts' services,
  `account_locked` after commit, which closes the player's sockets with a notice). Each action
  that changed something is a staff action by the system actor "rules" naming the rule version
  (`rule.limit`, `rule.require_kyc`, `rule.lock`, `rule.freeze`).

Concurrency: two events of one player in the same bucket queue on the bucket's row, so the
second reads the first's count. Two events in different buckets may each miss the other's
uncommitted count; rules compare with "at least", so the next event fires the rule then: at most
one event late, never twice (the firing's constraint).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import structlog
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts.choices import PlayerStatus
from apps.common import staff_trail
from apps.common.db import prepared_cursor
from apps.common.events import once_per_event, send_after_commit
from apps.common.timestamps import iso_utc
from apps.compliance import locks, rules, selectors, services, signals, staff_audit
from apps.compliance.choices import RuleAction
from apps.compliance.models import Alert, RuleFiring, WindowBucket

logger = structlog.get_logger(__name__)

CACHE_SECONDS = 5.0
SYSTEM_ACTOR = "rules"
RECEIVER = "compliance.evaluate_rules"
LOCK_MESSAGE = "Your account is locked: contact support."
FREEZE_MESSAGE = "Your account is frozen until we review it: contact support."
KYC_MESSAGE = "We need to verify your identity. Deposits and play are paused until you are verified."
NOTICE_MESSAGE = (
    "We noticed an unusual pattern of play on your account. Take a break if you need one; "
    "our responsible-gambling tools are on your account page."
)

_cache_lock = threading.Lock()
_cache: tuple[float, tuple[rules.ActiveRule, ...]] | None = None


def active_rules() -> tuple[rules.ActiveRule, ...]:
    """The enabled rules' current versions, from this process's cache (reloaded after
    CACHE_SECONDS, or after `forget_rules`)."""
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    loaded = tuple(rules.compile_rule(version) for version in selectors.list_enabled_rule_versions())
    with _cache_lock:
        _cache = (now, loaded)
    return loaded


def forget_rules() -> None:
    """Drop this process's cached rules: the next event reads them again (after a rule is saved)."""
    global _cache
    with _cache_lock:
        _cache = None


def on_transaction_posted(event_id: int | None, event: dict) -> None:
    """Evaluate the event if an enabled rule counts it (see the module's docstring). Raises what
    the database raises: the event then stays undispatched and the sweeper delivers it again."""
    counted = [rule for rule in active_rules() if rule.counts_event(event)]
    if counted:
        _evaluate_once(None, event_id=event_id, counted=counted, **event)


@once_per_event(RECEIVER)
def _evaluate_once(sender, *, counted: list[rules.ActiveRule], event_id: int | None = None, **event) -> None:
    if event_id is not None:  # once_per_event runs this in the transaction of the receipt
        evaluate(counted, event_id=event_id, event=event)
        return
    with transaction.atomic():  # an event sent outside the outbox still counts in one transaction
        evaluate(counted, event_id=event_id, event=event)


def evaluate(counted: list[rules.ActiveRule], *, event_id: int | None, event: dict) -> list[RuleFiring]:
    """Count the event in its player's buckets and fire the rules whose window reaches their
    threshold, inside the caller's transaction. Returns the new firings."""
    player_id = int(event["player_id"])
    player = None
    if any(rule.scoped for rule in counted):
        player = accounts_selectors.get_player(player_id)
        jurisdiction_id = selectors.get_profile_for_brand(player.brand_id).pk
        counted = [rule for rule in counted if rule.applies_to(player.brand_id, jurisdiction_id)]
        if not counted:
            return []
    t = int(dt.datetime.fromisoformat(event["created_at"]).timestamp())
    value = abs(event["amount"])
    per_session = [rule for rule in counted if not rule.counts_in_buckets]
    counted = [rule for rule in counted if rule.counts_in_buckets]
    firings, trail = _evaluate_sessions(per_session, player, player_id, t, event, event_id)
    if counted:  # night play alone counts nothing in buckets
        _count(player_id, {rule.metric: t // rule.bucket * rule.bucket for rule in counted}, value, event_id)
    windows = _read_windows(player_id, counted, t) if counted else {}
    for rule in counted:
        total, count = windows[(rule.metric, rule.since(t))]
        threshold = rule.threshold_in(event["currency"], _deposit_threshold(rule, event["currency"]))
        measured = rule.measure(total, count)
        if threshold is None or measured < threshold:
            continue
        firing = _fire(rule, player_id, t, measured, threshold, event_id)
        if firing is None:
            continue
        firings.append(firing)
        player = player or accounts_selectors.get_player(player_id)
        trail += _act(rule, firing, player, event, since=rule.since(t), until=t)
    # The trail's head lock is the last lock of a transaction (locks.py): recorded after every write.
    for record in trail:
        staff_audit.record_staff_action(actor=None, system_actor=SYSTEM_ACTOR, **record)
    return firings


# --- the play session ----------------------------------------------------------------------------------


def _evaluate_sessions(
    per_session: list[rules.ActiveRule], player, player_id: int, t: int, event: dict, event_id: int | None
) -> tuple[list[RuleFiring], list[dict]]:
    """Fire the rules that compare the play session with the night (night play: the engine only
    hands them bets placed at night): one read of the session's start, never the player's history.
    Returns the new firings and the staff actions to record."""
    firings: list[RuleFiring] = []
    trail: list[dict] = []
    if not per_session:
        return firings, trail
    started = selectors.get_session_started_at(player_id)
    if started is None:  # never logged in: no session to compare
        return firings, trail
    since = int(started.timestamp())
    for rule in per_session:
        share = rule.night_share(since, t)
        threshold = rule.threshold_in(event["currency"], None)
        if share is None or share < threshold:
            continue
        firing = _fire(rule, player_id, t, share, threshold, event_id)
        if firing is None:
            continue
        firings.append(firing)
        player = player or accounts_selectors.get_player(player_id)
        trail += _act(rule, firing, player, event, since=since, until=t)
    return firings, trail


# --- the windows --------------------------------------------------------------------------------------

_APPEND_ID = {
    "postgresql": "CASE WHEN jsonb_array_length(b.event_ids) < {cap} THEN b.event_ids || EXCLUDED.event_ids "
    "ELSE b.event_ids END",
    "sqlite": "CASE WHEN json_array_length(b.event_ids) < {cap} "
    "THEN json_insert(b.event_ids, '$[#]', json_extract(EXCLUDED.event_ids, '$[0]')) ELSE b.event_ids END",
}


def _count(player_id: int, buckets: dict[str, int], value: int, event_id: int | None) -> None:
    """One statement: the event added to the bucket of each metric (created on first use)."""
    vendor = connection.vendor
    cast = "::jsonb" if vendor == "postgresql" else ""
    rows = ", ".join([f"(%s, %s, %s, %s, 1, %s{cast})"] * len(buckets))
    params: list[object] = []
    ids = json.dumps([event_id] if event_id is not None else [])
    for metric, start in sorted(buckets.items()):
        params += [player_id, metric, start, value, ids]
    append = _APPEND_ID[vendor].format(cap=WindowBucket.EVENT_IDS_PER_BUCKET)
    with prepared_cursor() as cursor:  # one text per set of metrics: prepared once per connection
        cursor.execute(
            "INSERT INTO compliance_window_bucket AS b (player_id, metric, bucket_start, total, count, event_ids) "  # noqa: S608 - placeholders only
            f"VALUES {rows} ON CONFLICT (player_id, metric, bucket_start) DO UPDATE "
            f"SET total = b.total + EXCLUDED.total, count = b.count + 1, event_ids = {append}",
            params,
        )


def _read_windows(player_id: int, counted: list[rules.ActiveRule], t: int) -> dict[tuple[str, int], tuple[int, int]]:
    """One bounded statement: the buckets of every counted rule's window (from the earliest start
    per metric up to `t`'s bucket), summed per (metric, window start) in Python."""
    earliest: dict[str, int] = {}
    for rule in counted:
        earliest[rule.metric] = min(earliest.get(rule.metric, rule.since(t)), rule.since(t))
    where = " OR ".join(["(metric = %s AND bucket_start >= %s AND bucket_start <= %s)"] * len(earliest))
    params: list[object] = [player_id]
    for metric, since in sorted(earliest.items()):
        params += [metric, since, t]
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT metric, bucket_start, total, count FROM compliance_window_bucket "  # noqa: S608 - placeholders only
            f"WHERE player_id = %s AND ({where})",
            params,
        )
        rows = cursor.fetchall()
    windows = {}
    for rule in counted:
        key = (rule.metric, rule.since(t))
        if key not in windows:
            inside = [(total, count) for metric, start, total, count in rows if metric == key[0] and start >= key[1]]
            windows[key] = (sum(row[0] for row in inside), sum(row[1] for row in inside))
    return windows


def _deposit_threshold(rule: rules.ActiveRule, currency: str) -> int | None:
    if rule.type != rules.RuleType.DEPOSIT_THRESHOLD:
        return None
    if currency not in rule.thresholds:
        params = rule.parameters
        converted = selectors.amount_in_currency(params["amount"], params["currency"], currency)
        if converted is None:
            logger.warning("rule_threshold_without_rate", rule=rule.code, currencies=(params["currency"], currency))
        rule.thresholds[currency] = converted
    return rule.thresholds[currency]


# --- firing and acting ----------------------------------------------------------------------------------


def _fire(rule: rules.ActiveRule, player_id: int, t: int, value: int, threshold: int, event_id: int | None):
    """The firing of `rule` for the player in this firing window, or None if it fired already."""
    try:
        with transaction.atomic():
            return RuleFiring.objects.create(
                rule_version_id=rule.version_id, player_id=player_id, window_start=rule.firing_window(t), value=value,
                threshold=threshold, event_id=event_id or 0, actions=list(rule.actions), created_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError:
        return None


def _act(rule: rules.ActiveRule, firing: RuleFiring, player, event: dict, *, since: int, until: int) -> list[dict]:
    """Apply the rule's actions for this firing (its window: buckets `since` to `until`); returns
    the staff actions to record."""
    trail = []
    if RuleAction.ALERT in rule.actions:
        ids = (
            selectors.list_window_event_ids(player.pk, rule.metric, since, until) if rule.counts_in_buckets
            else [firing.event_id] if firing.event_id else []  # a session's rule: the bet that fired it
        )  # fmt: skip
        alert = Alert.objects.create(
            firing=firing, rule_version_id=rule.version_id, player_id=player.pk, severity=rule.severity,
            event_ids=ids, value=firing.value, threshold=firing.threshold, created_at=firing.created_at,
        )  # fmt: skip
        send_after_commit(
            signals.alert_raised, alert_id=str(alert.pk), player_id=str(player.pk), rule=rule.code,
            rule_version=rule.version, rule_type=rule.type, severity=rule.severity, value=alert.value,
            threshold=alert.threshold, currency=event["currency"], created_at=iso_utc(alert.created_at),
        )  # fmt: skip
    if RuleAction.NOTICE in rule.actions:
        send_after_commit(signals.player_notice, player_id=str(player.pk), kind="responsible_gambling",
                          message=NOTICE_MESSAGE, data={"reason": "behaviour_rule"})  # fmt: skip
    why = (
        f"rule {rule.code} version {rule.version} (rule version id {rule.version_id}) fired: "
        f"{firing.value} reached {firing.threshold} (firing {firing.pk}, event {firing.event_id})"
    )
    if RuleAction.LIMIT in rule.actions and RuleAction.REQUIRE_KYC in rule.actions:
        # Both write the player row (its `needs_compliance_checks`) after their own lock: taking
        # the protection row's lock first keeps locks.py's order (protection, limit, player).
        locks.lock_protection(player)
    if RuleAction.LIMIT in rule.actions:
        trail += _apply_limit(rule, player, why)
    if RuleAction.REQUIRE_KYC in rule.actions and services.require_kyc_by_rule(player=player, message=KYC_MESSAGE):
        trail.append({"action": staff_trail.RULE_REQUIRE_KYC, "target": player, "before": {"kyc_hold": False},
                      "after": {"kyc_hold": True}, "reason": why})  # fmt: skip
    # A freeze is stricter than a lock (it stops withdrawals too): a rule with both freezes, and a
    # freeze also applies to an account a lock already closed.
    if RuleAction.FREEZE in rule.actions and player.status in (PlayerStatus.ACTIVE, PlayerStatus.LOCKED):
        trail.append(_close(player, services.freeze_account, staff_trail.RULE_FREEZE, FREEZE_MESSAGE, why))
    elif RuleAction.LOCK in rule.actions and player.status == PlayerStatus.ACTIVE:
        trail.append(_close(player, services.lock_account, staff_trail.RULE_LOCK, LOCK_MESSAGE, why))
    return trail


def _close(player, close, action: str, message: str, why: str) -> dict:
    """Lock or freeze the account (`close`: `services.lock_account` or `freeze_account`); the
    staff action to record."""
    before = player.status
    close(player=player, message=message)
    return {"action": action, "target": player, "before": {"status": before}, "after": {"status": player.status},
            "reason": why}  # fmt: skip


def _apply_limit(rule: rules.ActiveRule, player, why: str) -> list[dict]:
    """The rule's limit, in the player's currency, where it lowers theirs (`lower_limit_by_rule`)."""
    wanted = rule.parameters[rules.LIMIT]
    amount = selectors.amount_in_currency(wanted["amount"], wanted["currency"], player.currency_id)
    if amount is None:
        logger.warning("rule_limit_without_rate", rule=rule.code, currencies=(wanted["currency"], player.currency_id))
        return []
    lowered = services.lower_limit_by_rule(
        player=player, kind=wanted["kind"], period=wanted["period"], amount=amount, reason=why
    )
    if lowered is None:
        return []
    limit, before = lowered
    return [{"action": staff_trail.RULE_LIMIT, "target": limit, "before": {"amount": before},
             "after": {"amount": amount}, "reason": why}]  # fmt: skip
