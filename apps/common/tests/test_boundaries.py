"""The shared kernel imports no app (ARCHITECTURE.md's arrows): apps plug into it at start-up, as
compliance does with the staff-action recorder, which must be there whenever staff act."""

import ast
from pathlib import Path

import pytest
from django.db import transaction

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.common import staff_trail
from apps.compliance import staff_audit
from apps.compliance.models import StaffAction

COMMON = Path(staff_trail.__file__).resolve().parent


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import of the module, however deep (inside a function too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from apps import compliance` names the app in the alias.
            names = [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "apps" else [node.module]
            found += [(node.lineno, name) for name in names]
    return found


def imports_of_other_apps(source: str) -> list[tuple[int, str]]:
    return [
        (line, module)
        for line, module in imported_modules(ast.parse(source))
        if module.split(".")[0] == "apps" and module.split(".")[1:2] != ["common"]
    ]


def test_no_module_of_common_imports_another_app():
    modules = [path for path in COMMON.rglob("*.py") if "tests" not in path.relative_to(COMMON).parts]
    assert len(modules) > 15  # the walk found the package, not an empty folder

    offending = {
        str(path.relative_to(COMMON)): found for path in modules if (found := imports_of_other_apps(path.read_text()))
    }

    assert offending == {}


@pytest.mark.parametrize(
    "source",
    [
        "from apps.compliance import staff_audit",
        "import apps.wallet.services",
        "from apps import accounts",
        "def late():\n    from apps.realtime.services import notify_player",
    ],
)
def test_the_check_sees_every_form_of_import(source):
    assert len(imports_of_other_apps(source)) == 1


def test_the_check_lets_common_import_itself_and_libraries():
    source = "from apps.common import events\nimport apps.common.db\nfrom django.db import models\nfrom . import x"
    assert imports_of_other_apps(source) == []


def test_compliance_registers_the_trail_at_start_up():
    assert staff_trail._recorder is staff_audit.record_staff_action


@pytest.mark.django_db
def test_a_staff_action_through_common_is_a_record_of_the_trail():
    staff = make_staff(StaffRole.ADMIN)

    with transaction.atomic():
        record = staff_trail.record_staff_action(
            actor=staff, action=staff_trail.ADMIN_CHANGE, target=("games.game", "7"), before={"a": 1}, after={"a": 2}
        )

    stored = StaffAction.objects.get()
    assert record == stored
    assert (stored.actor, stored.action, stored.target_type, stored.target_id, stored.before, stored.after) == (
        staff, "admin.change", "games.game", "7", {"a": 1}, {"a": 2},
    )  # fmt: skip


@pytest.mark.django_db
def test_without_a_registered_recorder_a_staff_action_is_refused_not_dropped(monkeypatch):
    monkeypatch.setattr(staff_trail, "_recorder", None)

    with transaction.atomic(), pytest.raises(staff_trail.StaffTrailMissing):
        staff_trail.record_staff_action(actor=None, action=staff_trail.ADMIN_CHANGE, target=("games.game", "7"))

    assert StaffAction.objects.exists() is False
