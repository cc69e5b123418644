"""The behaviour rules' types: what each counts, its parameters, and when it fires (docs/rules.md).

Pure values and functions: no query, no write. `validate` is what `services.save_rule` checks a
rule's parameters and actions with; `compile_rule` turns a saved `RuleVersion` into the
`ActiveRule` the engine (`engine.py`) evaluates on every wallet event.

Windows are kept in buckets (`WindowBucket`), never rescanned from the ledger. A rule counts the
buckets of its window: at an event of second `t`, the buckets from the one holding `t - window + 1`
to the one holding `t`. With one-second buckets (windows up to five minutes) that is exactly the
last `window` seconds; with minute or hour buckets the window is rounded out to whole buckets, so
it covers up to one bucket more, never less: a rule fires no later than its exact window would.

`night_play` keeps no buckets: it compares the play session (from the login) with the night hours
of its time zone (`night.py`), at a bet placed at night only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from apps.common.money import MAX_AMOUNT
from apps.compliance import night
from apps.compliance.choices import LimitKind, LimitPeriod, MarkKind, RuleAction, RuleType
from apps.compliance.errors import InvalidRule

MAX_WINDOW_SECONDS = 30 * 24 * 3600
MAX_SESSION_MINUTES = 24 * 60
DEPOSIT = "deposit"
BET = "bet"
WITHDRAWAL = "withdrawal"
# The payments event a failed deposit sends (it moves no money, so the wallet never sees it).
DEPOSIT_FAILED = "deposit_failed"
# A run keeps the outbox event ids of its last events, at most this many: what an alert lists.
RUN_EVENTS = 50

# Integer parameters of each type: name -> (smallest, largest), inclusive.
_INTEGERS: dict[str, dict[str, tuple[int, int]]] = {
    RuleType.DEPOSIT_THRESHOLD: {"amount": (1, MAX_AMOUNT), "window_seconds": (60, MAX_WINDOW_SECONDS)},
    RuleType.DEPOSIT_VELOCITY: {"count": (1, 100_000), "window_seconds": (60, MAX_WINDOW_SECONDS)},
    RuleType.MICRO_BET: {"max_bets": (1, 1_000_000), "window_seconds": (1, 3600), "max_stake": (1, MAX_AMOUNT)},
    RuleType.STRUCTURING: {
        "threshold": (1, MAX_AMOUNT),
        "below_percent": (1, 99),
        "count": (1, 100_000),
        "window_seconds": (60, MAX_WINDOW_SECONDS),
    },
    RuleType.RAPID_CYCLING: {
        "turnover_percent": (1, 1_000),
        "min_deposits": (1, MAX_AMOUNT),
        "window_seconds": (3600, MAX_WINDOW_SECONDS),
    },
    # A run keeps its last RUN_EVENTS events: a longer run could not be measured.
    RuleType.FAILED_DEPOSITS: {"count": (2, RUN_EVENTS), "window_seconds": (60, MAX_WINDOW_SECONDS)},
    RuleType.LOSS_CHASING: {
        "count": (2, RUN_EVENTS),
        "window_seconds": (60, MAX_WINDOW_SECONDS),
        "low_balance_percent": (1, 100),
    },
    # `accounts`: distinct players sharing one mark; one player alone shares nothing.
    RuleType.SHARED_IDENTITY: {"accounts": (2, 1000), "window_seconds": (60, MAX_WINDOW_SECONDS)},
    RuleType.NIGHT_PLAY: {
        "night_start_hour": (0, 23), "night_end_hour": (0, 23), "share_percent": (1, 100),
        "min_minutes": (1, MAX_SESSION_MINUTES),
    },
    # A game's rounds per currency and stake band over the window: judged once there are
    # `min_rounds` of them, outside RTP ± `sigmas` standard deviations (docs/rtp.md).
    RuleType.GAME_RTP_DRIFT: {
        "min_rounds": (10, 1_000_000_000), "sigmas": (1, 10), "window_seconds": (3600, MAX_WINDOW_SECONDS),
    },
}  # fmt: skip
# List parameters: name -> the values allowed (a non-empty list of distinct ones, kept in this order).
_LISTS: dict[str, dict[str, tuple[str, ...]]] = {RuleType.SHARED_IDENTITY: {"kinds": tuple(MarkKind.values)}}
# Text parameters: the currency of a rule's amount (ISO 4217; the amount in a player's other
# currency is converted at the reference rates, as the KYC threshold is); the night's time zone
# (an IANA name: the night is the players' local night, not UTC's).
_TEXTS: dict[str, tuple[str, ...]] = {
    RuleType.DEPOSIT_THRESHOLD: ("currency",),
    RuleType.STRUCTURING: ("currency",),
    RuleType.RAPID_CYCLING: ("currency",),
    RuleType.NIGHT_PLAY: ("timezone",),
}
# The amount parameter of each type stated in the rule's `currency` (converted per player currency).
CONVERTED = {RuleType.DEPOSIT_THRESHOLD: "amount", RuleType.STRUCTURING: "threshold",
             RuleType.RAPID_CYCLING: "min_deposits"}  # fmt: skip
# Rules that follow a run of events in a row (`RuleRun`) rather than a window's buckets.
RUN_TYPES = (RuleType.FAILED_DEPOSITS, RuleType.LOSS_CHASING)
# The parameter of the `limit` action (any rule type): the money limit the firing applies, its
# amount in minor units of `currency`, converted to the player's currency at the reference rates.
LIMIT = "limit"
LIMIT_KINDS = (LimitKind.DEPOSIT, LimitKind.LOSS, LimitKind.WAGER)
_LIMIT_FIELDS = ("kind", "period", "amount", "currency")


def bucket_seconds(window_seconds: int) -> int:
    """The bucket size of a window: 1 s up to 5 minutes, 1 minute up to 6 hours, else 1 hour. At
    most ~720 buckets per window (30 days), ~300 for the short ones: one bounded read."""
    if window_seconds <= 300:
        return 1
    if window_seconds <= 6 * 3600:
        return 60
    return 3600


def validate(rule_type: str, parameters: object, actions: object) -> tuple[dict, list[str]]:
    """The parameters and actions of a rule of `rule_type`, checked and normalised (actions in a
    fixed order: alert, notice, limit, require_kyc, lock, freeze). Raises InvalidRule saying what
    is wrong: an unknown type, a missing, unknown or out-of-range parameter (integers only: amounts
    are minor units), no action or an unknown one, a `limit` action without its `limit` parameter
    (or the parameter without the action), or an invalid one (`_validate_limit`)."""
    if rule_type not in RuleType.values or rule_type not in _INTEGERS:
        raise InvalidRule(f"Unknown rule type {rule_type!r}.")
    if not isinstance(parameters, dict):
        raise InvalidRule("The parameters are a JSON object.")
    integers, texts, lists = _INTEGERS[rule_type], _TEXTS.get(rule_type, ()), _LISTS.get(rule_type, {})
    unknown = sorted(set(parameters) - set(integers) - set(texts) - set(lists) - {LIMIT})
    if unknown:
        raise InvalidRule(f"Unknown parameters for {rule_type}: {', '.join(unknown)}.")
    clean: dict[str, object] = {}
    for name, (low, high) in integers.items():
        value = parameters.get(name)
        if type(value) is not int or not low <= value <= high:
            raise InvalidRule(f"{name} is an integer from {low} to {high}.")
        clean[name] = value
    for name in texts:
        clean[name] = _validate_text(name, parameters.get(name))
    for name, allowed in lists.items():
        clean[name] = _validate_list(name, parameters.get(name), allowed)
    if rule_type == RuleType.NIGHT_PLAY and clean["night_start_hour"] == clean["night_end_hour"]:
        raise InvalidRule("The night starts and ends at different hours.")
    if not isinstance(actions, list | tuple) or not actions:
        raise InvalidRule("A rule has at least one action.")
    if any(action not in RuleAction.values for action in actions) or len(set(actions)) != len(actions):
        raise InvalidRule(f"Actions are distinct, among {', '.join(RuleAction.values)}.")
    if rule_type == RuleType.GAME_RTP_DRIFT and list(actions) != [RuleAction.ALERT]:
        raise InvalidRule("A game's RTP drift has no player to act on: its only action is alert.")
    if (RuleAction.LIMIT in actions) != (LIMIT in parameters):
        raise InvalidRule("The limit action and the limit parameter go together.")
    if LIMIT in parameters:
        clean[LIMIT] = _validate_limit(parameters[LIMIT])
    return clean, [action for action in RuleAction.values if action in actions]


def _validate_list(name: str, value: object, allowed: tuple[str, ...]) -> list[str]:
    """A non-empty list of distinct values among `allowed`, in `allowed`'s order. Raises InvalidRule."""
    if (
        not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value)
        or len(set(value)) != len(value) or not set(value) <= set(allowed)
    ):  # fmt: skip
        raise InvalidRule(f"{name} is a list of distinct values among {', '.join(allowed)}.")
    return [item for item in allowed if item in value]


