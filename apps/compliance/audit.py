"""Re-verify the staff-action trail on a live database, without trusting the code that wrote it:
every record's hash recomputed, every link and the head compared, the triggers looked up.

Each check returns the violations it found as sentences naming the records; `run_audit` runs them
all. Used by `manage.py staff_audit` and by the tests. Each record is checked against its own
neighbour, not against a hash recomputed from the start, so one record changed behind the
triggers is named alone instead of breaking every record after it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

from apps.compliance.models import StaffAction, StaffActionHead
from apps.compliance.staff_audit import GENESIS, link

TRIGGER = "compliance_staff_action_append_only"


def broken_links() -> list[str]:
    """In the order written, each record follows the one before it (GENESIS for the first) and
    its hash is that of its own content. A record changed behind the triggers fails the second;
    the record after one that was removed, inserted, or rewritten with a new hash fails the first."""
    found, previous = [], GENESIS
    for record in StaffAction.objects.order_by("pk").iterator(chunk_size=2000):
        if record.previous_hash != previous:
            found.append(
                f"staff action {record.pk}: does not follow the record before it "
                "(a record before it was removed, inserted or rewritten)"
            )
        elif record.chain_hash != link(record.previous_hash, record):
            found.append(f"staff action {record.pk}: its chain hash does not match its content (it was changed)")
        previous = record.chain_hash
    return found


def head_mismatch() -> list[str]:
    """The head holds the last record's hash (a removed last record shows only here)."""
    last = StaffAction.objects.order_by("-pk").values_list("pk", "chain_hash").first()
    head = StaffActionHead.objects.filter(pk=1).values_list("chain_hash", flat=True).first()
    if head is None:
        return [f"the chain head is missing but {StaffAction.objects.count()} staff actions exist"] if last else []
    if head != (last[1] if last else GENESIS):
        name = f"staff action {last[0]}'s" if last else "GENESIS (there are no staff actions)"
        return [f"the chain head is not {name}: the last records were removed or the head was changed"]
    return []


def missing_guards() -> list[str]:
    """On PostgreSQL, the append-only trigger exists and is enabled."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [TRIGGER])
        row = cursor.fetchone()
    return [] if row is not None and row[0] != "D" else [f"trigger {TRIGGER} is missing or disabled"]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "staff actions follow their hash chain": broken_links,
    "the chain head is the last staff action's": head_mismatch,
    "database guards are in place": missing_guards,
}


def run_audit() -> dict[str, list[str]]:
    return {name: check() for name, check in CHECKS.items()}
