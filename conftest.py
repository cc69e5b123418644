"""Fixtures shared by apps/*/tests and tests/ (the test services are set up by tests/plugin.py)."""

import collections
import uuid

import pytest
from django.db import connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from rest_framework.test import APIClient

from apps.accounts import registration_throttle, throttling
from apps.bonuses import triggers as bonus_triggers
from apps.common import events
from apps.compliance import engine as rule_engine
from apps.wallet import fast_bet
from apps.wallet.services import forget_system_accounts
from tests import database_reset

_HASHERS_MARKER = "production_password_hashers"
_TRAIL_BROKEN_MARKER = "staff_trail_broken_on_purpose"
# Each transactional test starts from the database Django would give it, reached with less work.
database_reset.install()

_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_HASHERS_MARKER}: hash passwords with the settings' hashers (argon2), not MD5"
    )
    config.addinivalue_line(
        "markers", f"{_TRAIL_BROKEN_MARKER}: the test breaks the staff-action trail to show the audit finds it"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test has a node id of its own: pytest-xdist (`make test` runs the suite on a worker
    per core) hands out tests by node id, and of tests sharing one it would run a single one.

    Schemathesis names each operation's test `test[POST /path]`, but under pytest 9.2 the node
    id is built from the function's name and a parametrization's id only, and schemathesis's
    items have no parametrization: the operation is given back to the id here."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and getattr(item, "callspec", None) is None and not item.nodeid.endswith(f"[{label}]"):
            item._id = item.parent.id.child(item.originalname).with_params(label)
    shared = sorted(nodeid for nodeid, count in collections.Counter(item.nodeid for item in items).items() if count > 1)
    if shared:
        raise pytest.UsageError("Tests share a node id (pytest-xdist would run one of each): " + ", ".join(shared))


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Every test hashes passwords with MD5 unless marked `production_password_hashers`.

    Players and staff are made through registration, which hashes a password; argon2 would make
    the suite several times slower, and only the tests that check the hasher itself need it.
    Servers the tests start in a subprocess keep the settings' hashers.
    """
    if request.node.get_closest_marker(_HASHERS_MARKER):
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_trail_verifies(request: pytest.FixtureRequest):
    """After every test that used the database and left staff actions (rules, cases, account
    states, back-office changes), the hash-chained trail verifies as `manage.py staff_audit` would:
    no test may leave a trail that the audit rejects, unless it breaks it on purpose (marked).

    Set up after the test's database (so this runs before its rollback): `_django_db_helper` is
    what pytest-django's `db` and `transactional_db` fixtures and the `django_db` mark share."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(_DB_FIXTURES & set(request.fixturenames))
    if not uses_db or request.node.get_closest_marker(_TRAIL_BROKEN_MARKER):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from apps.compliance import audit
    from apps.compliance.models import StaffAction

    if not StaffAction.objects.exists():
        return
    digest = _trail_digest()
    if digest in _clean_trails:
        return  # the very trail, head and trigger that the audit found clean after an earlier test
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}
    _clean_trails.add(digest)


# Digests (`_trail_digest`) of the trails the audit found clean in this run. The audit reads
# nothing else, so the same digest after a later test gives the same answer: a module that builds
# a trail of 100,000 records once (apps/backoffice/tests/test_admin_scale.py) has it re-verified
# in full only after the first of its tests, unless a test changed it.
_clean_trails: set[str] = set()


# Everything the staff-action audit (apps/compliance/audit.py) reads: every record with all its
# columns, in the order written; the chain's head; the append-only trigger's state.
_TRAIL_DIGEST = """
SELECT md5(
    coalesce((SELECT string_agg(t::text, E'\\n' ORDER BY t.id) FROM compliance_staffaction t), '')
    || '|' || coalesce((SELECT h::text FROM compliance_staffactionhead h WHERE h.id = 1), '')
    || '|' || coalesce((SELECT string_agg(tgenabled::text, ',') FROM pg_trigger WHERE tgname = %s), '')
)
"""


def _trail_digest() -> str:
    from apps.compliance import audit

    with connections["default"].cursor() as cursor:
        cursor.execute(_TRAIL_DIGEST, [audit.TRIGGER])
        return cursor.fetchone()[0]


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def python_path(monkeypatch):
    """Bets as the wallet takes them with its bet function switched off (apps/wallet/fast_bet.py):
    for tests that pin the Python path's own statements."""
    monkeypatch.setattr(fast_bet, "usable", lambda: False)


@pytest.fixture(autouse=True)
def _fresh_system_account_ids():
    """System account ids, and the players the bet function declined, are remembered per process;
    each test's database starts without them."""
    forget_system_accounts()
    fast_bet.forget_declined()
    yield
    forget_system_accounts()
    fast_bet.forget_declined()


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    """The enabled behaviour rules are cached per process; each test's database has its own."""
    rule_engine.forget_rules()
    yield
    rule_engine.forget_rules()


@pytest.fixture(autouse=True)
def _fresh_threshold_campaigns():
    """The open wagering-threshold campaigns are cached per process, like the rules."""
    bonus_triggers.forget()
    yield
    bonus_triggers.forget()


@pytest.fixture(autouse=True)
def _fresh_login_throttle(monkeypatch):
    """Each test starts with no failed logins: the throttle's keys are the test's own (the cache
    is shared by the whole run, and on Redis by every engineer's run)."""
    monkeypatch.setattr(throttling, "KEY_NAMESPACE", f"login-throttle-{uuid.uuid4().hex}")


@pytest.fixture(autouse=True)
def _fresh_registration_budget(monkeypatch):
    """Each test starts with its address's registration budget whole (the throttle's keys are the
    test's own), so that the tests that register players cannot use it up for the later ones."""
    monkeypatch.setattr(registration_throttle, "KEY_NAMESPACE", f"registration-throttle-{uuid.uuid4().hex}")


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools_before_teardown(django_db_setup, django_db_blocker):
    """Threads (WebSocket consumers, concurrency tests) leave connections open; close them so
    that the test database can be dropped at the end of the run."""
    yield
    if not connections["default"].settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        return  # no test of the run used the database: none was created, nothing holds it
    with django_db_blocker.unblock():
        # Mark the run's last dispatched events while the database is there: the exit hook's
        # flush would otherwise wait out the pool's timeout against a dropped database.
        events.dispatched.flush()
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
        # A connection still held by a finished thread would block DROP DATABASE.
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
