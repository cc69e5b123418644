"""Compliance cases: alerts of one player grouped, assigned, commented, attached and resolved
through `cases.py`, each change one staff action in the verified trail; a resolved case refuses
every change and keeps what it had; the suspicious-activity report lists the case, its alerts and
exactly the player's money movements of the period; the back office works through the services
for the compliance and admin roles and shows support nothing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, connections, transaction

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.common.timestamps import iso_utc
from apps.compliance import audit, cases, selectors
from apps.compliance.errors import CaseResolved, InvalidCase
from apps.compliance.models import Alert, Case, CaseAttachment, CaseComment, RuleFiring, RuleVersion, StaffAction
from apps.compliance.tests.factories import START, bet, deposit, funded_player

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def officer():
    return make_staff(StaffRole.COMPLIANCE)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Attachments go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def an_alert(player, *, window_start=START - HOUR, value=100_000, event_ids=(1, 2)) -> Alert:
    """An alert of the seeded deposit-threshold rule's first version, as the engine writes one
    (the engine itself is tested in test_rules.py). A firing is unique per window: the player's
    next alert at the same `window_start` gets a window a minute earlier."""
    version = RuleVersion.objects.get(rule__code="deposit-threshold-24h", version=1)
    while RuleFiring.objects.filter(rule_version=version, player=player, window_start=window_start).exists():
        window_start -= dt.timedelta(minutes=1)
    firing = RuleFiring.objects.create(
        rule_version=version, player=player, window_start=window_start, value=value, threshold=100_000,
        event_id=event_ids[-1], actions=["alert"], created_at=window_start + dt.timedelta(minutes=30),
    )  # fmt: skip
    return Alert.objects.create(
        firing=firing, rule_version=version, player=player, severity="medium", event_ids=list(event_ids),
        value=value, threshold=100_000, created_at=firing.created_at,
    )  # fmt: skip


def trail(action: str) -> list[StaffAction]:
    return list(StaffAction.objects.filter(action=action).order_by("pk"))


def assert_trail_verifies() -> None:
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def snapshot(case: Case) -> tuple:
    """Everything a refused change must leave as it was."""
    case.refresh_from_db()
    return (
        case.status, case.assignee_id, case.outcome, case.resolution_note, case.period_start, case.period_end,
        case.updated_at, sorted(Alert.objects.filter(case=case).values_list("pk", flat=True)),
        CaseComment.objects.filter(case=case).count(), CaseAttachment.objects.filter(case=case).count(),
        StaffAction.objects.count(),
    )  # fmt: skip


# --- services -------------------------------------------------------------------------------------


def test_a_case_groups_alerts_of_one_player_with_its_period_and_a_staff_action(clock, officer):
    player = funded_player(0)
    first, second = an_alert(player, window_start=START - 3 * HOUR), an_alert(player)

    case = cases.open_case(alerts=[second, first], acting_user=officer, title="  big deposits  ")

    case.refresh_from_db()
    assert (case.player_id, case.title, case.status, case.opened_by, case.assignee, case.outcome) == (
        player.pk, "big deposits", "open", officer, None, "")  # fmt: skip
    assert (case.period_start, case.period_end) == (START - 3 * HOUR, START)
    assert set(Alert.objects.filter(case=case)) == {first, second}
    [record] = trail("case.open")
    assert (record.actor, record.target_type, record.target_id) == (officer, "compliance.case", str(case.pk))
    assert record.after == {"player": player.pk, "title": "big deposits", "alerts": sorted([first.pk, second.pk]),
                            "period_start": iso_utc(START - 3 * HOUR), "period_end": iso_utc(START)}  # fmt: skip
    assert_trail_verifies()


def test_a_case_without_a_title_is_named_after_the_player_and_rules(clock, officer):
    player = funded_player(0)
    case = cases.open_case(alerts=[an_alert(player)], acting_user=officer)
    assert case.title == f"Player {player.pk}: deposit-threshold-24h"


@pytest.mark.parametrize("problem", ["two players", "already in a case", "none", "unknown"])
def test_opening_a_case_is_refused_and_writes_nothing(clock, officer, problem):
    player = funded_player(0)
    alert = an_alert(player)
    others = {
        "two players": [an_alert(funded_player(0))],
        "already in a case": [cases.open_case(alerts=[an_alert(player)], acting_user=officer).alerts.get()],
        "none": None,
        "unknown": [10**9],
    }[problem]
    chosen = [] if others is None else [alert, *others]
    before = (Case.objects.count(), StaffAction.objects.count())

    with pytest.raises(InvalidCase) as refusal:
        cases.open_case(alerts=chosen, acting_user=officer)

    assert refusal.value.code == "INVALID_CASE"
    assert (Case.objects.count(), StaffAction.objects.count()) == before
    alert.refresh_from_db()
    assert alert.case_id is None


def test_alerts_added_later_widen_the_period(clock, officer):
    player = funded_player(0)
    case = cases.open_case(alerts=[an_alert(player)], acting_user=officer)
    earlier = an_alert(player, window_start=START - 5 * HOUR)
    clock.move_to(START + HOUR)

    cases.add_alerts(case=case, alerts=[earlier], acting_user=officer)

    case.refresh_from_db()
    assert (case.period_start, case.period_end) == (START - 5 * HOUR, START + HOUR)
    assert Alert.objects.filter(case=case).count() == 2
    [record] = trail("case.add_alerts")
    assert record.before == {"period_start": iso_utc(START - HOUR), "period_end": iso_utc(START)}
    assert record.after == {"alerts": [earlier.pk], "period_start": iso_utc(START - 5 * HOUR),
                            "period_end": iso_utc(START + HOUR)}  # fmt: skip


def test_an_alert_of_another_player_is_not_added(clock, officer):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    stranger = an_alert(funded_player(0))
    before = snapshot(case)

    with pytest.raises(InvalidCase):
        cases.add_alerts(case=case, alerts=[stranger], acting_user=officer)

    assert snapshot(case) == before
    stranger.refresh_from_db()
    assert stranger.case_id is None


def test_assigning_moves_the_case_to_investigating_once(clock, officer):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    colleague = make_staff(StaffRole.COMPLIANCE)

    cases.assign(case=case, assignee=colleague, acting_user=officer)
    cases.assign(case=case, assignee=colleague, acting_user=officer)  # again: nothing to record

    case.refresh_from_db()
    assert (case.assignee, case.status) == (colleague, "investigating")
    [record] = trail("case.assign")
    assert (record.actor, record.before) == (officer, {"assignee": None, "status": "open"})
    assert record.after == {"assignee": colleague.pk, "status": "investigating"}


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_a_case_is_never_assigned_to_staff_who_may_not_work_on_cases(clock, officer, role):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    before = snapshot(case)

    with pytest.raises(InvalidCase):
        cases.assign(case=case, assignee=make_staff(role), acting_user=officer)

    assert snapshot(case) == before


def test_comments_are_kept_in_order_and_in_the_trail(clock, officer):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)

    first = cases.comment(case=case, text=" called the PSP ", acting_user=officer)
    clock.move_to(START + HOUR)
    cases.comment(case=case, text="source of funds asked", acting_user=officer)

    assert list(CaseComment.objects.filter(case=case).values_list("text", "author", "created_at")) == [
        ("called the PSP", officer.pk, START), ("source of funds asked", officer.pk, START + HOUR)]  # fmt: skip
    assert [r.after for r in trail("case.comment")] == [
        {"comment": first.pk, "text": "called the PSP"},
        {"comment": first.pk + 1, "text": "source of funds asked"},
    ]
    case.refresh_from_db()
    assert case.updated_at == START + HOUR
    with pytest.raises(InvalidCase):
        cases.comment(case=case, text="   ", acting_user=officer)
    assert CaseComment.objects.filter(case=case).count() == 2


@pytest.mark.parametrize(
    "statement",
    ["UPDATE compliance_casecomment SET text = 'rewritten'", "DELETE FROM compliance_casecomment"],
)
def test_the_database_refuses_to_change_or_remove_a_comment(clock, officer, statement):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    cases.comment(case=case, text="kept", acting_user=officer)

    with pytest.raises(DatabaseError, match="case_comment_append_only"), transaction.atomic(), connection.cursor() as c:
        c.execute(statement)

    assert list(CaseComment.objects.values_list("text", flat=True)) == ["kept"]


def test_a_file_is_stored_with_its_type_size_and_hash(clock, officer, media):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    upload = SimpleUploadedFile("dir/statement.pdf", b"%PDF-1.7 evidence", content_type="application/pdf")

    attachment = cases.attach(case=case, file=upload, acting_user=officer)

    attachment.refresh_from_db()
    digest = hashlib.sha256(b"%PDF-1.7 evidence").hexdigest()
    assert (attachment.name, attachment.content_type, attachment.size, attachment.sha256, attachment.uploaded_by) == (
        "statement.pdf", "application/pdf", 17, digest, officer)  # fmt: skip
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.7 evidence"
    assert str(media) in attachment.file.path
    [record] = trail("case.attach")
    assert record.after == {"attachment": attachment.pk, "name": "statement.pdf", "content_type": "application/pdf",
                            "size": 17, "sha256": digest}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("run.exe", b"MZ", "application/x-msdownload"), ("page.html", b"<script>", "text/html"),
     ("empty.txt", b"", "text/plain"), ("big.txt", b"x" * 65, "text/plain")],
)  # fmt: skip
def test_a_file_of_another_type_or_size_is_refused_and_nothing_is_stored(
    clock, officer, media, monkeypatch, name, content, content_type
):
    monkeypatch.setattr(cases, "ATTACHMENT_MAX_BYTES", 64)
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    before = snapshot(case)

    with pytest.raises(InvalidCase):
        cases.attach(case=case, file=SimpleUploadedFile(name, content, content_type=content_type), acting_user=officer)

    assert snapshot(case) == before
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_a_resolved_case_refuses_every_change_and_keeps_what_it_had(clock, officer):
    player = funded_player(0)
    case = cases.open_case(alerts=[an_alert(player)], acting_user=officer)
    cases.comment(case=case, text="checked", acting_user=officer)
    clock.move_to(START + HOUR)

    cases.resolve(case=case, outcome="sar_filed", note=" reported to the FIU ", acting_user=officer)

    case.refresh_from_db()
    assert (case.status, case.outcome, case.resolution_note, case.resolved_at) == (
        "resolved", "sar_filed", "reported to the FIU", START + HOUR)  # fmt: skip
    [record] = trail("case.resolve")
    assert (record.before, record.after, record.reason) == (
        {"status": "open"}, {"status": "resolved", "outcome": "sar_filed"}, "reported to the FIU")  # fmt: skip

    before = snapshot(case)
    refused = [
        lambda: cases.add_alerts(case=case, alerts=[an_alert(player)], acting_user=officer),
        lambda: cases.assign(case=case, assignee=officer, acting_user=officer),
        lambda: cases.comment(case=case, text="late", acting_user=officer),
        lambda: cases.attach(case=case, file=SimpleUploadedFile("a.txt", b"a", content_type="text/plain"),
                             acting_user=officer),
        lambda: cases.resolve(case=case, outcome="no_action", note="again", acting_user=officer),
    ]  # fmt: skip
    for change in refused:
        with pytest.raises(CaseResolved) as refusal:
            change()
        assert (refusal.value.code, refusal.value.status) == ("CASE_RESOLVED", 409)
    assert snapshot(case) == before
    assert_trail_verifies()


@pytest.mark.parametrize(("outcome", "note"), [("closed", "why"), ("", "why"), ("no_action", "  ")])
def test_a_resolution_needs_a_known_outcome_and_a_note(clock, officer, outcome, note):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    before = snapshot(case)

    with pytest.raises(InvalidCase):
        cases.resolve(case=case, outcome=outcome, note=note, acting_user=officer)

    assert snapshot(case) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_case SET status = 'resolved'",  # no outcome
        "UPDATE compliance_case SET outcome = 'no_action'",  # an outcome while open
        "UPDATE compliance_case SET status = 'closed'",
        "UPDATE compliance_case SET period_end = period_start",
    ],
)
def test_the_database_refuses_an_inconsistent_case(clock, officer, statement):
    cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)

    with pytest.raises(DatabaseError, match="check constraint"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert list(Case.objects.values_list("status", "outcome")) == [("open", "")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_opening_cases_with_one_alert_at_once_make_one_case(officer):
    player = funded_player(0)
    shared = an_alert(player)
    mine, theirs = an_alert(player), an_alert(player)
    barrier = threading.Barrier(2)
    outcomes = []

    def open_with(extra):
        try:
            barrier.wait()
            outcomes.append(cases.open_case(alerts=[shared, extra], acting_user=officer).pk)
        except InvalidCase as refusal:
            outcomes.append(refusal.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_with, args=(extra,)) for extra in (mine, theirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [case_id] = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert sorted(outcomes, key=str) == sorted([case_id, "INVALID_CASE"], key=str)
    assert Case.objects.count() == 1
    assert Alert.objects.filter(case_id=case_id).count() == 2
    assert Alert.objects.filter(case__isnull=True).count() == 1
    assert len(trail("case.open")) == 1
    assert_trail_verifies()


# --- the suspicious-activity report ---------------------------------------------------------------


@pytest.fixture
def reported(clock, officer):
    """A player with money movements before, in and after the case's period, and another player
    with one in it; the case opened at START + 1 h over START - 1 h .. START + 1 h."""
    player, other = funded_player(0), funded_player(0)
    clock.move_to(START - 2 * HOUR)
    deposit(player, 50_000)  # before the period
    clock.move_to(START - HOUR)
    inside = [deposit(player, 120_000)]  # at the period's start: included
    deposit(other, 99_000)  # another player's: never
    clock.move_to(START)
    inside.append(bet(player, 2_500))
    alert = an_alert(player, value=120_000, event_ids=(7, 9))
    clock.move_to(START + HOUR)
    case = cases.open_case(alerts=[alert], acting_user=officer, title="Large deposit")
    clock.move_to(START + 2 * HOUR)
    deposit(player, 10_000)  # after the period
    return case, player, alert, inside


def test_the_report_as_csv_has_the_case_its_alerts_and_only_the_periods_transactions(reported, officer):
    case, player, alert, (deposited, staked) = reported

    rows = list(csv.reader(io.StringIO("".join(csv_text(case)))))

    assert rows == [
        ["case_id", "title", "status", "outcome", "resolution_note", "player_id", "player", "brand", "currency",
         "exponent", "period_start", "period_end", "opened_by", "assignee", "created_at", "resolved_at"],
        [str(case.pk), "Large deposit", "open", "", "", str(player.pk), player.user.username, player.brand.code, "EUR",
         "2", "2026-03-02T11:00:00Z", "2026-03-02T13:00:00Z", officer.username, "", "2026-03-02T13:00:00Z", ""],
        [],
        ["alert_id", "rule", "rule_version", "rule_type", "severity", "value", "threshold", "window_start",
         "created_at", "event_ids"],
        [str(alert.pk), "deposit-threshold-24h", "1", "deposit_threshold", "medium", "120000", "100000",
         "2026-03-02T11:00:00Z", "2026-03-02T11:30:00Z", "7 9"],
        [],
        ["transaction_id", "created_at", "kind", "amount", "currency", "exponent", "balance_after", "wallet_version",
         "game_id"],
        [deposited.transaction_id, "2026-03-02T11:00:00Z", "deposit", "120000", "EUR", "2", "170000", "2", ""],
        [staked.transaction_id, "2026-03-02T12:00:00Z", "bet", "-2500", "EUR", "2", "167500", "3", "game-1"],
    ]  # fmt: skip


def csv_text(case: Case) -> list[str]:
    out = io.StringIO()
    csv.writer(out).writerows(selectors.case_report_rows(case.pk))
    return [out.getvalue()]


def test_the_report_as_json_has_the_same_content(reported):
    case, _, alert, (deposited, staked) = reported

    report = selectors.case_report(case.pk)

    assert report["currency"] == {"code": "EUR", "exponent": 2}
    assert report["case"]["case_id"] == case.pk
    assert (report["case"]["period_start"], report["case"]["period_end"]) == (
        "2026-03-02T11:00:00Z", "2026-03-02T13:00:00Z")  # fmt: skip
    assert report["alerts"] == [{
        "alert_id": alert.pk, "rule": "deposit-threshold-24h", "rule_version": 1, "rule_type": "deposit_threshold",
        "severity": "medium", "value": 120_000, "threshold": 100_000, "window_start": "2026-03-02T11:00:00Z",
        "created_at": "2026-03-02T11:30:00Z", "event_ids": [7, 9],
    }]  # fmt: skip
    assert [(t["transaction_id"], t["kind"], t["amount"], t["balance_after"], t["wallet_version"])
            for t in report["transactions"]] == [(deposited.transaction_id, "deposit", 120_000, 170_000, 2),
                                                 (staked.transaction_id, "bet", -2_500, 167_500, 3)]  # fmt: skip
    assert set(report) == {"case", "currency", "alerts", "transactions"}
    json.dumps(report)  # JSON-ready as it is


def test_the_streamed_json_is_the_report_even_without_transactions(clock, officer):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)

    text = "".join(selectors.case_report_json(case.pk))

    assert text == json.dumps(selectors.case_report(case.pk))
    assert json.loads(text)["transactions"] == []


# --- the back office ------------------------------------------------------------------------------


def logged_in(client, role: StaffRole):
    client.user = make_staff(role)
    client.force_login(client.user)
    return client


@pytest.mark.parametrize("role", [StaffRole.COMPLIANCE, StaffRole.ADMIN])
def test_staff_open_a_case_from_the_alert_list_assign_it_comment_attach_and_resolve_it(client, role):
    staff = logged_in(client, role).user
    player = funded_player(0)
    alerts = [an_alert(player), an_alert(player)]

    response = client.post("/backoffice/compliance/alert/", {"action": "open_case",
                           "_selected_action": [a.pk for a in alerts]})  # fmt: skip

    case = Case.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/backoffice/compliance/case/{case.pk}/change/")
    assert Alert.objects.filter(case=case).count() == 2
    page = client.get(f"/backoffice/compliance/case/{case.pk}/change/")
    assert page.status_code == 200
    assert f"/backoffice/compliance/case/{case.pk}/report.csv" in page.content.decode()

    client.post("/backoffice/compliance/case/", {"action": "assign_to_me", "_selected_action": [case.pk]})
    response = client.post(f"/backoffice/compliance/case/{case.pk}/change/", {
        "comment": "asked for source of funds",
        "attachment": SimpleUploadedFile("sof.txt", b"payslip", content_type="text/plain"),
        "alerts-TOTAL_FORMS": 2, "alerts-INITIAL_FORMS": 2, "comments-TOTAL_FORMS": 0, "comments-INITIAL_FORMS": 0,
        "attachments-TOTAL_FORMS": 0, "attachments-INITIAL_FORMS": 0,
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post("/backoffice/compliance/case/", {"action": "resolve", "_selected_action": [case.pk],
                "outcome": "no_action", "note": "salary explained it"})  # fmt: skip

    case.refresh_from_db()
    assert (case.assignee, case.status, case.outcome, case.resolution_note) == (
        staff, "resolved", "no_action", "salary explained it")  # fmt: skip
    assert list(CaseComment.objects.filter(case=case).values_list("text", flat=True)) == ["asked for source of funds"]
    assert CaseAttachment.objects.get(case=case).name == "sof.txt"
    assert [r.action for r in StaffAction.objects.filter(target_type="compliance.case").order_by("pk")] == [
        "case.open", "case.assign", "case.comment", "case.attach", "case.resolve"]  # fmt: skip
    assert set(StaffAction.objects.filter(target_type="compliance.case").values_list("actor", flat=True)) == {staff.pk}
    assert_trail_verifies()

    attachment = CaseAttachment.objects.get(case=case)
    download = client.get(f"/backoffice/compliance/case/{case.pk}/attachment/{attachment.pk}/")
    assert (download.status_code, b"".join(download.streaming_content)) == (200, b"payslip")


def test_a_refused_admin_action_says_why_and_changes_nothing(client):
    logged_in(client, StaffRole.COMPLIANCE)
    alerts = [an_alert(funded_player(0)), an_alert(funded_player(0))]

    response = client.post("/backoffice/compliance/alert/", {"action": "open_case",
                           "_selected_action": [a.pk for a in alerts]}, follow=True)  # fmt: skip

    assert "INVALID_CASE" in response.content.decode()
    assert Case.objects.exists() is False
    assert StaffAction.objects.filter(target_type="compliance.case").exists() is False


def test_the_report_downloads_as_csv_and_json(client, reported):
    case, *_ = reported
    logged_in(client, StaffRole.COMPLIANCE)

    as_csv = client.get(f"/backoffice/compliance/case/{case.pk}/report.csv")
    as_json = client.get(f"/backoffice/compliance/case/{case.pk}/report.json")

    assert (as_csv.status_code, as_csv["Content-Type"]) == (200, "text/csv")
    assert as_csv["Content-Disposition"] == f'attachment; filename="case-{case.pk}-report.csv"'
    assert b"".join(as_csv.streaming_content).decode() == "".join(csv_text(case))
    assert (as_json.status_code, as_json["Content-Type"]) == (200, "application/json")
    assert b"".join(as_json.streaming_content).decode() == json.dumps(selectors.case_report(case.pk))
    assert client.get(f"/backoffice/compliance/case/{case.pk}/report.xml").status_code == 404
    assert client.get("/backoffice/compliance/case/999999/report.csv").status_code == 404


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_support_and_finance_see_no_case_and_cannot_open_one(client, role, officer):
    case = cases.open_case(alerts=[an_alert(funded_player(0))], acting_user=officer)
    spare = an_alert(funded_player(0))
    attachment = cases.attach(case=case, file=SimpleUploadedFile("a.txt", b"a", content_type="text/plain"),
                              acting_user=officer)  # fmt: skip
    logged_in(client, role)

    for page in ("", f"{case.pk}/change/", f"{case.pk}/report.csv", f"{case.pk}/report.json",
                 f"{case.pk}/attachment/{attachment.pk}/"):  # fmt: skip
        assert client.get(f"/backoffice/compliance/case/{page}").status_code == 403, page
    client.post("/backoffice/compliance/alert/", {"action": "open_case", "_selected_action": [spare.pk]})
    assert Case.objects.count() == 1
