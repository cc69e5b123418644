"""Shared identity: the index of what identifies a player (a payment instrument, a device, a
network) and the rule that fires when several players share one (docs/rules.md, "Shared
identity").

Accounts' `player_logged_in` (device, network) and payments' `deposit_instrument_seen` (the
PSP's instrument fingerprint) are received once per event (`receivers.py`, `once_per_event`): in
the transaction of the event's receipt, each mark is upserted (`IdentityMark`, unique per kind,
value and player; the value is a keyed hash, never the raw id, address or card) and the enabled
shared-identity rules that watch its kind read, in one bounded query on the (kind, value,
last_seen) index, the other players seen with it within the window, at most `accounts - 1` of
them: never a scan of the logins or deposits. A rule fires for the player whose event finds at
least `accounts` players (them included), once per rule version, player and firing window (the
engine's `RuleFiring`); its alert names the other players and the events that last saw each.

Concurrency: two players' events on one mark at the same moment may each miss the other's
uncommitted upsert; the rule compares with "at least", so the next event of either fires it: at
most one event late, never twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import connection, transaction

from apps.accounts import selectors as accounts_selectors
from apps.common.db import prepared_cursor
from apps.common.events import send_after_commit
from apps.common.identity import identity_hash
from apps.common.timestamps import iso_utc
from apps.compliance import engine, rules, selectors, signals, staff_audit
from apps.compliance.choices import MarkKind, RuleAction
from apps.compliance.models import Alert, IdentityMark, RuleFiring

_LATEST = {"postgresql": ("GREATEST", "LEAST"), "sqlite": ("MAX", "MIN")}


def mark_value(kind: str, raw: str) -> str:
    """The stored value of a mark: a keyed hash per kind (a device's hash, a network, a PSP's
    fingerprint are hashed once more, so the index holds no address and no value of another
    table)."""
    return identity_hash(f"mark.{kind}", raw)


def login_marks(*, network: str, device_hash: str) -> list[tuple[str, str]]:
    """The marks of a login: its device (when one was given) and its network (when known)."""
    marks = [(MarkKind.DEVICE, device_hash), (MarkKind.ADDRESS, network)]
    return [(kind, raw) for kind, raw in marks if raw]


def record_marks(
    *, player_id: int, at: dt.datetime, marks: list[tuple[str, str]], event_id: int | None
) -> list[RuleFiring]:
    """Upsert the player's marks seen at `at` and evaluate the shared-identity rules on each, in
    one transaction (the receipt's, when there is one). Returns the new firings."""
    firings: list[RuleFiring] = []
    with transaction.atomic():
        for kind, raw in marks:
            value = mark_value(kind, raw)
            _upsert(kind, value, player_id, at, event_id or 0)
            watching = [rule for rule in engine.active_rules() if rule.watches(kind)]
            if watching:
                firings += _evaluate(watching, kind, value, player_id, at, event_id)
    return firings


def _upsert(kind: str, value: str, player_id: int, at: dt.datetime, event_id: int) -> None:
    """One statement. `last_seen` never moves back (the sweeper may deliver an older event late),
    and `last_event_id` is the event of the latest sighting."""
    latest, earliest = _LATEST[connection.vendor]
    with prepared_cursor() as cursor:
        cursor.execute(
            "INSERT INTO compliance_identity_mark AS m (kind, value, player_id, first_seen, last_seen, last_event_id) "  # noqa: S608 - placeholders only
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, value, player_id) DO UPDATE SET "
            f"first_seen = {earliest}(m.first_seen, EXCLUDED.first_seen), "
            f"last_seen = {latest}(m.last_seen, EXCLUDED.last_seen), "
            "last_event_id = CASE WHEN EXCLUDED.last_seen >= m.last_seen THEN EXCLUDED.last_event_id "
            "ELSE m.last_event_id END",
            [kind, value, player_id, at, at, event_id],
        )


def _evaluate(
    watching: list[rules.ActiveRule], kind: str, value: str, player_id: int, at: dt.datetime, event_id: int | None
) -> list[RuleFiring]:
    player = None  # read only when a rule is scoped or fires
    if any(rule.scoped for rule in watching):
        player = accounts_selectors.get_player(player_id)
        jurisdiction_id = selectors.get_profile_for_brand(player.brand_id).pk
        watching = [rule for rule in watching if rule.applies_to(player.brand_id, jurisdiction_id)]
    t = int(at.timestamp())
    firings, trail = [], []
    for rule in watching:
        wanted = rule.parameters["accounts"]
        others = list(
            IdentityMark.objects.filter(kind=kind, value=value, last_seen__gt=at - dt.timedelta(seconds=rule.window))
            .exclude(player_id=player_id)
            .order_by("-last_seen")
            .values_list("player_id", "last_event_id")[: wanted - 1]
        )
        sharing = 1 + len(others)
        if sharing < wanted:
            continue
        firing = engine._fire(rule, player_id, t, sharing, wanted, event_id)
        if firing is None:
            continue
        firings.append(firing)
        player = player or accounts_selectors.get_player(player_id)
        if RuleAction.ALERT in rule.actions:
            _alert(rule, firing, player, kind, others, event_id)
        rest = dataclasses.replace(rule, actions=tuple(a for a in rule.actions if a != RuleAction.ALERT))
        trail += engine._act(rest, firing, player, {"currency": player.currency_id}, since=t, until=t)
    # The trail's head lock is the last lock of a transaction (locks.py): recorded after every write.
    for record in trail:
        staff_audit.record_staff_action(actor=None, system_actor=engine.SYSTEM_ACTOR, **record)
    return firings


def _alert(rule: rules.ActiveRule, firing: RuleFiring, player, kind: str, others: list, event_id: int | None) -> None:
    """The alert of a shared mark: its value the players sharing it, its detail who they are."""
    ids = sorted({event_id or 0, *(seen_by for _, seen_by in others)} - {0})
    alert = Alert.objects.create(
        firing=firing, rule_version_id=rule.version_id, player_id=player.pk, severity=rule.severity, event_ids=ids,
        value=firing.value, threshold=firing.threshold, created_at=firing.created_at,
        detail={"kind": kind, "players": sorted(other for other, _ in others)},
    )  # fmt: skip
    send_after_commit(
        signals.alert_raised, alert_id=str(alert.pk), player_id=str(player.pk), rule=rule.code,
        rule_version=rule.version, rule_type=rule.type, severity=rule.severity, value=alert.value,
        threshold=alert.threshold, currency=player.currency_id, created_at=iso_utc(alert.created_at),
    )  # fmt: skip
