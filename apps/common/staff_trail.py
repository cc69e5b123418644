"""Where code outside compliance records a staff action (ARCHITECTURE.md, invariant 5), and what a
record says about a row.

The trail itself (one append-only, hash-chained table) is compliance's: `apps/compliance/staff_audit.py`.
The shared kernel imports no app, so compliance plugs its recorder in here at start-up
(`ComplianceConfig.ready`), and the back office's admins (`apps/common/admin.py`) and the wallet's
adjustments call `record_staff_action` here without knowing who keeps the trail. Until a recorder
is registered, recording raises instead of doing nothing: a staff action is never silently left
out of the trail.

The helpers below (`snapshot`, `changes`, `target_of`, `jsonable`) only read a row and shape
values, so every caller describes a change the same way, in the JSON types the chain hashes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.duration import duration_iso_string

from apps.common.timestamps import iso_utc

# The action codes of the trail (the records' `action`).
ADMIN_ADD = "admin.add"
ADMIN_CHANGE = "admin.change"
ADMIN_DELETE = "admin.delete"
LIMIT_SET = "limit.set"
EXCLUSION_START = "exclusion.start"
WALLET_ADJUST = "wallet.adjust"
RULE_SAVE = "rule.save"
RULE_LOCK = "rule.lock"
RULE_FREEZE = "rule.freeze"
RULE_LIMIT = "rule.limit"
RULE_REQUIRE_KYC = "rule.require_kyc"
CASE_OPEN = "case.open"
CASE_ADD_ALERTS = "case.add_alerts"
CASE_ASSIGN = "case.assign"
CASE_COMMENT = "case.comment"
CASE_ATTACH = "case.attach"
CASE_RESOLVE = "case.resolve"
ACCOUNT_LOCK = "account.lock"
ACCOUNT_FREEZE = "account.freeze"
ACCOUNT_REOPEN = "account.reopen"
BONUS_CAMPAIGN_SAVE = "bonus.campaign_save"
BONUS_GRANT = "bonus.grant"
BONUS_CANCEL = "bonus.cancel"
REPORT_RUN = "report.run"


class StaffTrailMissing(RuntimeError):
    """No app has registered the staff-action recorder: the action would go unrecorded."""


Recorder = Callable[..., object]

_recorder: Recorder | None = None


def register_recorder(recorder: Recorder) -> None:
    """Make `recorder` the one that appends staff actions to the trail (called once, from the
    trail's app's `ready()`; registering again replaces it)."""
    global _recorder
    _recorder = recorder


def record_staff_action(
    *,
    actor: models.Model | None,
    action: str,
    target: models.Model | tuple[str, str],
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    system_actor: str = "",
) -> object:
    """Append one staff action to the trail, inside the caller's transaction: the registered
    recorder's guarantees (compliance's `staff_audit.record_staff_action`: it raises RuntimeError
    outside a transaction). Returns the record.

    `actor` is the staff user (None only for a management command, or for the part of the system
    named by `system_actor`, such as an automatic circuit breaker); `target` a row or
    (`app_label.model`, pk); `before`/`after` the values of the fields that changed (`changes`).
    Raises StaffTrailMissing when no recorder is registered.
    """
    if _recorder is None:
        raise StaffTrailMissing(
            "No staff-action recorder is registered (is apps.compliance in INSTALLED_APPS?): "
            "refusing to leave a staff action unrecorded."
        )
    system = {"system_actor": system_actor} if system_actor else {}
    return _recorder(actor=actor, action=action, target=target, before=before, after=after, reason=reason, **system)


def admin_action(name: str) -> str:
    """The code of the admin action `name`: `admin.action:<name>`."""
    return f"admin.action:{name}"


def target_of(instance: models.Model) -> tuple[str, str]:
    """(`app_label.model`, the primary key as text): what a record names as its target."""
    return instance._meta.label_lower, str(instance.pk)


def snapshot(instance: models.Model) -> dict[str, object]:
    """The row's field values (all but its primary key, which the target names) as the trail
    stores them: a foreign key as the related pk, a many-to-many as the sorted related pks (one
    query each, read from the database, so call it before and after the change is written)."""
    opts = instance._meta
    values = {field.name: jsonable(field.value_from_object(instance)) for field in opts.concrete_fields
              if not field.primary_key}  # fmt: skip
    if instance.pk is not None:
        for field in opts.many_to_many:
            related = getattr(instance, field.name).values_list("pk", flat=True)
            values[field.name] = sorted(jsonable(list(related)))
    return values


_ABSENT = object()


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """(before, after) cut down to the fields whose value differs; a field on one side only (a
    row added or deleted) appears on that side only."""
    names = [name for name in {**before, **after} if before.get(name, _ABSENT) != after.get(name, _ABSENT)]
    return {n: before[n] for n in names if n in before}, {n: after[n] for n in names if n in after}


def jsonable(value: object) -> object:
    """`value` in JSON types that hash the same after a round trip through jsonb: no floats (their
    text instead), times in UTC, keys as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=str)
    if isinstance(value, dt.datetime):
        return iso_utc(value) if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, float | Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, models.Model):
        return jsonable(value.pk)
    return str(value)
