"""Compliance keeps to its side of ARCHITECTURE.md's arrows: it writes only its own tables (the
player row through accounts' services), its selectors only read, and the one statement of the
bet path is read by column name, so it can change shape without misreading."""

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from apps.compliance import gate, selectors
from apps.compliance.choices import STAKE_LIMIT_KINDS
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


def compliance_modules() -> list[Path]:
    """Compliance's code: everything but its tests and migrations."""
    return [path for path in COMPLIANCE.rglob("*.py") if not {"tests", "migrations"} & set(path.parts)]


def other_apps_models(tree: ast.AST) -> set[str]:
    """The names a module binds to another app's models (`from apps.accounts.models import Player`)."""
    return {
        alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        and re.fullmatch(r"apps\.(?!compliance\.)\w+\.models", node.module or "") for alias in node.names
    }  # fmt: skip


def root_name(node: ast.AST) -> str:
    """`Player` for `Player.objects.filter(pk=1).update`: the name a chain of calls and attributes starts at."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def writes_to_other_apps(source: str) -> list[tuple[int, str]]:
    """(line, what) of each ORM write whose chain starts at another app's model, each `.save()` /
    `.delete()` of a variable named after one (`player.save()`), and each SQL statement text
    that writes a table not prefixed `compliance_`."""
    tree = ast.parse(source)
    models = other_apps_models(tree)
    instances = {name.lower() for name in models}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
            root = root_name(node.func)
            if root in models or (root in instances and node.func.attr in {"save", "delete"}):
                found.append((node.lineno, f"{root}….{node.func.attr}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table in re.findall(r"(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?([a-z]+_\w+)", node.value):
                if not table.startswith("compliance_"):
                    found.append((node.lineno, table))
    return found


def test_compliance_writes_no_table_of_another_app():
    modules = compliance_modules()
    assert {COMPLIANCE / "services.py", COMPLIANCE / "gate.py"} <= set(modules)

    offending = {
        str(path.relative_to(COMPLIANCE)): found for path in modules
        if (found := writes_to_other_apps(path.read_text()))
    }  # fmt: skip

    assert offending == {}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from apps.accounts.models import Player\nPlayer.objects.filter(pk=1).update(x=1)", "Player….update"),
        ("from apps.accounts.models import Player\nPlayer.objects.filter(pk=1).exclude(y=2).update(x=1)",
         "Player….update"),
        ("from apps.accounts.models import Player as P\nP.objects.create(x=1)", "P….create"),
        ("from apps.accounts.models import Player\ndef f(player):\n    player.save()", "player….save"),
        ("from apps.wallet.models import Transaction\nTransaction.objects.bulk_create([])", "Transaction….bulk_create"),
        ("cursor.execute('UPDATE accounts_player SET x = 1')", "accounts_player"),
        ('sql = "INSERT INTO wallet_entry (x) VALUES (1)"', "wallet_entry"),
    ],
)  # fmt: skip
def test_the_check_sees_a_write_to_another_app(source, found):
    assert [what for _, what in writes_to_other_apps(source)] == [found]


def test_the_check_lets_compliance_write_its_own_and_read_others():
    source = (
        "from apps.accounts.models import Player\nfrom apps.compliance.models import Limit\n"
        "Limit.objects.filter(player_id=1).update(amount=2)\nPlayer.objects.filter(pk=1).first()\n"
        "def f(limit):\n    limit.save()\n"
        "sql = 'SELECT * FROM accounts_player p'\nsql2 = 'UPDATE compliance_limit SET amount = 1'\n"
        "doc = 'The conditional UPDATE on the due time'"
    )
    assert writes_to_other_apps(source) == []


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

    as_written = gate._money_path_state(player.pk, now, kinds=STAKE_LIMIT_KINDS)
    gate._state_sql.cache_clear()
    monkeypatch.setattr(gate, "_STATE_COLUMNS", tuple(reversed(gate._STATE_COLUMNS)))
    try:
        reversed_columns = gate._money_path_state(player.pk, now, kinds=STAKE_LIMIT_KINDS)
    finally:
        gate._state_sql.cache_clear()

    assert reversed_columns == as_written
    assert as_written.limits == {("wager", "24h"): 50_000, ("loss", "7d"): 40_000, ("session", ""): 60}
    assert as_written.used[("wager", "24h")] == 1_500
    assert as_written.used[("loss", "7d")] == 1_500