def _validate_text(name: str, value: object) -> str:
    """A text parameter: `timezone` an IANA time zone name, any other an ISO 4217 currency code."""
    if name == "timezone":
        if not isinstance(value, str) or value not in zoneinfo.available_timezones():
            raise InvalidRule("timezone is an IANA time zone name, such as Europe/London.")
        return value
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isupper():
        raise InvalidRule(f"{name} is an ISO 4217 currency code.")
    return value


def _validate_limit(limit: object) -> dict:
    """The `limit` parameter: {"kind": deposit, loss or wager, "period": 24h, 7d or 30d, "amount":
    minor units from 0, "currency": ISO 4217}. Raises InvalidRule."""
    if not isinstance(limit, dict) or sorted(limit) != sorted(_LIMIT_FIELDS):
        raise InvalidRule(f"limit is an object of {', '.join(_LIMIT_FIELDS)}.")
    if limit["kind"] not in LIMIT_KINDS:
        raise InvalidRule(f"limit.kind is one of {', '.join(LIMIT_KINDS)}.")
    if limit["period"] not in LimitPeriod.values:
        raise InvalidRule(f"limit.period is one of {', '.join(LimitPeriod.values)}.")
    amount = limit["amount"]
    if type(amount) is not int or not 0 <= amount <= MAX_AMOUNT:
        raise InvalidRule(f"limit.amount is an integer from 0 to {MAX_AMOUNT}.")
    _validate_text("limit.currency", limit["currency"])
    return {name: limit[name] for name in _LIMIT_FIELDS}


