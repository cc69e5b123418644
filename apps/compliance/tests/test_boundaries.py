"""Compliance keeps to its side of ARCHITECTURE.md's arrows: its selectors only read, and the one
statement of the bet path is read by column name, so it can change shape without misreading."""

import ast
import datetime as dt
from pathlib import Path

import pytest

from apps.compliance import gate, selectors
from apps.compliance.tests.factories import START, bet, funded_player, limit

COMPLIANCE = Path(selectors.__file__).resolve().parent

# Method names that write through Django's ORM (a model's or a queryset's).
WRITES = {
    "save", "delete", "update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update",
    "select_for_update",
}  # fmt: skip


def calls_named(tree: ast.AST, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every call of a method or function called one of `names`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in names:
                found.append((node.lineno, name))
    return found


def test_selectors_write_nothing_and_send_nothing():
    """No ORM write, no lock, no event (an event is an outbox row), no call of a service."""
    tree = ast.parse((COMPLIANCE / "selectors.py").read_text())
    imported = {
        f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }  # fmt: skip

    assert calls_named(tree, WRITES | {"send_after_commit", "send", "send_robust", "execute"}) == []
    assert {name for name in imported if "services" in name or "events" in name or "gate" in name} == set()


def test_the_check_sees_a_write():
    source = "def f(player):\n    Player.objects.filter(pk=1).update(x=1)\n    send_after_commit(signal)"
    assert calls_named(ast.parse(source), WRITES | {"send_after_commit"}) == [(2, "update"), (3, "send_after_commit")]


@pytest.mark.django_db
def test_the_money_path_state_is_read_by_column_name_not_position(clock, monkeypatch):
    """The same state whatever order the statement lists its columns in."""
    player = funded_player(100_000)
    limit(player, "wager", "24h", 50_000)
    limit(player, "loss", "7d", 40_000)
    limit(player, "session", None, 60)
    bet(player, 1_500)
    now = START + dt.timedelta(minutes=5)

    as_written = gate._money_path_state(player.pk, now, kinds=gate._STAKE_LIMITS)
    gate._state_sql.cache_clear()
    monkeypatch.setattr(gate, "_STATE_COLUMNS", tuple(reversed(gate._STATE_COLUMNS)))
    try:
        reversed_columns = gate._money_path_state(player.pk, now, kinds=gate._STAKE_LIMITS)
    finally:
        gate._state_sql.cache_clear()

    assert reversed_columns == as_written
    assert as_written.limits == {("wager", "24h"): 50_000, ("loss", "7d"): 40_000, ("session", ""): 60}
    assert as_written.used[("wager", "24h")] == 1_500
    assert as_written.used[("loss", "7d")] == 1_500
