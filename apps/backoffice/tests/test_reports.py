"""The reports: each run eagerly through its Celery task on data made through the services, and
each figure equal to the same sum computed here straight from the ledger's entries and the owning
apps' tables; the page and its streamed CSV show the same cells; each role reads exactly its
reports; "run now" is a staff action; a late run never hides newer figures; the beat schedule
names tasks that exist."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

import pytest
from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.http import StreamingHttpResponse
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.backoffice import reports, services, tasks
from apps.backoffice.errors import InvalidReportDay
from apps.backoffice.models import ReportRow, ReportRun, RunStatus
from apps.bonuses import services as bonuses
from apps.bonuses.tests.factories import campaign
from apps.compliance import cases
from apps.compliance import services as compliance
from apps.compliance.models import Alert, Case, Exclusion, LimitChange, PlayerProtection, StaffAction
from apps.compliance.tests.test_cases import an_alert
from apps.payments.choices import EventType
from apps.payments.models import DepositIntent, Withdrawal
from apps.payments.tests.factories import (
    a_provider,
    assert_audit_clean,
    event,
    post_webhook,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from apps.wallet import services as wallet
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Account, Entry, Transaction
from apps.wallet.tests.factories import a_ref
from pam.celery import app as celery_app

pytestmark = pytest.mark.django_db

GAME_KINDS = (TransactionKind.BET, TransactionKind.WIN, TransactionKind.ROLLBACK)
BONUS_KINDS = (TransactionKind.BONUS, TransactionKind.BONUS_CONVERTED, TransactionKind.BONUS_EXPIRED,
               TransactionKind.BONUS_FORFEITED, TransactionKind.BONUS_CANCELLED)  # fmt: skip
PLAYER_ACCOUNTS = Q(account__player__isnull=False)


@pytest.fixture(autouse=True)
def eager():
    """Tasks run in the caller's process, as embedded mode runs them (the broker is not needed)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def play(player, game: str, stake: int, won: int = 0, *, roll_back: bool = False, provider: str = "acme-games"):
    round_id = a_ref().external_id
    placed = a_ref(f"provider:{provider}")
    common = {"player_id": player.pk, "currency": player.currency_id, "round_id": round_id, "game_id": game}
    wallet.place_bet(amount=stake, ref=placed, **common)
    if roll_back:
        wallet.rollback_bet(rolled_back_external_id=placed.external_id, ref=a_ref(f"provider:{provider}"), **common)
    elif won:
        wallet.settle_win(amount=won, ref=a_ref(f"provider:{provider}"), **common)


def run_now(kind: str, staff, django_capture_on_commit_callbacks, day: dt.date | None = None) -> ReportRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_report(kind=kind, day=day or today(), actor=staff)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    return run


def rows_of(run: ReportRun) -> list[dict]:
    report = reports.REPORTS[run.kind]
    return [reports.as_dict(report, row.cells) for row in ReportRow.objects.filter(run=run).order_by("position")]


@pytest.fixture
def finance():
    return make_staff(StaffRole.FINANCE)


# --- the figures -----------------------------------------------------------------------------------


