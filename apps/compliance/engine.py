"""The behaviour-rule engine: on every wallet event, the player's windowed counters and the rules
that apply to them (docs/rules.md).

Design
------
`receivers.evaluate_rules` hands each `transaction_posted` event here, after the money committed
(in the thread that moved it; the outbox sweeper re-delivers what a crash left undone).

- The enabled rules are cached per process (`active_rules`): loaded in one query at most every
  `CACHE_SECONDS`, and forgotten at once in the process that saves a rule (other processes see a
  change within `CACHE_SECONDS`). An event that no enabled rule counts (a win; every bet when no
  micro-bet or rapid-cycling rule is enabled; a bet by day when the only rule on bets is night
  play) costs nothing more: no receipt, no query.
- Otherwise, on PostgreSQL, one statement (`_count_and_read`) writes the event's receipt,
  upserts the event into the buckets of the metrics the rules count and reads the buckets of their
  windows (never the ledger, never the player's history), and commits alone. A re-delivered event
  finds its receipt and is not counted again, but is evaluated again, so a crash between the count
  and a firing is made good by the sweeper. (SQLite, the embedded mode, and events that move a
  run: the receipt, the counts and the firing in one transaction through `once_per_event`.)
- A rule may count events it is not evaluated on (rapid cycling counts bets and deposits and
  reads them on a withdrawal request: a bet then costs its share of the one upsert, no read).
- Rules of runs (failed deposits in a row, loss chasing) keep a `RuleRun` row per player instead
  of buckets, moved under its lock in the transaction of the event's receipt; the cashier's failed
  deposits (payments' `deposit_failed`) come in through `on_deposit_failed`, once per event as well.
- Night play keeps no buckets: a bet at night reads the play session's start (in the counting
  statement when a bucket rule counts the bet too, else one query) and compares the session with
  the night hours in Python (`_due_sessions`); it counts nothing,
  so evaluating it again changes nothing but what the firing's constraint already refuses.
- A firing is a `RuleFiring` row, unique per rule version, player and firing window (a database
  constraint), written with its actions in one transaction: they run only when that row is new,
  so each is applied once per firing however often the event is evaluated.
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
from dataclasses import replace

import structlog
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts import selectors as accounts_selectors
from apps.accounts.choices import PlayerStatus
from apps.common import staff_trail
from apps.common.db import prepared_cursor
from apps.common.events import RECEIPT_CTE, once_per_event, receipt_params, send_after_commit
from apps.common.timestamps import iso_utc
from apps.compliance import game_rtp, locks, rules, selectors, services, signals, staff_audit
from apps.compliance.choices import RuleAction
from apps.compliance.models import Alert, RuleFiring, RuleRun, WindowBucket
from apps.games import selectors as games

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
    """Drop this process's cached rules: the next event reads them again (after a rule is saved).
    The RTP drift rule's per-game counts and the games' expected returns it read start afresh too."""
    global _cache
    with _cache_lock:
        _cache = None
    game_rtp.forget_counts()
    games.forget_game_expectations()


def on_transaction_posted(event_id: int | None, event: dict) -> None:
    """Evaluate the event if an enabled rule counts it (see the module's docstring). Raises what
    the database raises: the event then stays undispatched and the sweeper delivers it again."""
    active = active_rules()
    game_rules = [rule for rule in active if rule.type == rules.RuleType.GAME_RTP_DRIFT]
    if game_rules:  # about the game, not the player: counted in memory, read every so often
        game_rtp.on_event(game_rules, event_id, event)
    counted = [rule for rule in active if rule.counts_event(event)]
    if not counted:
        return
    if event_id is not None and connection.vendor == "postgresql" and not any(rule.run_key for rule in counted):
        # The receipt travels in the statement that counts the event (`_count_and_read`), which
        # commits on its own; a firing gets a transaction of its own (`evaluate`). A run moves
        # under its row's lock in the receipt's transaction (`_evaluate_once`).
        evaluate(counted, event_id=event_id, event=event, receipt=RECEIVER)
        return
    _evaluate_once(None, event_id=event_id, counted=counted, **event)


@once_per_event(RECEIVER)
def _evaluate_once(sender, *, counted: list[rules.ActiveRule], event_id: int | None = None, **event) -> None:
    if event_id is not None:  # once_per_event runs this in the transaction of the receipt
        evaluate(counted, event_id=event_id, event=event)
        return
    with transaction.atomic():  # an event sent outside the outbox still counts in one transaction
        evaluate(counted, event_id=event_id, event=event)


def evaluate(
    counted: list[rules.ActiveRule], *, event_id: int | None, event: dict, receipt: str | None = None
) -> list[RuleFiring]:
    """Count the event in its player's buckets and fire the rules whose window reaches their
    threshold. Returns the new firings.

    Without `receipt`, inside the caller's transaction (`_evaluate_once`'s, with the receipt).
    With `receipt` (a receiver's name; PostgreSQL, an outbox event), counted exactly once and
    evaluated at least once: the receipt is written by the statement that counts the event and
    commits with it, alone (one round trip: no BEGIN, no COMMIT); an event received before is not
    counted again, but its windows are read and evaluated again, so a crash after the count and
    before a firing is made good by the sweeper's re-delivery. A firing and its actions commit in
    one transaction, at most once per firing window (RuleFiring's constraint), however often the
    event is evaluated."""
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
    runs = [rule for rule in counted if rule.run_key]
    per_session = [rule for rule in counted if not rule.counts_in_buckets]
    bucketed = [rule for rule in counted if rule.counts_in_buckets and not rule.run_key]
    buckets, evaluated = _buckets(bucketed, event, t)
    reads = _window_reads(evaluated)
    session: int | object | None = _UNREAD
    if not buckets and not reads:
        windows = {}
    elif receipt is not None:
        found = _count_and_read(player_id, buckets, value, event_id, receipt, reads, t, session=bool(per_session))
        if found is None:  # received before: counted then, evaluated again now
            windows = _read_windows(player_id, reads, t) if reads else {}
        else:
            windows = _sum_windows(found, reads, t)
            if per_session:
                session = next((start for metric, start, _, _ in found if metric == _SESSION), None)
    else:
        if buckets:
            _count(player_id, buckets, value, event_id)
        windows = _read_windows(player_id, reads, t) if reads else {}
    due = []
    for rule in evaluated:
        measured, threshold = _measure(rule, windows, t, event["currency"])
        if threshold is not None and measured >= threshold:
            due.append((rule, measured, threshold, rule.since(t)))
    due += _due_sessions(per_session, player_id, t, event, session)
    if not due and not runs:
        return []
    firings, trail = [], []
    with transaction.atomic():
        for rule, measured, threshold, since in due:
            firing = _fire(rule, player_id, t, measured, threshold, event_id)
            if firing is None:
                continue
            firings.append(firing)
            player = player or accounts_selectors.get_player(player_id)
            trail += _act(rule, firing, player, event, since=since, until=t)
        if runs:
            trail += _advance_runs(runs, player_id, event, event_id=event_id, t=t, firings=firings)
        # The trail's head lock is the last lock of a transaction (locks.py): recorded after every write.
        for record in trail:
            staff_audit.record_staff_action(actor=None, system_actor=SYSTEM_ACTOR, **record)
    return firings


# --- the play session ----------------------------------------------------------------------------------


# `session` not read yet (`_due_sessions` reads it); the row `_count_and_read` returns it in.
_UNREAD = object()
_SESSION = "#session"


def _due_sessions(
    per_session: list[rules.ActiveRule], player_id: int, t: int, event: dict, session: int | object | None = _UNREAD
) -> list[tuple[rules.ActiveRule, int, int, int]]:
    """The rules that compare the play session with the night and are due (night play: the engine
    only hands them bets placed at night), as (rule, share, threshold, session start): the
    session's start (Unix seconds, None before the first login) as the counting statement read it,
    or one read of it here, never the player's history."""
    if not per_session:
        return []
    if session is _UNREAD:
        started = selectors.get_session_started_at(player_id)
        session = None if started is None else int(started.timestamp())
    if session is None:  # never logged in: no session to compare
        return []
    since = session
    due = []
    for rule in per_session:
        share = rule.night_share(since, t)
        threshold = rule.threshold_in(event["currency"], None)
        if share is not None and share >= threshold:
            due.append((rule, share, threshold, since))
    return due


# --- the windows --------------------------------------------------------------------------------------

_APPEND_ID = {
    "postgresql": "CASE WHEN jsonb_array_length(b.event_ids) < {cap} THEN b.event_ids || EXCLUDED.event_ids "
    "ELSE b.event_ids END",
    "sqlite": "CASE WHEN json_array_length(b.event_ids) < {cap} "
    "THEN json_insert(b.event_ids, '$[#]', json_extract(EXCLUDED.event_ids, '$[0]')) ELSE b.event_ids END",
}


def _on_conflict_add(vendor: str) -> str:
    """The bucket upsert's conflict clause: the event added to the bucket's sum and count, its id
    kept while the bucket holds fewer than `EVENT_IDS_PER_BUCKET`."""
    append = _APPEND_ID[vendor].format(cap=WindowBucket.EVENT_IDS_PER_BUCKET)
    return (
        "ON CONFLICT (player_id, metric, bucket_start) DO UPDATE "
        f"SET total = b.total + EXCLUDED.total, count = b.count + 1, event_ids = {append}"
    )


def _count(player_id: int, buckets: dict[str, int], value: int, event_id: int | None) -> None:
    """One statement: the event added to the bucket of each metric (created on first use)."""
    vendor = connection.vendor
    cast = "::jsonb" if vendor == "postgresql" else ""
    rows = ", ".join([f"(%s, %s, %s, %s, 1, %s{cast})"] * len(buckets))
    params: list[object] = []
    ids = json.dumps([event_id] if event_id is not None else [])
    for metric, start in sorted(buckets.items()):
        params += [player_id, metric, start, value, ids]
    with prepared_cursor() as cursor:  # one text per set of metrics: prepared once per connection
        cursor.execute(
            "INSERT INTO compliance_window_bucket AS b (player_id, metric, bucket_start, total, count, event_ids) "  # noqa: S608 - placeholders only
            f"VALUES {rows} {_on_conflict_add(vendor)}",
            params,
        )


def _count_and_read(
    player_id: int, buckets: dict[str, int], value: int, event_id: int, receipt: str,
    reads: list[rules.ActiveRule], t: int, *, session: bool = False,
) -> list[tuple[str, int, int, int]] | None:  # fmt: skip
    """PostgreSQL, the hot case (a bet counted by the micro-bet rule): the event's receipt, its
    count in each metric's bucket (`buckets`) and the read of the windows of `reads` in ONE
    statement, where `once_per_event`, `_count` and `_read_windows` take three. The counting and
    the read depend on the receipt being new (`EXISTS (SELECT 1 FROM receipt)`), and a marker row
    says it was: an event already received inserts nothing, counts nothing and returns no row
    (None). The buckets this event counted in come from the upsert's RETURNING (their values after
    it, waiting for a concurrent event of the same bucket as the separate statements did); the
    windows' other buckets from the table. With `session`, the play session's start too (a row
    `(_SESSION, Unix seconds or None)`: night play's read, in the same round trip). Returns the
    rows, for `_sum_windows`."""
    params = receipt_params(event_id, receipt)
    ctes, selects = [RECEIPT_CTE], ["SELECT ''::varchar, 0::bigint, 0::bigint, 0::integer FROM receipt"]
    if buckets:
        rows = ", ".join(["(%s::bigint, %s::varchar, %s::bigint, %s::bigint, %s::jsonb)"] * len(buckets))
        ids = json.dumps([event_id])
        for metric, start in sorted(buckets.items()):
            params += [player_id, metric, start, value, ids]
        ctes.append(
            "counted AS (INSERT INTO compliance_window_bucket AS b "  # noqa: S608 - placeholders only
            "(player_id, metric, bucket_start, total, count, "
            f"event_ids) SELECT v.p, v.m, v.s, v.t, 1, v.e FROM (VALUES {rows}) AS v (p, m, s, t, e) "
            f"WHERE EXISTS (SELECT 1 FROM receipt) {_on_conflict_add('postgresql')} "
            "RETURNING b.metric, b.bucket_start, b.total, b.count)"
        )
        selects.append("SELECT metric, bucket_start, total, count FROM counted")
    earliest = _window_starts(reads, t)
    if earliest:
        older = " OR ".join(["(metric = %s AND bucket_start >= %s AND bucket_start < %s)"] * len(earliest))
        params.append(player_id)
        for metric, since in sorted(earliest.items()):
            # The bucket this event counted in comes from RETURNING; a metric it did not count in,
            # up to its second.
            params += [metric, since, buckets.get(metric, t + 1)]
        selects.append(
            "SELECT metric, bucket_start, total, count FROM compliance_window_bucket "  # noqa: S608 - placeholders only
            f"WHERE player_id = %s AND EXISTS (SELECT 1 FROM receipt) AND ({older})"
        )
    if session:
        params.append(player_id)
        selects.append(
            f"SELECT '{_SESSION}'::varchar, EXTRACT(EPOCH FROM session_started_at)::bigint, 0::bigint, 0::integer "  # noqa: S608 - a constant
            "FROM compliance_playerprotection WHERE player_id = %s AND EXISTS (SELECT 1 FROM receipt)"
        )
    with prepared_cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}", params)
        found = cursor.fetchall()
    return found or None


def _read_windows(player_id: int, counted: list[rules.ActiveRule], t: int) -> dict[tuple[str, int], tuple[int, int]]:
    """One bounded statement: the buckets of every counted rule's window (from the earliest start
    per metric up to `t`'s bucket), summed per (metric, window start) in Python."""
    earliest = _window_starts(counted, t)
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
    return _sum_windows(rows, counted, t)


def _window_starts(rules_read: list[rules.ActiveRule], t: int) -> dict[str, int]:
    """The earliest bucket each metric's windows need at second `t` (rules sharing a metric read
    its buckets once, from the longest window's start)."""
    earliest: dict[str, int] = {}
    for rule in rules_read:
        earliest[rule.metric] = min(earliest.get(rule.metric, rule.since(t)), rule.since(t))
    return earliest


def _sum_windows(rows, counted: list[rules.ActiveRule], t: int) -> dict[tuple[str, int], tuple[int, int]]:
    """The (sum, count) of each counted rule's window from the buckets read, per (metric, start)."""
    windows = {}
    for rule in counted:
        key = (rule.metric, rule.since(t))
        if key not in windows:
            inside = [(total, count) for metric, start, total, count in rows if metric == key[0] and start >= key[1]]
            windows[key] = (sum(row[0] for row in inside), sum(row[1] for row in inside))
    return windows


def _buckets(bucketed: list[rules.ActiveRule], event: dict, t: int) -> tuple[dict[str, int], list[rules.ActiveRule]]:
    """The bucket of each metric the event adds to (metric -> bucket start), and the rules to
    evaluate on it (rapid cycling counts bets and deposits but reads only on a withdrawal)."""
    buckets: dict[str, int] = {}
    evaluated = []
    for rule in bucketed:
        band = _band(rule, event["currency"])
        metrics = rule.counted_metrics(event["kind"], abs(event["amount"]), band)
        for metric in metrics:
            buckets[metric] = t // rule.bucket * rule.bucket
        if rule.evaluated_on(event["kind"], bool(metrics)):
            evaluated.append(rule)
    return buckets, evaluated


def _window_reads(evaluated: list[rules.ActiveRule]) -> list[rules.ActiveRule]:
    """What `_read_windows` reads for the rules: each rule's metric, and rapid cycling's bets."""
    reads = list(evaluated)
    reads += [replace(rule, metric=rule.turnover_metric) for rule in evaluated if rule.turnover_metric]
    return reads


def _measure(rule: rules.ActiveRule, windows: dict, t: int, currency: str) -> tuple[int, int | None]:
    """The window's value the rule compares and the value at which it fires (None: it cannot be
    evaluated for the currency: no reference rate)."""
    total, count = windows[(rule.metric, rule.since(t))]
    if rule.type == rules.RuleType.RAPID_CYCLING:
        turnover = windows[(rule.turnover_metric, rule.since(t))][0]
        least = _converted(rule, currency)
        return total, None if least is None else rule.cycling_threshold(turnover, least)
    threshold = rule.threshold_in(currency, _deposit_threshold(rule, currency))
    return rule.measure(total, count), threshold


def _band(rule: rules.ActiveRule, currency: str) -> tuple[int, int] | None:
    """A structuring rule's band in `currency` (None for other rules, or with no rate)."""
    if rule.type != rules.RuleType.STRUCTURING:
        return None
    threshold = _converted(rule, currency)
    return None if threshold is None else rule.band(threshold)


def _converted(rule: rules.ActiveRule, currency: str) -> int | None:
    """The rule's amount parameter (`rules.CONVERTED`) in `currency`, at the reference rates,
    cached on the rule; None (and a warning, once per cache load) without a rate."""
    if currency not in rule.thresholds:
        params = rule.parameters
        converted = selectors.amount_in_currency(params[rules.CONVERTED[rule.type]], params["currency"], currency)
        if converted is None:
            logger.warning("rule_threshold_without_rate", rule=rule.code, currencies=(params["currency"], currency))
        rule.thresholds[currency] = converted
    return rule.thresholds[currency]


def _deposit_threshold(rule: rules.ActiveRule, currency: str) -> int | None:
    return _converted(rule, currency) if rule.type == rules.RuleType.DEPOSIT_THRESHOLD else None


# --- runs -------------------------------------------------------------------------------------------------


def on_deposit_failed(event_id: int | None, event: dict) -> None:
    """Evaluate a failed deposit (payments' `deposit_failed`) if a failed-deposits rule is
    enabled, as a wallet event is: once per event, in the transaction of its receipt (outbox ids
    are unique across events, so the engine's one receiver name serves both)."""
    failing = [rule for rule in active_rules() if rule.type == rules.RuleType.FAILED_DEPOSITS]
    if failing:
        _evaluate_once(None, event_id=event_id, counted=failing, **{**event, "kind": rules.DEPOSIT_FAILED})


def _advance_runs(
    runs: list[rules.ActiveRule], player_id: int, event: dict, *, event_id: int | None, t: int, firings: list
) -> list[dict]:
    """Move the player's runs that the event concerns and fire the rules whose run reaches their
    count (appended to `firings`); returns the staff actions to record. A successful deposit ends
    a run of failed deposits; a failure extends its run; a deposit extends or restarts a run of
    rising deposits. Each run row is locked (two events of one player queue on it), so a run
    counts each event once and in order."""
    kind = event["kind"]
    ended = sorted(
        {rule.run_key for rule in runs if rule.type == rules.RuleType.FAILED_DEPOSITS and kind == rules.DEPOSIT}
    )
    if ended:
        RuleRun.objects.filter(player_id=player_id, key__in=ended).delete()
    moving: dict[str, list[rules.ActiveRule]] = {}
    for rule in runs:
        if rule.run_key not in ended:
            moving.setdefault(rule.run_key, []).append(rule)
    if not moving:
        return []
    held = locks.lock_rule_runs(player_id, sorted(moving), started_at=t)
    value = abs(event["amount"])
    trail: list[dict] = []
    for run in held:
        sharing = moving[run.key]
        _extend(sharing[0], run, event, event_id=event_id, t=t, value=value)
        for rule in sharing:
            measured, ids = _measure_run(rule, run, t)
            threshold = rule.threshold_in(event["currency"], None)
            if threshold is None or measured < threshold:
                continue
            firing = _fire(rule, player_id, run.started_at, measured, threshold, event_id)
            if firing is None:
                continue
            firings.append(firing)
            player = accounts_selectors.get_player(player_id)
            trail += _act(rule, firing, player, event, since=run.started_at, until=t, event_ids=ids)
    return trail


def _extend(rule: rules.ActiveRule, run: RuleRun, event: dict, *, event_id: int | None, t: int, value: int) -> None:
    """The event added to the run, or a new run started by it when it breaks the run: a gap of
    the rule's window or more since the run's last event; for loss chasing also a deposit no
    larger than the last, or one made while the player still had `low_balance_percent` % of the
    last deposit or more (the balance before the deposit: the event's balance minus its amount)."""
    late = run.count > 0 and t < run.last_at
    if late and rule.type == rules.RuleType.LOSS_CHASING:
        # An older deposit evaluated after a newer one (a sweeper's late delivery): "larger than
        # the one before" no longer says anything, so it is left out; the rule errs towards not firing.
        logger.warning("rule_run_late_event", key=run.key, player_id=run.player_id, event_id=event_id)
        return
    continues = run.count > 0 and t - run.last_at < rule.window
    if continues and rule.type == rules.RuleType.LOSS_CHASING:
        before = event["balance"] - event["amount"]
        percent = rule.parameters["low_balance_percent"]
        continues = value > run.last_value and before * 100 < percent * run.last_value
    if continues:
        run.count += 1
        # Failures evaluated out of order (two at once) still sit in time order.
        run.events = sorted([*run.events, [event_id, t]], key=lambda pair: pair[1])[-rules.RUN_EVENTS :]
    else:
        run.count, run.started_at, run.events = 1, t, [[event_id, t]]
    if not late:
        run.last_at, run.last_value = t, value
    run.save(update_fields=["count", "started_at", "last_at", "last_value", "events"])


def _measure_run(rule: rules.ActiveRule, run: RuleRun, t: int) -> tuple[int, list[int]]:
    """The run's value the rule compares and the events that make it: failed deposits count
    those of the last `window_seconds` (the run may be longer, each within the window of the
    one before); loss chasing counts the whole run."""
    events = run.events
    if rule.type == rules.RuleType.FAILED_DEPOSITS:
        events = [pair for pair in events if pair[1] > t - rule.window]
    measured = len(events) if rule.type == rules.RuleType.FAILED_DEPOSITS else run.count
    return measured, [event_id for event_id, _ in events if event_id is not None]


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


def _act(
    rule: rules.ActiveRule, firing: RuleFiring, player, event: dict, *, since: int, until: int,
    event_ids: list[int] | None = None,
) -> list[dict]:  # fmt: skip
    """Apply the rule's actions for this firing (its window: buckets `since` to `until`; a run's
    rule passes its run's `event_ids`); returns the staff actions to record."""
    trail = []
    if RuleAction.ALERT in rule.actions:
        if event_ids is not None:  # a run's events
            ids = list(event_ids)
        elif rule.counts_in_buckets:
            ids = selectors.list_window_event_ids(player.pk, rule.metric, since, until)
        else:  # a session's rule: the bet that fired it
            ids = [firing.event_id] if firing.event_id else []
        if rule.turnover_metric and firing.event_id:
            ids.append(firing.event_id)  # the withdrawal it fired on, which no bucket holds
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
