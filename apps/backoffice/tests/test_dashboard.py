"""The back office's dashboard (the admin index) and its JSON: today's deposits and GGR from the
ledger, the withdrawal approval queue, open alerts and cases, players online; each figure equal to
what the test made through the services, each shown only to roles that may open its list, each a
link to that list; today's ledger read on the primary key, never the whole table."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.backoffice import selectors
from apps.compliance import cases
from apps.compliance.tests.factories import deposit
from apps.compliance.tests.test_cases import an_alert
from apps.payments.choices import EventType
from apps.payments.tests.factories import (
    a_provider,
    event,
    post_webhook,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from apps.realtime.presence import presence_of
from apps.wallet import selectors as wallet_selectors
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import a_ref, bet, funded_player, rollback, win

pytestmark = pytest.mark.django_db

ALL_FIGURES = [
    "deposits_today", "withdrawals_awaiting_approval", "open_alerts", "open_cases", "ggr_today", "players_online",
]  # fmt: skip
VISIBLE = {
    StaffRole.SUPPORT: ["deposits_today", "ggr_today", "players_online"],
    StaffRole.COMPLIANCE: ["deposits_today", "open_alerts", "open_cases", "ggr_today", "players_online"],
    StaffRole.FINANCE: ["deposits_today", "withdrawals_awaiting_approval", "ggr_today", "players_online"],
    StaffRole.ADMIN: ALL_FIGURES,
}
TODAY = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def day():
    """The test's clock: the morning of TODAY, ticking."""
    with time_machine.travel(TODAY) as traveller:
        yield traveller


