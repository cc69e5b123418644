"""Every table of the bet path can be distributed by player as docs/scaling.md says.

The tables come from the code, not from a list: real money calls (a bet, a win, a rollback, a
deposit, a withdrawal's reservation) for a player with every limit set and for one wagering a
bonus, their after-commit receivers run, and every table their SQL names is collected. Each must
be placed by the document's table. Then the document's "Preparing the schema for distribution"
DDL is applied to the migrated schema (inside the test's transaction, rolled back) and the result
is checked against Citus's rules from pg_catalog (`citus_rules`); the same checker, on the schema
as migrated today, finds the violations the DDL exists to remove.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.bonuses import services as bonuses
from apps.bonuses.tests.factories import campaign
from apps.compliance import services as compliance
from apps.compliance.choices import LimitKind, LimitPeriod
from apps.compliance.tests.factories import deposit, limit, withdraw
from apps.payments.tests.factories import verified_player
from apps.wallet.tests import citus_rules
from apps.wallet.tests.citus_rules import DISTRIBUTED, REFERENCE, Placement
from apps.wallet.tests.factories import a_ref, bet, rollback, win

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "scaling.md"
HEADER = ["table", "kind", "distribution column", "why"]
PREPARE = "Preparing the schema for distribution"
DISTRIBUTE = "Distributing the tables"
WAGERING = {"kind": "fixed", "amount": 5_000, "trigger": "staff_grant", "requires_opt_in": False,
            "wagering_multiple": 10, "max_stake": 1_000}  # fmt: skip

# Table names after the keywords that read or write a table; a CTE's own name (`WITH t AS (…)`)
# and `FOR UPDATE OF a` are dropped by keeping only names of tables that exist.
_TABLE_AFTER_KEYWORD = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:ONLY\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?', re.I)


# --- the document ----------------------------------------------------------------------------------


def placements() -> dict[str, Placement]:
    """The document's table (`table | kind | distribution column | why`), with each distributed
    table's colocation group from the `create_distributed_table` calls."""
    text = DOC.read_text()
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if _cells(line) == HEADER)
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        table, kind, column, _ = _cells(line)
        assert table not in rows, f"docs/scaling.md places {table} twice"
        rows[table] = (kind, None if column in ("", "-", "—") else column)
    groups = colocation_groups(sql_block(text, DISTRIBUTE))
    return {table: Placement(kind, column, groups.get(table)) for table, (kind, column) in rows.items()}


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def sql_block(text: str, heading: str) -> str:
    """The first ```sql block after the heading that contains `heading`."""
    at = re.search(rf"^#+ .*{re.escape(heading)}.*$", text, re.M)
    assert at, f"docs/scaling.md has no heading with {heading!r}"
    block = re.search(r"^```sql\n(.*?)^```", text[at.end() :], re.M | re.S)
    assert block, f"docs/scaling.md has no sql block after {heading!r}"
    return block.group(1)


_DISTRIBUTED_CALL = re.compile(
    r"create_distributed_table\(\s*'(\w+)'\s*,\s*'(\w+)'(?:\s*,\s*colocate_with\s*=>\s*'(\w+)')?\s*\)"
)
_REFERENCE_CALL = re.compile(r"create_reference_table\(\s*'(\w+)'\s*\)")


def colocation_groups(sql: str) -> dict[str, str]:
    """Each distributed table's colocation group, named by the group's first table."""
    groups: dict[str, str] = {}
    for table, _, colocate_with in _DISTRIBUTED_CALL.findall(sql):
        groups[table] = groups.get(colocate_with, colocate_with) if colocate_with not in ("", "none") else table
    return groups


# --- the bet path's tables --------------------------------------------------------------------------


def tables_in(texts) -> set[str]:
    """The existing tables these SQL texts name."""
    named = {name for text in texts for name in _TABLE_AFTER_KEYWORD.findall(text)}
    return named & set(connection.introspection.table_names())


def tables_named(captured: CaptureQueriesContext) -> set[str]:
    return tables_in(query["sql"] for query in captured.captured_queries)


def tables_of_the_bet_function() -> set[str]:
    """The tables the wallet's bet function (apps/wallet/fast_bet.py) names in its own statements,
    which a captured query shows only as the function's call."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'wallet_place_bet'")
        (source,) = cursor.fetchone()
    return tables_in([source])


def a_player_with_every_limit():
    player = verified_player(100_000)
    for kind in (LimitKind.DEPOSIT, LimitKind.LOSS, LimitKind.WAGER):
        for period in LimitPeriod.values:
            limit(player, kind, period, 10_000_000)
    limit(player, LimitKind.SESSION, None, 600)
    compliance.set_reality_check_interval(player=player, minutes=60)
    return player


def a_player_wagering_a_bonus():
    player = verified_player(100_000)
    bonuses.grant(player, campaign("DISTRIBUTION", **WAGERING), trigger_ref="distribution")
    return player


def money_calls(player) -> None:
    staked = a_ref()
    bet(player, 100, ref=staked, round_id="round-d")
    win(player, 150, round_id="round-d")
    bet(player, 100, round_id="round-d")
    rollback(player, staked.external_id, round_id="round-d")
    deposit(player, 1_000)
    withdraw(player, 500)


@pytest.fixture
def bet_path_tables(django_capture_on_commit_callbacks) -> set[str]:
    """Every table the money calls and their after-commit receivers name in SQL, the bet
    function's included."""
    players = [a_player_with_every_limit(), a_player_wagering_a_bonus()]
    for player in players:
        bet(player, 100)  # the accounts open and the system accounts' ids are remembered, as in a running server
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        for player in players:
            money_calls(player)
    return tables_named(captured) | tables_of_the_bet_function()


