"""The back office stays fast over a large ledger and staff trail: the change lists of
transactions, entries and staff actions read one page along an index and nothing else.

Built once per module, in SQL: 250,000 transactions with three entries each, a million ledger
rows that the ledger's triggers and foreign keys accept (every transaction's entries sum to zero,
checked here at once rather than at a commit that never comes); and 100,000 staff actions that
continue the trail's hash chain (the audit that runs after each test verifies them). Then, for
each list, its first page, later pages, each filter that stays and each kind of search, as an
admin with the test client: the exact number of queries, no COUNT of those tables, and the plan
of every query that reads them: no sequential scan of them and no sort of them, but an index
walked in the list's order under a Limit.

Everything is written inside one transaction that is rolled back after the module; each test
runs in a savepoint of it (ANALYZE is transactional too).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import locks, staff_audit
from apps.compliance.models import StaffAction
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Account, Entry, Transaction

pytestmark = pytest.mark.django_db

TRANSACTIONS = 250_000
ENTRIES = 3 * TRANSACTIONS  # three each: with their transactions, a million ledger rows
STAFF_ACTIONS = 100_000
PLAYERS = 20
PER_PAGE = 100  # the admin's list_per_page
ORIGIN = "provider:scale"
BIG_TABLES = ("wallet_transaction", "wallet_entry", "compliance_staffaction")

# One transaction in a hundred is a deposit, one a rollback, one in ten thousand an adjustment;
# the rest are bets and wins, as in a casino's ledger.
KIND_OF = """
CASE
    WHEN g %% 10000 = 5 THEN 'adjustment'
    WHEN g %% 100 = 0 THEN 'deposit'
    WHEN g %% 100 = 1 THEN 'rollback'
    WHEN g %% 2 = 0 THEN 'bet'
    ELSE 'win'
END
"""
INSERT_TRANSACTIONS = f"""
INSERT INTO wallet_transaction (kind, player_id, currency_id, amount, origin, external_id, fingerprint, round_id,
                                game_id, reverses_external_id, reason, balance_after, wallet_version, created_at)
SELECT kind, players[1 + g %% cardinality(players)], %(currency)s,
       CASE WHEN kind = 'bet' THEN -(1 + g %% 500) ELSE 1 + g %% 500 END,
       %(origin)s, 'scale-' || g, 'f', 'round-' || (g / 2), 'slot', '', '', 0, g,
       %(start)s::timestamptz + g * interval '1 second'
  FROM (SELECT g, {KIND_OF} AS kind FROM generate_series(1, %(count)s) g) s,
       (SELECT %(players)s::bigint[] AS players) p
"""
# Each transaction's three entries, summing to zero: the player's cash and bonus parts and the
# house's side of both (a bet paid from both accounts, a win split between them).
INSERT_ENTRIES = """
INSERT INTO wallet_entry (transaction_id, account_id, currency_id, amount, balance_after, account_version)
SELECT t.id, CASE part WHEN 1 THEN cash.id WHEN 2 THEN bonus.id ELSE %(house)s END, t.currency_id,
       CASE part WHEN 1 THEN t.amount WHEN 2 THEN sign(t.amount) * 2 ELSE -(t.amount + sign(t.amount) * 2) END,
       NULL, NULL
  FROM wallet_transaction t
  JOIN wallet_account cash ON cash.player_id = t.player_id AND cash.kind = 'cash'
  JOIN wallet_account bonus ON bonus.player_id = t.player_id AND bonus.kind = 'bonus'
 CROSS JOIN generate_series(1, 3) part
 WHERE t.origin = %(origin)s
 ORDER BY t.id, part
"""

TRAIL_ACTIONS = ("admin.change", "limit.set", "wallet.adjust", "account.lock", "case.comment")
RARE_ACTION = "account.freeze"  # one record in ten thousand


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker):
    """One transaction around the module's data, rolled back at its end. Marked as a test case's
    (as Django's TestCase marks its own) so that the services' durable transactions nest in it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            # The rolled-back rows stay in the tables' files as dead rows, and autovacuum is off in
            # the test database (tests/database_reset.py): every later test that reads these tables
            # whole (the audits after each step or test) would read through all of them. A full
            # vacuum writes each table anew with only its live rows, in the order they were.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM FULL {', '.join(BIG_TABLES)}")


@pytest.fixture(scope="module")
def ledger(module_transaction, django_db_blocker):
    """The big ledger: players with their accounts, the house, a million entries."""
    with django_db_blocker.unblock():
        players = [make_player() for _ in range(PLAYERS)]
        currency = players[0].currency_id
        for player, kind in itertools.product(players, ("cash", "bonus")):
            Account.objects.get_or_create(player=player, kind=kind, defaults={"currency_id": currency})
        house, _ = Account.objects.get_or_create(code="house", currency_id=currency, defaults={"kind": "house"})
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_TRANSACTIONS,
                {"currency": currency, "origin": ORIGIN, "start": start, "count": TRANSACTIONS,
                 "players": [p.pk for p in players]},
            )  # fmt: skip
            cursor.execute(INSERT_ENTRIES, {"house": house.pk, "origin": ORIGIN})
            # The zero-sum check of every transaction, now rather than at a commit that never comes.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("ANALYZE wallet_transaction")
            cursor.execute("ANALYZE wallet_entry")
        cash = Account.objects.get(player=players[0], kind="cash")
        return SimpleNamespace(players=players, house=house, cash=cash)


