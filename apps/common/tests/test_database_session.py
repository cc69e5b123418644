"""The app's PostgreSQL sessions: JIT off (pam/settings.py, `DB_SESSION_OPTIONS`). A statement
estimated above `jit_above_cost` (a limited player's usage read over a long history) would
otherwise be compiled on every bet, for far longer than it takes to run."""

import pytest
from django.db import connection, transaction

pytestmark = pytest.mark.django_db


def test_the_apps_sessions_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_statement_estimated_past_any_jit_threshold_is_not_compiled():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit_above_cost = 0")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(amount) FROM wallet_transaction")
        (plan,) = cursor.fetchone()
    assert "JIT" not in plan[0], plan[0]
