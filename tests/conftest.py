"""Fixtures of the top-level tests only (those shared with apps/*/tests are in the root conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import EMBEDDED_PLAYER, EMBEDDED_STUDIO_SECRET, PYTHON, clean_env, run


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = clean_env(
        PAM_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="pam.settings", STUDIO_PROVIDER_SECRET=EMBEDDED_STUDIO_SECRET
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `make run` has none
    return env


@pytest.fixture(scope="session")
def _embedded_migrated(tmp_path_factory) -> Path:
    """`make run`'s first step in embedded mode, once per run: `migrate` into a fresh SQLite
    database (about half a minute of this suite's time each). Each test gets its own copy
    (`embedded_migrated_dir`, or `embedded_data_dir` with a player)."""
    data_dir = tmp_path_factory.mktemp("embedded-migrated")
    migrated = run([PYTHON, "manage.py", "migrate", "--noinput"], _embedded_env(data_dir), timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    # Every connection is closed: the write-ahead log is checkpointed into the file and removed.
    assert sorted(path.name for path in data_dir.iterdir()) == ["pam.sqlite3"]
    return data_dir / "pam.sqlite3"


@pytest.fixture(scope="session")
def _embedded_database(_embedded_migrated, tmp_path_factory) -> Path:
    """The migrated embedded database and then `create_player` (a staff action chained by a
    command), once per run."""
    data_dir = tmp_path_factory.mktemp("embedded-player")
    shutil.copyfile(_embedded_migrated, data_dir / _embedded_migrated.name)
    username, password, balance = EMBEDDED_PLAYER
    created = run(
        [PYTHON, "manage.py", "create_player", username, "--password", password, "--balance", str(balance)],
        _embedded_env(data_dir),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert sorted(path.name for path in data_dir.iterdir()) == ["pam.sqlite3"]
    return data_dir / "pam.sqlite3"


@pytest.fixture
def embedded_migrated_dir(_embedded_migrated, tmp_path) -> Path:
    """A PAM_DATA_DIR of the test's own, holding a copy of the freshly migrated embedded database
    (what `make run`'s `migrate` leaves, before its `seed_demo`)."""
    shutil.copyfile(_embedded_migrated, tmp_path / _embedded_migrated.name)
    return tmp_path


@pytest.fixture
def embedded_data_dir(_embedded_database, tmp_path) -> Path:
    """A PAM_DATA_DIR of the test's own, holding a copy of the migrated embedded database with
    its one player (EMBEDDED_PLAYER): what `migrate` and `create_player` leave, without running
    them again."""
    shutil.copyfile(_embedded_database, tmp_path / _embedded_database.name)
    return tmp_path
