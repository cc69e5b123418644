"""The ledger's look-ups stay index look-ups on the selective column whatever the statistics say.

A provider's first thousands of calls arrive before PostgreSQL's statistics know its origin. With
an index led by `origin` (and an OR in the idempotency look-up) the planner then chose "every
transaction of this origin, filtered" for each call, so a bet's cost grew with the provider's
history (measured by bench/profile_bet.py). These tests recreate that: statistics taken before
the origin existed, then a few thousand of its transactions, then the plans of the hot look-ups.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from apps.wallet import services
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

ORIGIN = "provider:new"
HISTORY = 3000


@pytest.fixture
def unknown_origin_with_history():
    """A player with HISTORY bets of ORIGIN that the statistics have never seen. (ANALYZE is
    transactional: the test's rollback takes these statistics away again, but for the table's
    size in pages and rows.)"""
    player = funded_player(HISTORY)  # its accounts opened by a deposit
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_transaction")
        cursor.execute(
            "INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, "
            "round_id, game_id, reverses_external_id, reason, balance_after, wallet_version, created_at) "
            "SELECT 'bet', %s, %s, -1, %s, 'tx-' || g, 'f', 'round-' || g, 'game', '', '', 0, g, now() "
            "FROM generate_series(1, %s) g",
            [player.pk, player.currency_id, ORIGIN, HISTORY],
        )
        # Each bet's two entries, the player's cash account's and the other side's (the funding's
        # system account), as the ledger holds them.
        cursor.execute(
            "INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount) "
            "SELECT t.id, e.account_id, e.currency_id, CASE WHEN a.kind = 'cash' THEN -1 ELSE 1 END "
            "FROM wallet_transaction t, wallet_entry e JOIN wallet_account a ON a.id = e.account_id "
            "WHERE t.origin = %s AND e.transaction_id = (SELECT max(transaction_id) FROM wallet_entry)",
            [ORIGIN],
        )
    return player


def scans(plan: dict) -> list[dict]:
    """Every node of the plan that reads a table or an index."""
    found = [plan] if ("Relation Name" in plan or "Index Name" in plan) else []
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def explain(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        document = cursor.fetchone()[0]
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return scans(plan)


def assert_led_by(nodes: list[dict], *columns: str, filter_allowed: bool = False) -> None:
    """Each scan is an index scan whose condition starts with one of `columns` and (unless
    `filter_allowed`) leaves nothing to filter row by row."""
    assert nodes
    for node in nodes:
        if node["Node Type"] == "Bitmap Heap Scan":
            continue  # its Bitmap Index Scan children carry the conditions
        assert node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"), node
        condition = node["Index Cond"]
        assert any(condition.lstrip("(").startswith(f"{column})") for column in columns), condition
        assert "origin" in condition, condition
        assert filter_allowed or "Filter" not in node, node.get("Filter")


def test_idempotency_look_up_is_two_index_look_ups(unknown_origin_with_history):
    sql = services._FIND_BY_EXTERNAL_ID
    nodes = explain(sql, ["tx-1", ORIGIN, "tx-1", ORIGIN])
    assert_led_by(nodes, "external_id", "reverses_external_id")
    assert {node["Index Name"] for node in nodes} == {
        "transaction_origin_external_id_unique",
        "transaction_reverses_ext_idx",
    }


def test_rollback_look_up_is_two_index_look_ups(unknown_origin_with_history):
    sql, params = services._named_by_rollback(ORIGIN, "tx-1").query.sql_with_params()
    assert_led_by(explain(sql, list(params)), "external_id", "reverses_external_id")


def test_round_look_up_is_led_by_the_round(unknown_origin_with_history):
    """A win's look-up of its round. Its plan does depend on the statistics: it is checked once
    they know the round ids for what they are, unique or nearly (a planner that believed one
    round id common would scan by origin), and know the entries as a ledger has them (statistics
    of an empty entry table, which an earlier test's ANALYZE can leave behind, plan a scan of it)."""
    player = unknown_origin_with_history
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_transaction")
        cursor.execute("ANALYZE wallet_entry")
        cursor.execute("SELECT id FROM wallet_account WHERE player_id = %s AND kind = 'cash'", [player.pk])
        busy_account = cursor.fetchone()[0]
    # An account with an entry in every transaction (the player has no bonus account): scanning
    # its entries would cost the whole history, the round's own entries one look-up each.
    sql, params = services._round_bets_and_rollbacks(ORIGIN, "round-1", player.pk, busy_account)
    nodes = explain(sql, list(params))
    # Each bet's entry on the bonus account (the win's split): one index look-up per row of the round.
    on_bonus = [
        node for node in nodes
        if node.get("Relation Name") == "wallet_entry" or node.get("Index Name", "").startswith("wallet_entry")
    ]  # fmt: skip
    assert on_bonus
    assert {node["Node Type"] for node in on_bonus} <= {"Index Scan", "Bitmap Heap Scan", "Bitmap Index Scan"}, on_bonus
    # Never a scan of the entries: the bet's own entries through the transaction's index.
    assert any("(transaction_id = wallet_transaction.id)" in node.get("Index Cond", "") for node in on_bonus), on_bonus
    # The player and the kind are checked on the round's few rows.
    assert_led_by([node for node in nodes if node not in on_bonus], "round_id", filter_allowed=True)


def test_the_look_ups_find_what_they_should(unknown_origin_with_history):
    """The rewritten look-ups still answer: the bet by its id, none for an unknown id."""
    assert [tx.external_id for tx in services._named_by_rollback(ORIGIN, "tx-7")] == ["tx-7"]
    assert list(services._named_by_rollback(ORIGIN, "tx-none")) == []
    with connection.cursor() as cursor:
        cursor.execute(services._FIND_BY_EXTERNAL_ID, ["tx-9", ORIGIN, "tx-9", ORIGIN])
        assert [row[6] for row in cursor.fetchall()] == ["tx-9"]
