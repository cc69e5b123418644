"""The staff-action trail (ARCHITECTURE.md, invariant 5): everything a staff member changes, in one
append-only, hash-chained table, so that tampering is detectable.

What is recorded
----------------
`record_staff_action` appends one `StaffAction` inside the caller's transaction: a change that
rolls back leaves no record, and no record commits without its change. The action codes:

- `admin.add`, `admin.change`, `admin.delete`: any ModelAdmin (apps/common/admin.py,
  `StaffAuditMixin`), one record per object, a bulk delete included;
- `admin.action:<name>`: an admin action, one record per selected object (`delete_selected` is
  recorded as the `admin.delete` of each object it deletes);
- `limit.set`: a limit set by staff (`services.set_limit`);
- `exclusion.start`: a time-out or self-exclusion started by staff (`services.start_time_out`,
  `services.self_exclude`);
- `wallet.adjust`: an operator adjustment (`apps.wallet.services.adjust_balance`; the money
  itself is in the ledger's own chain);
- `rule.save`: a behaviour rule created or changed by staff (`services.save_rule`; the rule's
  new version is a `RuleVersion`);
- `rule.lock`, `rule.freeze`, `rule.limit`, `rule.require_kyc`: an account locked or frozen, a
  limit lowered, a KYC hold placed by a behaviour rule (`engine.py`): no staff actor, the system
  actor `rules`, the rule version in the reason;
- `account.lock`, `account.freeze`, `account.reopen`: an account locked, frozen or re-opened by
  staff after review (`services.lock_account_by_staff`, `freeze_account_by_staff`,
  `reopen_account`), the status before and after, the reason required;
- `case.open`, `case.add_alerts`, `case.assign`, `case.comment`, `case.attach`, `case.resolve`:
  a compliance case's changes (`cases.py`).

The codes, and the helpers that describe a row (`snapshot`, `changes`), are in
`apps/common/staff_trail.py`, through which code outside compliance records (this app registers
`record_staff_action` there at start-up).

`before` and `after` hold the values of the fields that changed (every field of a row added or
deleted), in JSON types only: times in ISO 8601 UTC, durations in ISO 8601, decimals and floats
as text, so no float is ever hashed. A field named like a secret (password, secret, token, key
hash, session key) is "[redacted]" on both sides: the trail says that it changed, never what to.

The chain
---------
Like the ledger's (apps/wallet/chain.py), but one chain for the whole trail: a record's
`chain_hash` is the SHA-256 of its `previous_hash` (the record before it, GENESIS for the first)
and of its canonical JSON. Staff actions are rare, so appends can afford to queue on one row, the
chain's head (`locks.lock_staff_action_head`), which also holds the last hash: a removed last
record shows there. `apps/compliance/audit.py` (`manage.py staff_audit`) re-verifies it all.
"""

from __future__ import annotations

import hashlib
import json

from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.common.staff_trail import jsonable, target_of
from apps.common.timestamps import iso_utc
from apps.compliance import locks
from apps.compliance.models import StaffAction

GENESIS = "0" * 64
REDACTED = "[redacted]"

# A field whose name contains one of these holds a secret or what unlocks one (a password hash,
# a provider's HMAC key, the hash of a bearer token, a session key).
_SECRET_MARKERS = ("password", "secret", "token", "key_hash", "session_key")


def record_staff_action(
    *,
    actor: User | None,
    action: str,
    target: models.Model | tuple[str, str],
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    system_actor: str = "",
) -> StaffAction:
    """Append one record to the trail, in the caller's transaction, and move the chain's head.

    `actor` is None only for the system: a management command, or the part of the system named
    by `system_actor` ("rules": the behaviour-rule engine's locks). `before`/`after` are made
    JSON-safe and their secrets redacted here. Call it once the change is written: the head's
    lock must be the last lock the transaction takes (locks.py says why). Raises RuntimeError
    outside a transaction, where the record would commit apart from the change it describes.
    """
    if actor is not None and system_actor:
        raise ValueError("A staff action has a staff actor or a system actor, not both.")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_staff_action runs inside the transaction of the change it records.")
    target_type, target_id = target if isinstance(target, tuple) else target_of(target)
    head = locks.lock_staff_action_head(GENESIS)
    record = StaffAction(
        created_at=timezone.now(),  # taken under the lock: times grow along the chain
        actor=actor,
        system_actor=system_actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=_redacted(jsonable(before or {})),
        after=_redacted(jsonable(after or {})),
        reason=reason,
        previous_hash=head.chain_hash,
    )
    record.chain_hash = head.chain_hash = link(record.previous_hash, record)
    record.save(force_insert=True)
    head.save(update_fields=["chain_hash"])
    return record


def link(previous: str, record: StaffAction) -> str:
    """The chain hash of `record` after the record whose hash is `previous` (GENESIS for the first)."""
    fields = [
        iso_utc(record.created_at), record.actor_id, record.action, record.target_type, record.target_id,
        record.before, record.after, record.reason,
    ]  # fmt: skip
    if record.system_actor:  # hashed only when set: records written before the column keep their hash
        fields.append(record.system_actor)
    # sort_keys: the same text whatever order PostgreSQL's jsonb gives the keys back in.
    text = previous + json.dumps(fields, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def is_secret(name: str) -> bool:
    return any(marker in name.lower() for marker in _SECRET_MARKERS)


def _redacted(values: object) -> object:
    if isinstance(values, dict):
        return {key: REDACTED if is_secret(key) else _redacted(item) for key, item in values.items()}
    if isinstance(values, list):
        return [_redacted(item) for item in values]
    return values