def test_the_bet_function_writes_and_reads_the_tables_of_the_python_path():
    assert tables_of_the_bet_function() == {
        "wallet_account", "accounts_player", "wallet_transaction", "wallet_entry", "common_outboxevent",
    }  # fmt: skip


def test_every_table_of_the_bet_path_is_placed_by_the_document(bet_path_tables):
    # The ledger's rows are written in one data-modifying CTE (services._write_in_one_statement):
    # seeing wallet_entry shows the CTE's tables were collected.
    assert {"wallet_transaction", "wallet_entry", "wallet_account", "common_outboxevent"} <= bet_path_tables
    assert {"compliance_limit", "bonuses_bonus"} <= bet_path_tables  # the two players' own statements

    unplaced = bet_path_tables - set(placements())
    assert not unplaced, f"tables of the bet path that docs/scaling.md does not place: {sorted(unplaced)}"


def test_the_document_distributes_the_tables_as_its_table_says():
    text = DOC.read_text()
    calls = sql_block(text, DISTRIBUTE)
    distributed = {table: column for table, column, _ in _DISTRIBUTED_CALL.findall(calls)}
    reference = set(_REFERENCE_CALL.findall(calls))
    placed = placements()

    assert distributed == {t: p.column for t, p in placed.items() if p.kind == DISTRIBUTED}
    assert reference == {t for t, p in placed.items() if p.kind == REFERENCE}
    # Sharding by player: one colocation group holds every table distributed by the player.
    by_player = {p.group for p in placed.values() if p.kind == DISTRIBUTED and p.column in ("id", "player_id")}
    assert by_player == {"accounts_player"}


# --- the rules ------------------------------------------------------------------------------------


def test_the_schema_prepared_as_documented_meets_citus_rules():
    # A few rows first, so that the DDL's backfills run over real ones: a bet, a bonus, a deposit.
    money_calls(a_player_wagering_a_bonus())
    placed = placements()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql_block(DOC.read_text(), PREPARE))
        found = citus_rules.violations(cursor, placed)
        unplaced = citus_rules.unplaced_referencing(cursor, placed)
        transaction.set_rollback(True)

    assert found == [], "\n".join(found)
    text = DOC.read_text()
    unnamed = sorted(table for table in unplaced if f"`{table}`" not in text)
    assert not unnamed, f"tables that reference a distributed one, not named in docs/scaling.md: {unnamed}"


def test_the_schema_as_migrated_breaks_the_rules_the_ddl_addresses():
    with connection.cursor() as cursor:
        found = citus_rules.violations(cursor, placements())

    expected = [
        "wallet_transaction: primary key wallet_transaction_pkey does not include the distribution column player_id",
        "wallet_transaction: unique constraint transaction_origin_external_id_unique does not include the "
        "distribution column player_id",
        "wallet_account: the distribution column player_id is nullable (Citus refuses a NULL distribution value)",
        "wallet_entry: the distribution column player_id does not exist",
        "common_outboxevent: the distribution column player_id does not exist",
        "accounts_player: unique constraint accounts_player_user_id_key does not include the distribution column id",
        "accounts_player: unique index player_email_unique_per_brand does not include the distribution column id",
        "wallet_systemaccount: no such table in the database",
    ]
    missing = [sentence for sentence in expected if sentence not in found]
    assert not missing, "\n".join(["not reported:", *missing, "reported:", *found])
    assert any(
        sentence.startswith("wallet_entry: foreign key") and "does not pair the distribution columns" in sentence
        for sentence in found
    ), found


def test_the_checker_names_a_foreign_key_from_a_reference_table_to_a_distributed_one():
    plan = {"accounts_player": Placement(DISTRIBUTED, "id", "accounts_player"), "wallet_account": Placement(REFERENCE)}
    with connection.cursor() as cursor:
        found = citus_rules.violations(cursor, plan)

    expected = (
        "wallet_account: foreign key wallet_account_player_id_651ba349_fk_accounts_player_id to accounts_player: "
        "a reference table may not reference a distributed table"
    )
    assert expected in found