@pytest.fixture(scope="module")
def trail(ledger, django_db_blocker):
    """The big staff trail: STAFF_ACTIONS records by three staff members and the system, each
    linked to the one before it, written with COPY, and the chain's head moved to the last."""
    with django_db_blocker.unblock():
        staff = [make_staff(StaffRole.COMPLIANCE) for _ in range(3)]
        actors = [user.pk for user in staff] + [None]
        head = locks.lock_staff_action_head(staff_audit.GENESIS)
        previous, start = head.chain_hash, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        columns = ("created_at", "actor_id", "system_actor", "action", "target_type", "target_id", "before", "after",
                   "reason", "previous_hash", "chain_hash")  # fmt: skip
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY compliance_staffaction ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(STAFF_ACTIONS):
                    actor = actors[i % len(actors)]
                    record = SimpleNamespace(
                        created_at=start + dt.timedelta(seconds=i), actor_id=actor,
                        system_actor="" if actor else "rules",
                        action=RARE_ACTION if i % 10_000 == 7 else TRAIL_ACTIONS[i % len(TRAIL_ACTIONS)],
                        target_type="accounts.player", target_id=str(ledger.players[i % PLAYERS].pk),
                        before={"n": i}, after={"n": i + 1}, reason="scale",
                    )  # fmt: skip
                    chain_hash = staff_audit.link(previous, record)
                    copy.write_row([
                        record.created_at, record.actor_id, record.system_actor, record.action, record.target_type,
                        record.target_id, json.dumps(record.before), json.dumps(record.after), record.reason,
                        previous, chain_hash,
                    ])  # fmt: skip
                    previous = chain_hash
            cursor.execute("ANALYZE compliance_staffaction")
        head.chain_hash = previous
        head.save(update_fields=["chain_hash"])
        return SimpleNamespace(staff=staff)


@pytest.fixture
def admin_client(client):
    client.force_login(make_staff(StaffRole.ADMIN))
    return client


# --- reading the plans -------------------------------------------------------------------------------


def plan_of(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(plan: dict, above: tuple = ()) -> list[tuple[dict, tuple]]:
    """Every node of the plan, with the node types above it."""
    found = [(plan, above)]
    for child in plan.get("Plans", []):
        found += nodes(child, (*above, plan["Node Type"]))
    return found


def big_table_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(BIG_TABLES)])
        return {row[0] for row in cursor.fetchall()}


def reads_big_table(node: dict, indexes: set[str]) -> bool:
    return node.get("Relation Name") in BIG_TABLES or node.get("Index Name") in indexes


def big_table_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if any(f'"{table}"' in q["sql"] or table in q["sql"] for table in BIG_TABLES)]


def assert_walks_an_index(captured, *, search: bool = False) -> None:
    """No query counts a big table, and each one that reads it walks an index in the list's order
    under a Limit: no sequential scan, no sort, except of rows that an index condition finds and
    that the planner knows to be fewer than a page (a rare filter value); a search may sort all
    the rows its index look-ups found (one id, one round, one object's history)."""
    queries = big_table_queries(captured)
    assert queries
    indexes = big_table_indexes()
    for sql in queries:
        assert "COUNT(" not in sql.upper(), sql
        assert sql.lstrip().upper().startswith(("SELECT", "WITH")), sql
        scans = [(node, above) for node, above in nodes(plan_of(sql)) if reads_big_table(node, indexes)]
        assert scans, sql
        for node, above in scans:
            assert node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan"), (
                sql, node)  # fmt: skip
            walked_in_order = (
                node["Node Type"] in ("Index Scan", "Index Only Scan")
                and "Limit" in above
                and not {"Sort", "Incremental Sort"} & set(above)
            )
            # Rows an index condition finds, which the planner may sort (after a hash join) when
            # it knows them to be fewer than a page: the rare filter values.
            looked_up = node["Node Type"].startswith("Bitmap") or "Index Cond" in node
            few = looked_up and node["Plan Rows"] <= PER_PAGE
            assert walked_in_order or few or (search and looked_up), (sql, node["Node Type"], above)