def test_ggr_and_ngr_equal_the_ledgers_sums_per_brand_provider_game_and_currency(
    finance, django_capture_on_commit_callbacks
):
    alice, bob = verified_player(50_000), verified_player(50_000, currency="GBP")
    play(alice, "slot-1", 1_000, 2_500)
    play(alice, "slot-1", 700)
    play(alice, "slot-1", 400, roll_back=True)
    play(alice, "roulette", 300, 600, provider="other")
    play(bob, "slot-1", 2_000, 100)
    promo = campaign("GOODWILL", kind="fixed", amount=1_500, trigger="staff_grant", requires_opt_in=False,
                     one_per_player=False, allow_concurrent=True)  # fmt: skip
    kept = bonuses.staff_grant(alice, promo.code, acting_user=finance, reason="outage", grant_id="g-1")
    cancelled = bonuses.staff_grant(alice, promo.code, acting_user=finance, reason="outage", grant_id="g-2")
    bonuses.cancel_bonus(cancelled, acting_user=finance, reason="granted twice")
    assert kept.amount == 1_500

    run = run_now("ggr", finance, django_capture_on_commit_callbacks)

    # Straight from the ledger: what the players' accounts (cash and bonus) lost on each game's
    # bets, wins and rollbacks is its GGR; what bonus movements put on them is the bonus cost.
    game_entries = Entry.objects.filter(PLAYER_ACCOUNTS, transaction__kind__in=GAME_KINDS)
    expected_ggr = {
        (brand, origin.removeprefix("provider:"), game, currency): -total
        for brand, origin, game, currency, total in game_entries.values_list(
            "transaction__player__brand__code", "transaction__origin", "transaction__game_id", "currency_id"
        ).annotate(total=Sum("amount"))
    }
    bonus_entries = Entry.objects.filter(PLAYER_ACCOUNTS, transaction__kind__in=BONUS_KINDS)
    expected_cost = {(brand, currency): total for brand, currency, total in
                     bonus_entries.values_list("transaction__player__brand__code", "currency_id")
                     .annotate(total=Sum("amount"))}  # fmt: skip
    rows = rows_of(run)
    games = {(r["brand"], r["provider"], r["game"], r["currency"]): r for r in rows if r["provider"] != reports.ALL}
    totals = {(r["brand"], r["currency"]): r for r in rows if r["provider"] == reports.ALL}
    assert {key: row["ggr"] for key, row in games.items()} == expected_ggr
    assert expected_ggr == {
        ("acme", "acme-games", "slot-1", "EUR"): 1_000 - 2_500 + 700,
        ("acme", "other", "roulette", "EUR"): 300 - 600,
        ("acme", "acme-games", "slot-1", "GBP"): 2_000 - 100,
    }
    assert games[("acme", "acme-games", "slot-1", "EUR")] | {} == {
        "brand": "acme", "provider": "acme-games", "game": "slot-1", "currency": "EUR", "bets": 3,
        "staked": 2_100, "refunded": 400, "won": 2_500, "ggr": -800, "bonus_granted": None,
        "bonus_returned": None, "bonus_cost": None, "ngr": None,
    }  # fmt: skip
    euro = totals[("acme", "EUR")]
    assert (euro["ggr"], euro["bonus_granted"], euro["bonus_returned"]) == (-800 - 300, 3_000, 1_500)
    assert euro["bonus_cost"] == expected_cost[("acme", "EUR")] == 1_500
    assert euro["ngr"] == euro["ggr"] - euro["bonus_cost"]
    # NGR is what the players' cash and bonus money lost to play and bonuses, from the entries.
    lost = Entry.objects.filter(PLAYER_ACCOUNTS, transaction__kind__in=GAME_KINDS + BONUS_KINDS, currency_id="EUR")
    assert euro["ngr"] == -lost.aggregate(total=Sum("amount"))["total"]
    assert totals[("acme", "GBP")]["ngr"] == 1_900
    assert_audit_clean()


def test_the_liability_states_the_balances_and_the_ledger_and_that_they_match(
    finance, django_capture_on_commit_callbacks
):
    alice, bob = verified_player(12_000), verified_player(3_000, currency="GBP")
    play(alice, "slot-1", 1_000, 400)
    a_provider()
    request_withdrawal(bob, 1_000)

    rows = rows_of(run_now("liability", finance, django_capture_on_commit_callbacks))

    accounts = Account.objects.filter(player__isnull=False)
    balances = {(currency, kind): total for currency, kind, total in
                accounts.values_list("currency_id", "kind").annotate(total=Sum("balance")).order_by()}  # fmt: skip
    ledger = defaultdict(int)
    for currency, kind, total in (
        Entry.objects.filter(PLAYER_ACCOUNTS)
        .values_list("account__currency_id", "account__kind")
        .annotate(total=Sum("amount"))
    ):
        ledger[(currency, kind)] += -total if kind == AccountKind.DEBT else total
    assert {(r["currency"], r["account_kind"]): r["balances"] for r in rows} == balances
    assert {(r["currency"], r["account_kind"]): r["ledger"] for r in rows} == {k: ledger.get(k, 0) for k in balances}
    assert {r["matches"] for r in rows} == {"yes"}
    assert balances[("EUR", "cash")] == 12_000 - 1_000 + 400
    assert balances[("GBP", "pending_withdrawal")] == 1_000


def test_a_balance_changed_behind_the_ledger_is_reported_as_not_matching(finance, django_capture_on_commit_callbacks):
    alice = verified_player(12_000)
    # Written around the services, as only a bug or tampering would.
    Account.objects.filter(player=alice, kind=AccountKind.CASH).update(balance=F("balance") + 1)

    rows = {
        (r["currency"], r["account_kind"]): r
        for r in rows_of(run_now("liability", finance, django_capture_on_commit_callbacks))
    }

    cash = rows[("EUR", "cash")]
    assert (cash["balances"], cash["ledger"], cash["matches"]) == (12_001, 12_000, "NO")


