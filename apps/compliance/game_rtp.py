"""The game RTP drift rule: a game's live return per currency and stake band, judged against its
declared RTP ± `sigmas`·sigma·sqrt(Σs²)/Σs, on the wallet's events (docs/rtp.md, docs/rules.md).

Design
------
The engine hands every wallet event here when a `game_rtp_drift` rule is enabled
(`engine.on_transaction_posted`). The rule needs a game's rounds grouped by stake band (a round's
band is its whole stake, which no single event carries: a losing round's zero win posts no event
at all), so it reads them from the ledger (`wallet.selectors.game_rounds`, one statement on the
ledger's (game_id, created_at) index: that game's rows in the window, nothing else). Reading them
on every win would cost a busy game's whole window per round, so it is read on the wins and
refunds of a game only every `_due` of them in this process:

- at least `EVERY_MIN_EVENTS` (100), and 1 % of the rounds the last read found in the window, so
  the ledger rows read per event stay about 100 on average however busy the game (a game with a
  million rounds in the window is read every 10,000 of its wins, and its drift is seen within 1 %
  more rounds);
- counted per process in memory (a dict increment and a lock per event: nothing written, no
  query). Several processes each read on their own share of the events; a restart starts the
  count again. That is the price of not writing a counter per win; nothing is lost, since every
  read sees the whole window from the ledger.

A row whose game is monitored (a declared RTP and sigma in the games' catalogue,
`games.selectors.game_expectations`), with at least `min_rounds` rounds, and outside its band
fires: a `RuleFiring` with no player and the row's `subject` (game, currency, band), unique per
rule version, subject and firing window (the rule's window aligned to the epoch, as every rule's),
so a drifting game raises one alert per band per window, not one per round, however many events
and processes see it. The alert (`Alert`, no player; its `detail` holds the game, the band and the
RTPs as exact decimals) goes to the back office like any other (`alert_raised`, `player_id` "").
A game rule has no player to notice, limit, lock or freeze: only `alert` is allowed.

Idempotent per event: a re-delivered event reads again and finds the firing already there.
"""

from __future__ import annotations

import datetime as dt
import threading

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common import rtp
from apps.common.events import send_after_commit
from apps.common.timestamps import iso_utc
from apps.compliance import rules, signals
from apps.compliance.models import Alert, RuleFiring
from apps.games import selectors as games
from apps.wallet import selectors as wallet

logger = structlog.get_logger(__name__)

EVERY_MIN_EVENTS = 100
# Read again once the game's rounds in the window may have grown by 1 / GROWTH (1 %).
GROWTH = 100
# Providers name games freely: the per-game counts are dropped when they reach this many games.
MAX_GAMES = 10_000
JUDGED_KINDS = ("win", "rollback")
# Alert.value and threshold are integers: the observed RTP and the band's edge it crossed, in
# millionths (962000 = 96.2 %). The exact values are in the alert's detail.
PPM = 1_000_000

_lock = threading.Lock()
_seen: dict[str, int] = {}
_due: dict[str, int] = {}


def forget_counts() -> None:
    """Start every game's count afresh (tests)."""
    with _lock:
        _seen.clear()
        _due.clear()


def on_event(game_rules: list[rules.ActiveRule], event_id: int | None, event: dict) -> list[RuleFiring]:
    """Count a win or refund of a game, and judge the game's rounds when its count is due."""
    game_id = event.get("game_id") or ""
    if event["kind"] not in JUDGED_KINDS or not game_id:
        return []
    with _lock:
        if len(_seen) >= MAX_GAMES and game_id not in _seen:
            _seen.clear()
            _due.clear()
        seen = _seen.get(game_id, 0) + 1
        if seen < _due.get(game_id, EVERY_MIN_EVENTS):
            _seen[game_id] = seen
            return []
        _seen[game_id] = 0
    at = dt.datetime.fromisoformat(event["created_at"])
    return judge_game(game_rules, game_id, at=at, event_id=event_id)