def get_list(client, url: str, params: dict, queries: int):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response
    assert len(captured) == queries, "\n".join(q["sql"] for q in captured)
    return response, captured


def ids_shown(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


# The queries of a page: the session, the user (a superuser: no permission to look up) and the
# page's rows, one query with their related rows joined; the trail also reads its filters'
# choices (the action codes, the actors, their names).
LEDGER_QUERIES = 3
TRAIL_QUERIES = 6


# --- transactions ------------------------------------------------------------------------------------

TRANSACTIONS_URL = "/backoffice/wallet/transaction/"


@pytest.mark.parametrize("page", [1, 2, 40])
def test_transactions_newest_first_page_by_page(ledger, admin_client, page):
    response, captured = get_list(admin_client, TRANSACTIONS_URL, {"p": page}, LEDGER_QUERIES)

    expected = Transaction.objects.order_by("-id").values_list("id", flat=True)[(page - 1) * PER_PAGE : page * PER_PAGE]
    assert ids_shown(response) == list(expected)
    first, last = (page - 1) * PER_PAGE + 1, page * PER_PAGE
    assert f"transactions {first} to {last}, more follow" in response.content.decode()  # never a total
    assert_walks_an_index(captured)


@pytest.mark.parametrize("kind", TransactionKind.values)
def test_transactions_of_each_kind(ledger, admin_client, kind):
    """Every choice of the kind filter, the common (bets, wins: along the primary key), the rare
    (along the kind's index) and those with no row at all, first page and second."""
    for page in (1, 2):
        expected = list(
            Transaction.objects.filter(kind=kind)
            .order_by("-id")
            .values_list("id", flat=True)[(page - 1) * PER_PAGE : page * PER_PAGE]
        )
        if page == 2 and not expected:
            break  # a single page: its second is refused like any page past the end
        response, captured = get_list(admin_client, TRANSACTIONS_URL, {"kind__exact": kind, "p": page}, LEDGER_QUERIES)
        assert ids_shown(response) == expected
        assert_walks_an_index(captured)


def test_a_page_past_the_end_is_refused_without_counting(ledger, admin_client):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(TRANSACTIONS_URL, {"kind__exact": TransactionKind.ADJUSTMENT, "p": 3})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert_walks_an_index(captured)


def test_the_last_page_says_where_the_rows_end(ledger, admin_client):
    rare = Transaction.objects.filter(kind=TransactionKind.ADJUSTMENT).count()
    assert 0 < rare < PER_PAGE
    response, _ = get_list(admin_client, TRANSACTIONS_URL, {"kind__exact": TransactionKind.ADJUSTMENT}, LEDGER_QUERIES)
    assert f"transactions 1 to {rare}\n" in response.content.decode()


def test_pages_past_the_thousandth_are_refused_before_any_read(ledger, admin_client):
    """OFFSET walks the index up to the page: far pages are refused (a filter or a search narrows
    the list instead), without reading the table at all."""
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(TRANSACTIONS_URL, {"p": 1001})
    assert response.status_code == 302
    assert big_table_queries(captured) == []


def test_no_sort_count_or_show_all_whatever_the_query_string_asks(ledger, admin_client):
    """A column's sort (`o`), the filters' counts (`_facets`) and "show all" (`all`) are ignored."""
    response, captured = get_list(admin_client, TRANSACTIONS_URL, {"o": "2", "_facets": "", "all": ""}, LEDGER_QUERIES)
    assert ids_shown(response) == list(Transaction.objects.order_by("-id").values_list("id", flat=True)[:PER_PAGE])
    assert_walks_an_index(captured)


def test_transactions_search_by_id_external_id_or_round(ledger, admin_client):
    newest = Transaction.objects.order_by("-id").first()
    for term, expected in [
        (str(newest.pk), {newest.pk}),
        (newest.external_id, {newest.pk}),
        (newest.round_id, set(Transaction.objects.filter(round_id=newest.round_id).values_list("id", flat=True))),
        ("no such id", set()),
    ]:
        response, captured = get_list(admin_client, TRANSACTIONS_URL, {"q": term}, LEDGER_QUERIES)
        assert set(ids_shown(response)) == expected
        assert_walks_an_index(captured, search=True)


# --- entries -----------------------------------------------------------------------------------------

ENTRIES_URL = "/backoffice/wallet/entry/"


@pytest.mark.parametrize("page", [1, 2, 60])
def test_entries_newest_first_page_by_page(ledger, admin_client, page):
    assert Entry.objects.filter(transaction__origin=ORIGIN).count() == ENTRIES

    response, captured = get_list(admin_client, ENTRIES_URL, {"p": page}, LEDGER_QUERIES)

    expected = Entry.objects.order_by("-id").values_list("id", flat=True)[(page - 1) * PER_PAGE : page * PER_PAGE]
    assert ids_shown(response) == list(expected)
    assert_walks_an_index(captured)


@pytest.mark.parametrize("who", ["house", "cash"])
def test_an_accounts_entries_newest_first_along_its_index(ledger, admin_client, who):
    """An account's statement: the house's (a third of all entries) and a player's, two pages each."""
    account = getattr(ledger, who)
    for page in (1, 2):
        response, captured = get_list(admin_client, ENTRIES_URL, {"q": f"account:{account.pk}", "p": page},
                                      LEDGER_QUERIES)  # fmt: skip
        expected = account.entries.order_by("-id").values_list("id", flat=True)[(page - 1) * PER_PAGE : page * PER_PAGE]
        assert ids_shown(response) == list(expected)
        assert_walks_an_index(captured)


def test_a_transactions_entries_by_its_id(ledger, admin_client):
    tx = Transaction.objects.order_by("id").first()
    response, captured = get_list(admin_client, ENTRIES_URL, {"q": str(tx.pk)}, LEDGER_QUERIES)
    assert set(ids_shown(response)) == set(tx.entries.values_list("id", flat=True))
    assert len(ids_shown(response)) == 3
    assert_walks_an_index(captured, search=True)


# --- the staff trail ---------------------------------------------------------------------------------

TRAIL_URL = "/backoffice/compliance/staffaction/"


# Few tests, each with many pages: after each one, the audit re-verifies the whole trail.


def test_staff_trail_newest_first_page_by_page(trail, admin_client):
    for page in (1, 2, 30):
        response, captured = get_list(admin_client, TRAIL_URL, {"p": page}, TRAIL_QUERIES)
        expected = StaffAction.objects.order_by("-id").values_list("id", flat=True)
        assert ids_shown(response) == list(expected[(page - 1) * PER_PAGE : page * PER_PAGE])
        assert_walks_an_index(captured)


def test_staff_trail_filters_by_action_and_by_actor(trail, admin_client):
    """The filters offer what the trail holds (read along their indexes), and each choice, the
    rare action and the system's records included, pages along its index."""
    response, _ = get_list(admin_client, TRAIL_URL, {}, TRAIL_QUERIES)
    choices = {spec.title: [value for value, _ in spec.lookup_choices] for spec in response.context["cl"].filter_specs}
    assert choices["action"] == sorted({*TRAIL_ACTIONS, RARE_ACTION})
    assert choices["actor"] == ["system", *(str(user.pk) for user in sorted(trail.staff, key=lambda u: u.username))]

    by_action = [({"action": action}, {"action": action}) for action in (*TRAIL_ACTIONS, RARE_ACTION)]
    by_actor = [({"actor": str(user.pk)}, {"actor": user}) for user in trail.staff]
    for params, lookup in [*by_action, *by_actor, ({"actor": "system"}, {"actor": None})]:
        expected = StaffAction.objects.filter(**lookup).order_by("-id").values_list("id", flat=True)
        for page in (1, 2):
            rows = list(expected[(page - 1) * PER_PAGE : page * PER_PAGE])
            if page == 2 and not rows:
                break  # a single page: its second is refused like any page past the end
            response, captured = get_list(admin_client, TRAIL_URL, {**params, "p": page}, TRAIL_QUERIES)
            assert ids_shown(response) == rows, params
            assert_walks_an_index(captured)


def test_staff_trail_search_by_id_object_or_code(trail, ledger, admin_client):
    newest = StaffAction.objects.order_by("-id").first()
    player = ledger.players[3]
    history = StaffAction.objects.filter(target_type="accounts.player", target_id=str(player.pk)).order_by("-id")
    for term, expected in [
        (str(newest.pk), [newest.pk]),
        (f"accounts.player:{player.pk}", list(history.values_list("id", flat=True)[:PER_PAGE])),
        (
            RARE_ACTION,
            list(StaffAction.objects.filter(action=RARE_ACTION).order_by("-id").values_list("id", flat=True)),
        ),
        ("no.such:code", []),
    ]:
        response, captured = get_list(admin_client, TRAIL_URL, {"q": term}, TRAIL_QUERIES)
        assert ids_shown(response) == expected, term
        assert_walks_an_index(captured, search=True)
