"""Citus's rules for a schema it can distribute, checked from PostgreSQL's catalog.

`docs/scaling.md` says, table by table, whether a table is distributed (and by which column,
in which colocation group), a reference table (a full copy on every node) or left local on the
coordinator. A plain PostgreSQL database can say whether that plan would be accepted, without
Citus installed, because the rules are about keys (Citus's "Creating and Modifying Distributed
Tables (DDL)" page):

- a distributed table's distribution column exists and is NOT NULL (Citus refuses a row with a
  NULL distribution value: it could not say which shard holds it);
- every primary key, unique constraint and unique index of a distributed table includes the
  distribution column, since each shard enforces uniqueness only among its own rows;
- a foreign key between two distributed tables joins tables of one colocation group and
  includes the distribution column on both sides, at the same position, so that the referenced
  row is on the same shard as the referencing one;
- a distributed table may reference a reference table, never a local one;
- a reference table references only reference tables (or local ones), never a distributed one;
- a local table may not reference a distributed one.

`violations()` returns one sentence per broken rule, naming the table and the constraint or
index; `unplaced_referencing()` lists the tables the plan does not place that reference a
distributed table (each will have to be placed before its target is distributed).
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRIBUTED, REFERENCE, LOCAL = "distributed", "reference", "local"
KINDS = (DISTRIBUTED, REFERENCE, LOCAL)


@dataclass(frozen=True)
class Placement:
    """Where a table goes: its kind, and for a distributed table its distribution column and its
    colocation group (the name of the group's first table)."""

    kind: str
    column: str | None = None
    group: str | None = None


def violations(cursor, placements: dict[str, Placement]) -> list[str]:
    """Every way the database behind `cursor` breaks Citus's rules for `placements`."""
    found: list[str] = []
    existing = _tables(cursor)
    for table, placement in sorted(placements.items()):
        if placement.kind not in KINDS:
            found.append(f"{table}: kind {placement.kind!r} is none of {', '.join(KINDS)}")
        elif table not in existing:
            found.append(f"{table}: no such table in the database")
        elif placement.kind == DISTRIBUTED:
            found += _column_violations(cursor, table, placement.column)
            found += _unique_violations(cursor, table, placement.column)
    found += _foreign_key_violations(cursor, {t: p for t, p in placements.items() if t in existing})
    return found


def unplaced_referencing(cursor, placements: dict[str, Placement]) -> set[str]:
    """The tables absent from `placements` that have a foreign key to a distributed table."""
    distributed = {table for table, placement in placements.items() if placement.kind == DISTRIBUTED}
    return {
        source
        for _, source, target, _, _ in _foreign_keys(cursor)
        if target in distributed and source not in placements
    }


def _tables(cursor) -> set[str]:
    cursor.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')")
    return {row[0] for row in cursor.fetchall()}


def _attnum(cursor, table: str, column: str) -> tuple[int, bool] | None:
    cursor.execute(
        "SELECT attnum, attnotnull FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s "
        "AND attnum > 0 AND NOT attisdropped",
        [table, column],
    )
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _column_violations(cursor, table: str, column: str | None) -> list[str]:
    if not column:
        return [f"{table}: distributed, but no distribution column is named"]
    found = _attnum(cursor, table, column)
    if found is None:
        return [f"{table}: the distribution column {column} does not exist"]
    if not found[1]:
        return [f"{table}: the distribution column {column} is nullable (Citus refuses a NULL distribution value)"]
    return []


def _unique_violations(cursor, table: str, column: str | None) -> list[str]:
    found = _attnum(cursor, table, column or "")
    if found is None:
        return []
    attnum = found[0]
    # Only key columns count (not INCLUDE columns); an expression is 0 in indkey.
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, (i.indkey::int2[])[0:i.indnkeyatts - 1], c.conname, c.contype "
        "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u') "
        "AND c.conrelid = i.indrelid WHERE i.indrelid = %s::regclass AND i.indisunique ORDER BY 1",
        [table],
    )
    problems = []
    for index, keys, constraint, contype in cursor.fetchall():
        if attnum in keys:
            continue
        what = {"p": "primary key", "u": "unique constraint"}.get(contype, "unique index")
        name = constraint or index
        problems.append(f"{table}: {what} {name} does not include the distribution column {column}")
    return problems


def _foreign_keys(cursor) -> list[tuple[str, str, str, list[int], list[int]]]:
    cursor.execute(
        "SELECT conname, conrelid::regclass::text, confrelid::regclass::text, conkey, confkey FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 2, 1"
    )
    return [(name, source, target, list(keys), list(target_keys)) for name, source, target, keys, target_keys in
            cursor.fetchall()]  # fmt: skip


def _foreign_key_violations(cursor, placements: dict[str, Placement]) -> list[str]:
    problems = []
    for name, source, target, keys, target_keys in _foreign_keys(cursor):
        placed, target_placed = placements.get(source), placements.get(target)
        if placed is None:
            continue  # not the plan's table (one referencing a distributed table: unplaced_referencing)
        fk = f"{source}: foreign key {name} to {target}"
        target_kind = target_placed.kind if target_placed else "not placed by the plan"
        if placed.kind == DISTRIBUTED:
            if target_placed is None or target_placed.kind == LOCAL:
                problems.append(f"{fk}: a distributed table may reference only distributed or reference "
                                f"tables, and {target} is {target_kind}")  # fmt: skip
            elif target_placed.kind == DISTRIBUTED:
                problems += _colocated_key_violations(cursor, fk, placed, target_placed, source, target, keys,
                                                      target_keys)  # fmt: skip
        elif placed.kind == REFERENCE:
            if target_placed is None:
                problems.append(f"{fk}: a reference table may reference only reference or local tables, and "
                                f"{target} is {target_kind}")  # fmt: skip
            elif target_placed.kind == DISTRIBUTED:
                problems.append(f"{fk}: a reference table may not reference a distributed table")
        elif target_placed is not None and target_placed.kind == DISTRIBUTED:
            problems.append(f"{fk}: a local table may not reference a distributed table")
    return problems


def _colocated_key_violations(
    cursor, fk: str, placed: Placement, target_placed: Placement, source: str, target: str, keys: list[int],
    target_keys: list[int],
) -> list[str]:  # fmt: skip
    if placed.group != target_placed.group:
        return [f"{fk}: the two distributed tables are in different colocation groups "
                f"({placed.group} and {target_placed.group})"]  # fmt: skip
    source_column = _attnum(cursor, source, placed.column or "")
    target_column = _attnum(cursor, target, target_placed.column or "")
    pairs = list(zip(keys, target_keys, strict=True))
    if source_column is None or target_column is None or (source_column[0], target_column[0]) not in pairs:
        return [f"{fk}: the key does not pair the distribution columns ({source}.{placed.column} with "
                f"{target}.{target_placed.column})"]  # fmt: skip
    return []