def test_rg_report_counts_limits_time_outs_exclusions_and_reality_checks(django_capture_on_commit_callbacks):
    officer = make_staff(StaffRole.COMPLIANCE)
    alice, bob, carol = verified_player(), verified_player(), verified_player()
    compliance.set_limit(player=alice, kind="deposit", period="24h", amount=10_000)
    compliance.set_limit(player=alice, kind="loss", period="7d", amount=5_000)
    compliance.set_limit(player=bob, kind="deposit", period="24h", amount=20_000)
    compliance.start_time_out(player=bob, hours=24)
    compliance.self_exclude(player=carol, period="6m")
    compliance.start_play_session(player=alice)
    due = type(alice).objects.get(pk=alice.pk).reality_check_due_at
    assert compliance.send_due_reality_check(player_id=alice.pk, due_at=due) is True
    compliance.acknowledge_reality_check(player=alice)

    rows = rows_of(run_now("rg", officer, django_capture_on_commit_callbacks))

    got = {(r["activity"], r["detail"]): r["count"] for r in rows}
    limits = LimitChange.objects.values_list("kind", "period", "status").annotate(n=Count("pk")).order_by()
    expected = {("limit", f"{kind} {period} {status}"): n for kind, period, status, n in limits}
    expected |= {(kind, ""): n for kind, n in Exclusion.objects.values_list("kind").annotate(n=Count("pk")).order_by()}
    expected[("reality_check_shown", "")] = PlayerProtection.objects.exclude(last_reality_check_at=None).count()
    expected[("reality_check_acknowledged", "")] = PlayerProtection.objects.exclude(
        reality_check_acknowledged_at=None
    ).count()
    assert got == expected
    assert got[("limit", "deposit 24h applied")] == 2
    assert (got[("time_out", "")], got[("self_exclusion", "")]) == (1, 1)
    assert (got[("reality_check_shown", "")], got[("reality_check_acknowledged", "")]) == (1, 1)


def test_aml_report_counts_alerts_by_rule_and_status_and_cases_opened_and_resolved(
    django_capture_on_commit_callbacks,
):
    officer = make_staff(StaffRole.COMPLIANCE)
    alice, bob = verified_player(), verified_player()
    now = timezone.now()
    first, second, third = (an_alert(p, window_start=now - dt.timedelta(hours=1)) for p in (alice, alice, bob))
    Alert.objects.filter(pk__in=[first.pk, second.pk, third.pk]).update(created_at=now)
    opened = cases.open_case(alerts=[first, second], acting_user=officer)
    cases.open_case(alerts=[third], acting_user=officer)
    cases.resolve(case=opened, outcome="no_action", note="explained", acting_user=officer)

    rows = rows_of(run_now("aml", officer, django_capture_on_commit_callbacks))

    got = {(r["measure"], r["subject"], r["status"]): r["count"] for r in rows}
    alerts = Alert.objects.values_list("rule_version__rule__code", "status").annotate(n=Count("pk")).order_by()
    expected = {("alerts_raised", rule, status): n for rule, status, n in alerts}
    expected |= {("cases_opened", "", s): n for s, n in Case.objects.values_list("status").annotate(n=Count("pk"))
                 .order_by()}  # fmt: skip
    expected[("cases_resolved", "no_action", "resolved")] = 1
    assert got == expected
    assert got[("alerts_raised", "deposit-threshold-24h", "open")] == 3
    assert (got[("cases_opened", "", "resolved")], got[("cases_opened", "", "open")]) == (1, 1)


def test_payments_report_counts_and_sums_deposits_and_withdrawals_per_provider_and_status(
    finance, django_capture_on_commit_callbacks
):
    a_provider()
    alice = verified_player(10_000)
    paid = start_deposit(alice, 5_000)
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, paid.public_id, 5_000))
    start_deposit(alice, 7_000)  # still pending
    post_webhook(event(EventType.DEPOSIT_SUCCEEDED, start_deposit(alice, 2_000).public_id, 2_000))
    request_withdrawal(alice, 3_000)

    rows = rows_of(run_now("payments", finance, django_capture_on_commit_callbacks))

    got = {(r["direction"], r["provider"], r["currency"], r["status"]): (r["count"], r["amount"], r["credited"])
           for r in rows}  # fmt: skip
    expected = {}
    for direction, model in (("deposit", DepositIntent), ("withdrawal", Withdrawal)):
        for provider, currency, status, n, amount in (
            model.objects.values_list("provider__code", "currency_id", "status")
            .annotate(n=Count("pk"), amount=Sum("amount"))
            .order_by()
        ):
            credited = 0
            if model is DepositIntent:
                credited = model.objects.filter(status=status).aggregate(c=Sum("credited_amount", default=0))["c"]
            expected[(direction, provider, currency, status)] = (n, amount, credited)
    assert got == expected
    assert got[("deposit", "sandbox", "EUR", "succeeded")] == (2, 7_000, 7_000)
    # The succeeded deposits' credited sum is what the ledger credited as deposits.
    ledger = Transaction.objects.filter(kind=TransactionKind.DEPOSIT).aggregate(total=Sum("amount"))["total"]
    assert got[("deposit", "sandbox", "EUR", "succeeded")][2] == ledger
    assert got[("withdrawal", "sandbox", "EUR", Withdrawal.objects.get().status)][:2] == (1, 3_000)