def figures(client) -> dict:
    response = client.get("/backoffice/dashboard.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["figures"]


def test_todays_deposits_and_ggr_are_the_ledgers_of_today_only(client, day):
    a_provider()
    day.move_to(TODAY - dt.timedelta(hours=10))  # yesterday evening: none of it counts today
    eur = funded_player(100_000)
    gbp = funded_player(50_000, currency="GBP", username="gbpplayer")
    deposit(eur, 7_000)
    bet(eur, 1_000)
    yesterdays = a_ref()
    bet(eur, 300, ref=yesterdays, round_id="y1")
    day.move_to(TODAY)

    # Deposits: one through the cashier and the PSP's webhook, two straight to the wallet.
    player = verified_player(0)
    started = start_deposit(player, 2_500)
    assert post_webhook(event(EventType.DEPOSIT_SUCCEEDED, started.public_id, 2_500)).status_code == 200
    deposit(eur, 10_000)
    deposit(gbp, 3_000)
    # Bets, wins and rollbacks: EUR stakes 1,500 + 400 (rolled back), wins 600, and yesterday's
    # 300 rolled back today; GBP stake 900.
    bet(eur, 1_500, round_id="r1")
    win(eur, 600, round_id="r1")
    rolled = a_ref()
    bet(eur, 400, ref=rolled, round_id="r2")
    rollback(eur, rolled.external_id, round_id="r2")
    bet(gbp, 900, round_id="g1")
    rollback(eur, yesterdays.external_id, round_id="y1")  # posted today: today's GGR gives it back

    client.force_login(make_staff(StaffRole.ADMIN))
    shown = figures(client)

    assert shown["deposits_today"]["amounts"] == [
        {"currency": "EUR", "amount": 12_500, "count": 2, "text": "125.00 EUR"},
        {"currency": "GBP", "amount": 3_000, "count": 1, "text": "30.00 GBP"},
    ]
    assert shown["ggr_today"]["amounts"] == [
        {"currency": "EUR", "amount": 1_900 - 600 - 400 - 300, "text": "6.00 EUR"},
        {"currency": "GBP", "amount": 900, "text": "9.00 GBP"},
    ]
    assert shown["deposits_today"]["lines"] == ["125.00 EUR (2)", "30.00 GBP (1)"]
    assert shown["ggr_today"]["lines"] == ["6.00 EUR", "9.00 GBP"]
    # The same figures, straight from the ledger's rows of today.
    today = Transaction.objects.filter(created_at__gte=TODAY.replace(hour=0, minute=0))
    assert sum(t.amount for t in today.filter(kind="deposit", currency_id="EUR")) == 12_500
    assert -sum(t.amount for t in today.filter(kind__in=["bet", "win", "rollback"], currency_id="EUR")) == 600


def test_withdrawals_awaiting_approval_alerts_and_cases_are_counted(client, day):
    a_provider()
    player = verified_player(900_000)
    request_withdrawal(player, 200_000)
    request_withdrawal(player, 300_000)
    request_withdrawal(player, 1_000)  # under the brand's threshold: approved at once, not waiting
    someone = make_player(username="flagged")
    alerts = [an_alert(someone) for _ in range(3)]
    officer = make_staff(StaffRole.COMPLIANCE)
    cases.open_case(alerts=alerts[:1], acting_user=officer)
    investigated = cases.open_case(alerts=alerts[1:2], acting_user=officer)
    cases.assign(case=investigated, assignee=officer, acting_user=officer)
    resolved = cases.open_case(alerts=alerts[2:], acting_user=officer)
    cases.resolve(case=resolved, outcome="no_action", note="seen", acting_user=officer)

    client.force_login(make_staff(StaffRole.ADMIN))
    shown = figures(client)

    assert shown["withdrawals_awaiting_approval"]["count"] == 2
    assert shown["withdrawals_awaiting_approval"]["amounts"] == [
        {"currency": "EUR", "amount": 500_000, "count": 2, "text": "5000.00 EUR"}
    ]
    assert shown["open_alerts"]["count"] == 3
    assert shown["open_cases"]["count"] == 2  # open and investigating; the resolved one is not
    assert shown["withdrawals_awaiting_approval"]["lines"] == ["2", "5000.00 EUR (2)"]


@pytest.mark.parametrize("role", list(VISIBLE))
def test_each_role_sees_only_the_figures_whose_list_it_may_open(client, role):
    client.force_login(make_staff(role))

    assert list(figures(client)) == VISIBLE[role]
    page = client.get("/backoffice/")
    assert page.status_code == 200
    html = page.content.decode()
    for key in ALL_FIGURES:
        assert (f'id="figure-{key}"' in html) is (key in VISIBLE[role])
    assert "js/backoffice-dashboard.js" in html
    assert 'id="live-feed-link"' in html  # the index keeps its other parts
    assert 'class="app-' in html  # and the app list


@pytest.mark.parametrize("role", list(VISIBLE))
def test_every_link_opens_its_list_for_the_role(client, role):
    """Each figure's link is a list the role may open, with its filters accepted by the admin."""
    client.force_login(make_staff(role))

    for key, figure in figures(client).items():
        response = client.get(figure["url"])
        assert response.status_code == 200, (key, figure["url"])  # a filter the admin refused redirects


def test_the_deposit_link_lists_todays_deposits(client, day):
    player = funded_player(0)
    day.move_to(TODAY - dt.timedelta(days=1))
    old = deposit(player, 1_111)
    day.move_to(TODAY)
    new = deposit(player, 2_222)
    bet(player, 100)
    client.force_login(make_staff(StaffRole.SUPPORT))

    page = client.get(figures(client)["deposits_today"]["url"])

    listed = [str(row.pk) for row in page.context["cl"].result_list]
    assert listed == [new.transaction_id]
    assert old.transaction_id not in listed


def test_the_figures_refuse_non_staff_and_anonymous_visitors(client):
    anonymous = client.get("/backoffice/dashboard.json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "NOT_AUTHENTICATED"

    client.force_login(make_player(username="curious").user)
    refused = client.get("/backoffice/dashboard.json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"


def test_staff_without_any_permission_get_no_figures(client):
    staff = make_staff(StaffRole.SUPPORT)
    staff.groups.clear()
    client.force_login(staff)

    assert figures(client) == {}
    assert 'id="dashboard"' not in client.get("/backoffice/").content.decode()


def test_the_day_starts_at_midnight_of_the_sites_time_zone(settings):
    half_past_midnight_utc = dt.datetime(2026, 12, 5, 0, 30, tzinfo=dt.UTC)
    assert selectors.day_start(half_past_midnight_utc) == dt.datetime(2026, 12, 5, tzinfo=dt.UTC)

    settings.TIME_ZONE = "Europe/Berlin"  # 01:30 there: its day began at 23:00 UTC
    assert selectors.day_start(half_past_midnight_utc) == dt.datetime(2026, 12, 4, 23, 0, tzinfo=dt.UTC)


def test_todays_ledger_is_read_on_the_primary_key_never_the_whole_table(day):
    """No index on created_at alone (each would slow every bet): the read walks the primary key
    back to where today starts, then reads from there. With sequential scans priced out, every
    plan must have an index path (on a table this small the planner may pick compliance's
    (player, created_at) covering index over the primary key; both are bounded reads)."""
    player = funded_player(10_000)
    for _ in range(3):
        bet(player, 100)
    with CaptureQueriesContext(connection) as captured:
        wallet_selectors.ledger_totals(TODAY.replace(hour=0, minute=0), TODAY)
    reads = [q["sql"] for q in captured.captured_queries if "wallet_transaction" in q["sql"]]
    assert len(reads) == 2
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan
    assert reads[0].endswith("LIMIT 1")  # the walk back: one row


def test_players_online_is_unavailable_not_an_error_while_redis_does_not_answer(client):
    """The index still renders, and says the figure is unavailable (a closed port stands in for
    a Redis that went away)."""
    record = presence_of(get_channel_layer())
    reader = record._sync_client()
    # Built as the record builds its own (a pool from the URL, with its time-outs): a client made
    # with host and port instead retries a refused connection with back-off, for seconds.
    closed = redis.ConnectionPool.from_url("redis://127.0.0.1:1", socket_connect_timeout=1, socket_timeout=1)
    record._reader = redis.Redis(connection_pool=closed)
    try:
        client.force_login(make_staff(StaffRole.SUPPORT))
        shown = figures(client)["players_online"]
        page = client.get("/backoffice/")
    finally:
        record._reader = reader

    assert shown["available"] is False
    assert shown["lines"] == ["unavailable"]
    assert "count" not in shown
    assert page.status_code == 200
    assert "unavailable" in page.content.decode()


def test_players_online_counts_the_presence_record(client):
    """The figure is realtime's count (the sockets themselves: apps/realtime/tests/test_presence.py)."""
    record = presence_of(get_channel_layer())
    record._sync_client().delete(record.key)
    async_to_sync(record.seen)("specific.dashboard!one")
    try:
        client.force_login(make_staff(StaffRole.SUPPORT))
        shown = figures(client)["players_online"]
    finally:
        record._sync_client().delete(record.key)

    assert (shown["count"], shown["available"], shown["lines"]) == (1, True, ["1"])


def test_the_dashboard_is_a_fixed_handful_of_reads(django_assert_num_queries, day):
    """However much happened today: today's ledger twice (where today starts, then its sums), the
    withdrawal queue, the alerts, the cases (players online is a Redis read)."""
    admin = make_staff(StaffRole.ADMIN)
    player = funded_player(10_000)
    for _ in range(5):
        bet(player, 100)
        deposit(player, 100)

    with django_assert_num_queries(5):
        selectors.dashboard(admin)
