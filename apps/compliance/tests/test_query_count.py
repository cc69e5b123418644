"""What player protection adds to one bet, pinned: nothing for a player with no limits (the lock
query already read the player row and its `needs_compliance_checks` flag), one prepared SELECT
for a player with limits or an exclusion (the state, the limits and their usage together). The
wallet's own count is pinned in apps/wallet/tests/test_query_count.py; these compare against a
bet of a player without limits in the same test, so that they say what compliance adds and
nothing else. Both bets take the wallet's Python path here (`python_path`): the plain player's
would otherwise be the wallet's bet function, one statement, which a player with checks to run
costs one statement more before the Python path (apps/wallet/tests/test_query_count.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Player
from apps.common.models import OutboxEvent
from apps.compliance.tests.factories import bet, funded_player, limit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("python_path")]


def added_by_compliance(plain: CaptureQueriesContext, limited: CaptureQueriesContext) -> list[str]:
    """The statements of the limited player's bet that the plain player's bet did not run, which
    must come right after the lock and the idempotency look-up that travels with it (the wallet
    asks compliance once the accounts are locked).
    Compared with a plain bet in the same test, so a change of the wallet's own statements does
    not break these."""
    plain_sql = [query["sql"] for query in plain.captured_queries]
    limited_sql = [query["sql"] for query in limited.captured_queries]
    lock = next(n for n, sql in enumerate(limited_sql) if "FOR UPDATE" in sql) + 1  # and the look-up
    extra = len(limited_sql) - len(plain_sql)
    added = limited_sql[lock + 1 : lock + 1 + extra]
    shape = [sql.split(" ", 1)[0] for sql in limited_sql[: lock + 1] + limited_sql[lock + 1 + extra :]]
    assert shape == [sql.split(" ", 1)[0] for sql in plain_sql]
    return added


@pytest.fixture
def players():
    """Two funded players at the table (accounts open, the house id remembered)."""
    plain, limited = funded_player(100_000), funded_player(100_000)
    bet(plain, 100)
    bet(limited, 100)
    return plain, limited


def a_bet(player) -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as captured:
        bet(player, 100)
    return captured


def test_a_player_without_limits_adds_no_query(players):
    plain, other = players

    with CaptureQueriesContext(connection) as captured:
        bet(plain, 100)

    assert not any("compliance_" in query["sql"].split(" WHERE ")[0].split(" FROM ", 1)[-1]
                   for query in captured.captured_queries)  # fmt: skip
    assert added_by_compliance(a_bet(other), captured) == []


def test_a_player_with_wager_and_loss_limits_adds_one_select(players):
    plain, limited = players
    limit(limited, "wager", "24h", 50_000)
    limit(limited, "loss", "7d", 50_000)

    (state,) = added_by_compliance(a_bet(plain), a_bet(limited))

    # The protection state (exclusion, KYC hold, session start) joined to the limits, and every
    # window of a wager or loss limit (3 periods each) summed: its whole hours from the ledger's
    # hourly sums, its edge hour from the ledger, and, for a loss, the debt its resettlements left.
    assert all(table in state for table in ("compliance_playerprotection", "compliance_exclusion", "compliance_limit"))
    assert state.startswith("WITH u AS MATERIALIZED (SELECT h.wager_24h + e.wager_24h AS wager_24h, ")
    assert "h.loss_30d + e.loss_30d + d.loss_30d AS loss_30d" in state
    assert state.count("FROM wallet_ledger_hour h") == 1
    assert state.count("FROM wallet_transaction t") == 2  # the edge hours, the debt left
    assert state.count("FILTER") == 6 + 6 + 3


def test_the_statement_is_prepared_on_postgresql(players):
    """PostgreSQL plans it once per connection (apps.common.db): after a few bets it is among the
    connection's prepared statements."""
    _, limited = players
    limit(limited, "wager", "24h", 50_000)
    for _ in range(6):
        bet(limited, 100)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("compliance_limit" in statement and "wallet_transaction" in statement for statement in prepared)


def test_a_player_with_only_a_deposit_limit_adds_no_query_to_a_bet(players):
    """A deposit limit cannot refuse a bet: it leaves the player's row unflagged (the cashier
    reads it at each deposit's start), and the bet costs what a free player's does."""
    plain, limited = players
    limit(limited, "deposit", "24h", 50_000)

    assert added_by_compliance(a_bet(plain), a_bet(limited)) == []


def test_a_due_reality_check_adds_only_its_outbox_row(players):
    plain, due = players
    Player.objects.filter(pk=due.pk).update(reality_check_due_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    before = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    with CaptureQueriesContext(connection) as captured:
        bet(due, 100)
    written = list(OutboxEvent.objects.filter(pk__gt=before).order_by("pk").values_list("name", flat=True))
    without = a_bet(plain)

    assert len(captured) == len(without) + 1
    outbox = [query["sql"] for query in captured.captured_queries if "common_outboxevent" in query["sql"]]
    assert len(outbox) == 2
    assert written == ["compliance.reality_check_due", "wallet.transaction_posted"]