def test_a_past_day_counts_only_that_days_rows(finance, django_capture_on_commit_callbacks):
    alice = verified_player(10_000)
    play(alice, "slot-1", 1_000)
    yesterday = today() - dt.timedelta(days=1)

    run = run_now("ggr", finance, django_capture_on_commit_callbacks, day=yesterday)

    assert rows_of(run) == []
    assert run.as_of == dt.datetime.combine(today(), dt.time.min, tzinfo=dt.UTC)


# --- runs: the staff trail, refusals, a late run, the schedule ---------------------------------------


def test_run_now_is_a_staff_action_and_a_later_run_replaces_the_days_figures(
    finance, django_capture_on_commit_callbacks
):
    alice = verified_player(10_000)
    first = run_now("ggr", finance, django_capture_on_commit_callbacks)
    play(alice, "slot-1", 1_000)
    second = run_now("ggr", finance, django_capture_on_commit_callbacks)

    assert list(ReportRun.objects.values_list("pk", flat=True)) == [second.pk]
    assert ReportRow.objects.filter(run_id=first.pk).exists() is False
    records = StaffAction.objects.filter(action="report.run").order_by("pk")
    assert [(r.actor, r.target_id, r.after) for r in records] == [
        (finance, str(first.pk), {"kind": "ggr", "day": today().isoformat()}),
        (finance, str(second.pk), {"kind": "ggr", "day": today().isoformat()}),
    ]


def test_a_late_run_never_hides_newer_figures_and_a_task_delivered_twice_computes_once(finance):
    older = ReportRun.objects.create(kind="rg", day=today(), created_at=timezone.now())
    newer = ReportRun.objects.create(kind="rg", day=today(), created_at=timezone.now())

    assert tasks.compute_report.delay(newer.pk).get() == RunStatus.DONE
    assert tasks.compute_report.delay(newer.pk).get() == "skipped"
    assert tasks.compute_report.delay(older.pk).get() == "skipped"

    assert list(ReportRun.objects.values_list("pk", "status")) == [(newer.pk, RunStatus.DONE)]


def test_a_day_not_begun_and_a_past_liability_are_refused(finance):
    with pytest.raises(InvalidReportDay):
        services.request_report(kind="ggr", day=today() + dt.timedelta(days=1), actor=finance)
    with pytest.raises(InvalidReportDay):
        services.request_report(kind="liability", day=today() - dt.timedelta(days=1), actor=finance)
    assert ReportRun.objects.exists() is False


def test_the_schedules_task_queues_every_report_and_the_beat_names_existing_tasks(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        yesterday = tasks.run_reports.delay(days_ago=1).get()
        now = tasks.run_reports.delay(days_ago=0).get()

    runs = ReportRun.objects.filter(pk__in=yesterday + now)
    assert {(r.kind, r.day == today(), r.status) for r in runs} == {
        *((kind, False, RunStatus.DONE) for kind in ("ggr", "rg", "aml", "payments")),
        *((kind, True, RunStatus.DONE) for kind in reports.REPORTS),
    }
    celery_app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} <= set(celery_app.tasks)
    assert {entry["kwargs"]["days_ago"] for entry in schedule.values()} == {0, 1}


# --- the pages, the CSV and who may read what --------------------------------------------------------

MAY_READ = {
    StaffRole.SUPPORT: set(),
    StaffRole.COMPLIANCE: {"rg", "aml"},
    StaffRole.FINANCE: set(reports.REPORTS),
    StaffRole.ADMIN: set(reports.REPORTS),
}


def logged_in(client, role: StaffRole):
    user = make_staff(role)
    client.force_login(user)
    return user