@dataclass
class ActiveRule:
    """An enabled rule's current version, ready to evaluate (built once per cache load)."""

    version_id: int
    rule_id: int
    code: str
    version: int
    type: str
    severity: str
    brand_id: int | None
    jurisdiction_id: int | None
    actions: tuple[str, ...]
    parameters: dict
    window: int
    bucket: int
    metric: str
    # The converted amount (`CONVERTED`) in each player currency met so far (None: no reference rate).
    thresholds: dict[str, int | None] = field(default_factory=dict)
    # Rapid cycling: the metric of the bets it reads (the turnover) besides its deposits'.
    turnover_metric: str = ""
    # A rule of runs: the key of its `RuleRun` (rules with the same key share the run); no metric.
    run_key: str = ""
    # The night's time zone (night play only).
    zone: zoneinfo.ZoneInfo | None = None

    @property
    def scoped(self) -> bool:
        return self.brand_id is not None or self.jurisdiction_id is not None

    @property
    def counts_in_buckets(self) -> bool:
        """Whether the rule counts events in its window's buckets (every type but night play, which
        reads the play session's start instead)."""
        return self.type != RuleType.NIGHT_PLAY

    def counts(self, kind: str, amount: int) -> bool:
        """Whether a transaction of `kind` and signed `amount` concerns this rule: it adds to one
        of its metrics, moves one of its runs, or is what it is evaluated on. A structuring rule
        takes every deposit here; `counted_metrics` keeps those in its band. A shared-identity
        rule is evaluated on identity marks (identity.py), never on money."""
        if self.type in (RuleType.SHARED_IDENTITY, RuleType.GAME_RTP_DRIFT):
            return False  # judged on identity marks (identity.py), or per game (game_rtp.py)
        if self.type == RuleType.MICRO_BET:
            return kind == BET and 0 < -amount <= self.parameters["max_stake"]
        if self.type == RuleType.NIGHT_PLAY:
            return kind == BET
        if self.type == RuleType.RAPID_CYCLING:
            return kind in (DEPOSIT, WITHDRAWAL) or (kind == BET and amount < 0)
        return kind == DEPOSIT

    def counted_metrics(self, kind: str, amount: int, band: tuple[int, int] | None = None) -> tuple[str, ...]:
        """The metrics a transaction this rule `counts` adds to (none for a rule of runs, or a
        withdrawal, which rapid cycling reads on but never counts). `band`: a structuring rule's
        band in the player's currency (None: not evaluated for that currency)."""
        if self.run_key:
            return ()
        if self.type == RuleType.RAPID_CYCLING:
            return {DEPOSIT: (self.metric,), BET: (self.turnover_metric,)}.get(kind, ())
        if self.type == RuleType.STRUCTURING:
            return (self.metric,) if band is not None and band[0] <= amount < band[1] else ()
        return (self.metric,)

    def evaluated_on(self, kind: str, counted: bool) -> bool:
        """Whether the windows are read and the rule may fire on this event: rapid cycling on a
        withdrawal request only (the bets and deposits it counts are read then, not on each);
        every other bucket rule on the events it counted."""
        if self.type == RuleType.RAPID_CYCLING:
            return kind == WITHDRAWAL
        return counted

    def band(self, threshold: int) -> tuple[int, int]:
        """A structuring rule's band for a `threshold` in the player's currency: from
        threshold * (100 - below_percent) / 100 (rounded up: an amount is counted when it is at
        least that) up to the threshold, excluded."""
        kept = 100 - self.parameters["below_percent"]
        return -(-threshold * kept // 100), threshold

    def cycling_threshold(self, turnover: int, least: int) -> int:
        """The window's deposits at which rapid cycling fires: turnover under `turnover_percent`
        % of the deposits (deposits * percent > turnover * 100, integers: deposits at least
        turnover * 100 // percent + 1), and at least `least` (min_deposits in the player's
        currency)."""
        return max(least, turnover * 100 // self.parameters["turnover_percent"] + 1)

    def watches(self, mark_kind: str) -> bool:
        """Whether a shared-identity rule looks at marks of `mark_kind` (instrument, device, address)."""
        return self.type == RuleType.SHARED_IDENTITY and mark_kind in self.parameters["kinds"]

    def counts_event(self, event: dict) -> bool:
        """Whether the wallet's event concerns this rule: `counts`, and for night play a bet placed
        inside the night hours (decided here, from the event's time: a bet by day costs nothing)."""
        if not self.counts(event["kind"], event["amount"]):
            return False
        if self.type == RuleType.NIGHT_PLAY:
            return self.is_night(int(dt.datetime.fromisoformat(event["created_at"]).timestamp()))
        return True

    def is_night(self, t: int) -> bool:
        params = self.parameters
        return night.is_night(t, params["night_start_hour"], params["night_end_hour"], self.zone)

    def night_share(self, session_start: int, t: int) -> int | None:
        """The whole percent of the play session from `session_start` to `t` spent inside night
        hours, or None while the session is shorter than `min_minutes`."""
        params = self.parameters
        length = t - session_start
        if length < params["min_minutes"] * 60:
            return None
        at_night = night.seconds_at_night(
            session_start, t, params["night_start_hour"], params["night_end_hour"], self.zone
        )
        return at_night * 100 // length

    def applies_to(self, brand_id: int, jurisdiction_id: int | None) -> bool:
        return (self.brand_id is None or self.brand_id == brand_id) and (
            self.jurisdiction_id is None or self.jurisdiction_id == jurisdiction_id
        )

    def since(self, t: int) -> int:
        """The first bucket of the window of an event at second `t`."""
        return (t - self.window + 1) // self.bucket * self.bucket

    def firing_window(self, t: int) -> dt.datetime:
        """The firing window of an event at second `t`: the rule's window length, aligned to the
        epoch; for night play, the start of the night. A rule fires at most once per player and
        firing window (`RuleFiring`). A rule of runs is given its run's first event: it fires at
        most once per run."""
        if self.run_key:
            return dt.datetime.fromtimestamp(t, tz=dt.UTC)
        if self.type == RuleType.NIGHT_PLAY:
            params = self.parameters
            return night.night_start(t, params["night_start_hour"], params["night_end_hour"], self.zone)
        return dt.datetime.fromtimestamp(t // self.window * self.window, tz=dt.UTC)

    def threshold_in(self, currency: str, fires_at: int | None) -> int | None:
        """The value at which the rule fires for a player of `currency` (None: it cannot be
        evaluated: a deposit threshold with no reference rate for the currency)."""
        if self.type == RuleType.DEPOSIT_THRESHOLD:
            return fires_at
        if self.type in (RuleType.DEPOSIT_VELOCITY, RuleType.STRUCTURING, *RUN_TYPES):
            return self.parameters["count"]
        if self.type == RuleType.NIGHT_PLAY:
            return self.parameters["share_percent"]
        return self.parameters["max_bets"] + 1  # "more than N bets"

    def measure(self, total: int, count: int) -> int:
        """The window's value this rule compares: the sum of deposits, or a count."""
        return total if self.type == RuleType.DEPOSIT_THRESHOLD else count


def compile_rule(version) -> ActiveRule:
    """The `ActiveRule` of a `RuleVersion` row."""
    params = version.parameters
    if version.type == RuleType.NIGHT_PLAY:  # no window, no buckets: the session and the night
        return ActiveRule(
            version_id=version.pk, rule_id=version.rule_id, code=version.rule.code, version=version.version,
            type=version.type, severity=version.severity, brand_id=version.brand_id,
            jurisdiction_id=version.jurisdiction_id, actions=tuple(version.actions), parameters=params, window=0,
            bucket=0, metric="", zone=zoneinfo.ZoneInfo(params["timezone"]),
        )  # fmt: skip
    window = params["window_seconds"]
    # Rapid cycling counts every bet while it is on: hourly buckets keep that to one row an hour.
    bucket = 3600 if version.type == RuleType.RAPID_CYCLING else bucket_seconds(window)
    base = f"bet<={params['max_stake']}" if version.type == RuleType.MICRO_BET else DEPOSIT
    if version.type == RuleType.STRUCTURING:
        # The band in the rule's own terms: a player has one currency, so it names the band.
        base = f"deposit<{params['threshold']}{params['currency']}-{params['below_percent']}%"
    elif version.type == RuleType.SHARED_IDENTITY:
        base = "identity"  # no buckets: it reads the marks
    elif version.type == RuleType.GAME_RTP_DRIFT:
        base = "game_rtp"  # no buckets: it reads the game's rounds from the ledger (game_rtp.py)
    extra: dict[str, str] = {}
    if version.type == RuleType.RAPID_CYCLING:
        extra["turnover_metric"] = f"{BET}@{bucket}"
    elif version.type == RuleType.FAILED_DEPOSITS:
        extra["run_key"] = f"{DEPOSIT_FAILED}@{window}"
    elif version.type == RuleType.LOSS_CHASING:
        extra["run_key"] = f"loss_chasing<{params['low_balance_percent']}%@{window}"
    return ActiveRule(
        version_id=version.pk, rule_id=version.rule_id, code=version.rule.code, version=version.version,
        type=version.type, severity=version.severity, brand_id=version.brand_id,
        jurisdiction_id=version.jurisdiction_id, actions=tuple(version.actions), parameters=params, window=window,
        bucket=bucket, metric="" if version.type in RUN_TYPES else f"{base}@{bucket}", **extra,
    )  # fmt: skip