def judge_game(
    game_rules: list[rules.ActiveRule], game_id: str, *, at: dt.datetime, event_id: int | None = None
) -> list[RuleFiring]:
    """Read the game's rounds over each rule's window ending at `at` and fire each rule for each
    monitored row outside its band. Returns the new firings."""
    expectations = games.game_expectations()
    if not any(code == game_id for _, code in expectations):
        return []  # not monitored under any provider: nothing to read
    firings, read = [], 0
    for window, sharing in _by_window(game_rules).items():
        rows = wallet.game_rounds(since=at - dt.timedelta(seconds=window), game_id=game_id)
        read = max(read, sum(row.rounds for row in rows))
        for row in rows:
            provider = games.provider_of_origin(row.origin)
            expectation = expectations.get((provider, row.game_id)) if provider else None
            if expectation is None:
                continue
            for rule in sharing:
                if row.rounds < rule.parameters["min_rounds"]:
                    continue
                judged = rtp.judge(
                    provider=provider, game=row.game_id, currency=row.currency, band=row.band, rounds=row.rounds,
                    staked=row.staked, returned=row.returned, staked_squares=row.staked_squares,
                    expectation=expectation, sigmas=rule.parameters["sigmas"],
                )  # fmt: skip
                if judged.outside:
                    firing = _fire(rule, judged, at=at, event_id=event_id)
                    if firing is not None:
                        firings.append(firing)
    with _lock:
        _due[game_id] = max(EVERY_MIN_EVENTS, read // GROWTH)
    return firings


def _by_window(game_rules: list[rules.ActiveRule]) -> dict[int, list[rules.ActiveRule]]:
    """Rules sharing a window share one read."""
    windows: dict[int, list[rules.ActiveRule]] = {}
    for rule in game_rules:
        windows.setdefault(rule.window, []).append(rule)
    return windows


def _fire(rule: rules.ActiveRule, judged: rtp.LiveRtp, *, at: dt.datetime, event_id: int | None) -> RuleFiring | None:
    """The firing and its alert for the row, in one transaction, or None when the rule already
    fired for this game and band in this firing window."""
    observed = (2 * judged.returned * PPM + judged.staked) // (2 * judged.staked)  # rounded half up, in integers
    edge = judged.high if judged.observed > judged.expected else judged.low
    threshold = int((edge * PPM).to_integral_value())
    t = int(at.timestamp())
    try:
        with transaction.atomic():
            firing = RuleFiring.objects.create(
                rule_version_id=rule.version_id, player=None, subject=judged.subject,
                window_start=rule.firing_window(t), value=observed, threshold=threshold, event_id=event_id or 0,
                actions=list(rule.actions), created_at=timezone.now(),
            )  # fmt: skip
            alert = Alert.objects.create(
                firing=firing, rule_version_id=rule.version_id, player=None, severity=rule.severity,
                event_ids=[event_id] if event_id else [], value=observed, threshold=threshold,
                created_at=firing.created_at, detail=_detail(judged, rule),
            )  # fmt: skip
            send_after_commit(
                signals.alert_raised, alert_id=str(alert.pk), player_id="", rule=rule.code,
                rule_version=rule.version, rule_type=rule.type, severity=rule.severity, value=alert.value,
                threshold=alert.threshold, currency=judged.currency, created_at=iso_utc(alert.created_at),
            )  # fmt: skip
    except IntegrityError:
        return None
    logger.warning("game_rtp_drift", subject=judged.subject, observed=str(judged.observed),
                   expected=str(judged.expected), rounds=judged.rounds)  # fmt: skip
    return firing


def _detail(judged: rtp.LiveRtp, rule: rules.ActiveRule) -> dict:
    """What the alert says about the game, as text where a float would round."""
    return {
        "subject": judged.subject, "provider": judged.provider, "game": judged.game, "currency": judged.currency,
        "band": judged.band, "stake_band": judged.band_label, "rounds": judged.rounds, "staked": judged.staked,
        "returned": judged.returned, "observed_rtp": str(judged.observed), "expected_rtp": str(judged.expected),
        "sigma": str(judged.sigma), "sigmas": rule.parameters["sigmas"], "band_low": str(judged.low),
        "band_high": str(judged.high), "window_seconds": rule.window,
    }  # fmt: skip