def page_cells(response) -> list[list[str]]:
    """The report table's body cells as the page shows them."""
    html = response.content.decode()
    body = html[html.index('<table id="report"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    rows = []
    for chunk in body.split("<tr>")[1:]:
        cells = [part.split(">", 1)[1].split("</td>", 1)[0] for part in chunk.split("<td")[1:]]
        rows.append(cells)
    return rows


def csv_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_page_shows_a_chart_and_the_csv_streams_the_same_cells(client, django_capture_on_commit_callbacks):
    logged_in(client, StaffRole.FINANCE)
    alice = verified_player(50_000)
    play(alice, "slot-1", 1_250, 5_000)
    play(alice, "slot-2", 333)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/backoffice/reports/ggr/run", {"day": today().isoformat()})
    assert response.status_code == 302
    page = client.get(response["Location"])
    # The test's own transaction holds the task until the block ends (as a broker would hold it
    # for a worker); in a request the run's commit sends it, eager when embedded, before the answer.
    assert [str(m) for m in page.context["messages"]] == [
        f"The GGR and NGR report of {today()} is queued: a worker computes it shortly."
    ]
    download = client.get(f"/backoffice/reports/ggr.csv?from={today()}&to={today()}")

    assert page.status_code == 200
    assert '<svg class="report-chart"' in page.content.decode()
    assert "<rect " in page.content.decode()
    shown = page_cells(page)
    streamed = csv_of(download)
    assert streamed[0] == reports.REPORTS["ggr"].header
    assert streamed[1:] == shown
    day = today().isoformat()
    assert shown == [
        [day, "acme", "acme-games", "slot-1", "EUR", "1", "12.50", "0.00", "50.00", "-37.50", "", "", "", ""],
        [day, "acme", "acme-games", "slot-2", "EUR", "1", "3.33", "0.00", "0.00", "3.33", "", "", "", ""],
        [day, "acme", "(all)", "(all)", "EUR", "2", "15.83", "0.00", "50.00", "-34.17", "0.00", "0.00", "0.00",
         "-34.17"],
    ]  # fmt: skip
    assert download["Content-Disposition"] == f'attachment; filename="ggr-{day}-{day}.csv"'


def test_a_date_range_shows_each_days_latest_run_and_a_bad_range_is_refused(client, finance):
    logged_in(client, StaffRole.FINANCE)
    yesterday = today() - dt.timedelta(days=1)
    for day in (yesterday, today()):
        run = ReportRun.objects.create(kind="aml", day=day, created_at=timezone.now())
        tasks.compute_report.delay(run.pk)
        ReportRow.objects.create(run=run, position=99, cells=["alerts_raised", "x", "open", 1])

    both = csv_of(client.get(f"/backoffice/reports/aml.csv?from={yesterday}&to={today()}"))
    only_today = csv_of(client.get(f"/backoffice/reports/aml.csv?from={today()}&to={today()}"))

    assert [row[0] for row in both[1:]] == [yesterday.isoformat(), today().isoformat()]
    assert [row[0] for row in only_today[1:]] == [today().isoformat()]
    refused = client.get(f"/backoffice/reports/aml/?from={today()}&to={yesterday}")
    assert (refused.status_code, refused.content) == (400, b"INVALID_DATE_RANGE: The range's start is after its end.")
    assert client.get("/backoffice/reports/aml/?from=yesterday").status_code == 400


@pytest.mark.parametrize("role", list(MAY_READ))
def test_each_role_opens_exactly_its_reports_and_runs_only_those(client, role, django_capture_on_commit_callbacks):
    logged_in(client, role)
    allowed = MAY_READ[role]

    index = client.get("/backoffice/reports/")
    assert index.status_code == (200 if allowed else 403)
    home = client.get("/backoffice/").content.decode()
    assert ('href="/backoffice/reports/"' in home) is bool(allowed)
    for kind in reports.REPORTS:
        expected = 200 if kind in allowed else 403
        assert client.get(f"/backoffice/reports/{kind}/").status_code == expected, kind
        assert client.get(f"/backoffice/reports/{kind}.csv").status_code == expected, kind
        with django_capture_on_commit_callbacks(execute=True):
            ran = client.post(f"/backoffice/reports/{kind}/run", {"day": today().isoformat()})
        assert ran.status_code == (302 if kind in allowed else 403), kind
        if allowed:
            assert (f'href="/backoffice/reports/{kind}/"' in index.content.decode()) is (kind in allowed)
    assert set(ReportRun.objects.values_list("kind", flat=True)) == allowed
    assert StaffAction.objects.filter(action="report.run").count() == len(allowed)
    assert client.get("/backoffice/reports/nothing/").status_code == 404
