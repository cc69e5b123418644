"""What player protection adds to one bet, pinned: nothing for a player with no limits (the lock
query already read the player row and its `needs_compliance_checks` flag), three SELECTs for a
player with a wager or loss limit. The wallet's own count is pinned in
apps/wallet/tests/test_query_count.py; these compare against a bet of a player without limits in
the same test, so that they say what compliance adds and nothing else."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Player
from apps.compliance.tests.factories import bet, funded_player, limit

pytestmark = pytest.mark.django_db


def tables(captured) -> list[str]:
    """The table each statement reads or writes first (None for SAVEPOINT and RELEASE)."""
    names = []
    for query in captured.captured_queries:
        sql = query["sql"].replace('"', "")
        keyword = next((k for k in (" FROM ", "INSERT INTO ", "UPDATE ") if k in sql), None)
        names.append(sql.split(keyword, 1)[1].split(" ", 1)[0] if keyword else None)
    return names


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
    plain, _ = players

    assert not any(name and name.startswith("compliance_") for name in tables(a_bet(plain)))


def test_a_player_with_wager_and_loss_limits_adds_three_selects(players):
    plain, limited = players
    limit(limited, "wager", "24h", 50_000)
    limit(limited, "loss", "7d", 50_000)

    without, with_limits = tables(a_bet(plain)), tables(a_bet(limited))

    # After the lock and the idempotency look-up: the protection state (exclusion, KYC hold,
    # session start), the limits, one SELECT summing every window's usage; then the wallet's own.
    assert with_limits == [
        *without[:2],
        "compliance_playerprotection",
        "compliance_limit",
        "wallet_transaction",
        *without[2:],
    ]


def test_a_player_with_only_a_deposit_limit_adds_two_selects_to_a_bet(players):
    """A deposit limit cannot refuse a bet, so the usage query is skipped."""
    plain, limited = players
    limit(limited, "deposit", "24h", 50_000)

    without, with_limit = tables(a_bet(plain)), tables(a_bet(limited))

    assert with_limit == [*without[:2], "compliance_playerprotection", "compliance_limit", *without[2:]]


def test_a_due_reality_check_adds_only_its_outbox_row(players):
    plain, due = players
    Player.objects.filter(pk=due.pk).update(reality_check_due_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    without, with_check = tables(a_bet(plain)), tables(a_bet(due))

    assert with_check == [*without[:2], "common_outboxevent", *without[2:]]
