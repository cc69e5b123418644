"""`seed_demo` (run by `make run`): one staff user per role and a few players, idempotently."""

import json

import pytest
from django.core.management import call_command

from apps.accounts.models import Player, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_logins(settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    logins = json.loads((tmp_path / "demo-logins.json").read_text())
    printed = capsys.readouterr().out
    for role in ("support", "compliance", "finance", "admin"):
        user = User.objects.get(username=role)
        assert user.is_staff
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(logins[role])
        assert logins[role] in printed
    assert User.objects.get(username="admin").is_superuser
    assert sorted(Player.objects.values_list("user__username", flat=True)) == ["alice", "bob", "carol"]
    assert User.objects.get(username="alice").check_password(logins["alice"])
