"""The player 360 page: each section shows the data made in the test through the owning app's
services, each only to roles that may view its model; staff notes are added through accounts'
service and recorded in the staff trail; transactions come a slice at a time by keyset."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import services as accounts
from apps.accounts.choices import StaffRole
from apps.accounts.models import PlayerLogin, PlayerNote
from apps.accounts.tests.factories import make_staff
from apps.bonuses.tests.factories import bonus_of, campaign
from apps.compliance import cases
from apps.compliance import services as compliance
from apps.compliance.models import StaffAction
from apps.compliance.tests.test_cases import an_alert
from apps.payments.tests.factories import a_provider, request_withdrawal, start_deposit, verified_player
from apps.wallet import selectors as wallet
from apps.wallet.tests.factories import bet

pytestmark = pytest.mark.django_db

SECTION_IDS = ("kyc-documents", "balances", "limits", "exclusions", "transactions", "deposits", "withdrawals",
               "bonuses", "alerts", "cases", "notes", "logins")  # fmt: skip
# What each role sees, by the permissions of accounts/roles.py: support reads no alerts or cases,
# finance nothing of player protection, notes or logins, neither support nor finance KYC documents;
# compliance everything (it reads deposits and withdrawals for AML reviews).
EXPECTED = {
    StaffRole.SUPPORT: {"balances", "limits", "exclusions", "transactions", "deposits", "withdrawals", "bonuses",
                        "notes", "logins"},
    StaffRole.COMPLIANCE: set(SECTION_IDS),
    StaffRole.FINANCE: {"balances", "transactions", "deposits", "withdrawals", "bonuses"},
    StaffRole.ADMIN: set(SECTION_IDS),
}  # fmt: skip


@pytest.fixture
def player():
    """A player with something in every section, each made through the owning app's services."""
    a_provider()
    player = verified_player(cash=20_000)
    bet(player, 1_234)
    start_deposit(player, 5_000)
    request_withdrawal(player, 3_000)
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=40_000)
    compliance.set_limit(player=player, kind="deposit", period="24h", amount=90_000)  # an increase: pending
    compliance.start_time_out(player=player, hours=24)
    officer = make_staff(StaffRole.COMPLIANCE, username="officer")
    alert = an_alert(player)
    cases.open_case(alerts=[alert], acting_user=officer, title="Velocity review")
    bonus_of(player, campaign("SPRING"), amount=777)
    PlayerLogin.objects.create(player=player, at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), address="203.0.113.7",
                               user_agent="Firefox")  # fmt: skip
    accounts.add_player_note(player_id=player.pk, author=officer, text="Called about a late withdrawal.")
    return player


def page_of(client, role, player, **params):
    client.force_login(make_staff(role))
    response = client.get(f"/backoffice/players/{player.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


def shown_sections(html: str) -> set[str]:
    return {section for section in SECTION_IDS if f'<section id="{section}"' in html}


def section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_the_page_shows_each_sections_data(client, player):
    html = page_of(client, StaffRole.ADMIN, player)

    profile = section(html, "profile")
    assert player.user.username in profile
    assert "acme" in profile
    assert '<dd id="player-kyc">Verified</dd>' in profile
    balances = section(html, "balances")
    assert 'data-account="cash"><td>cash</td><td>157.66 EUR' in balances  # 200.00 - 12.34 bet - 30.00 withdrawn
    assert 'data-account="pending_withdrawal"><td>pending_withdrawal</td><td>30.00 EUR' in balances
    assert "-12.34 EUR" in section(html, "transactions")
    limits = section(html, "limits")
    assert "400.00 EUR" in limits  # in force
    assert "900.00 EUR" in limits  # the pending increase
    assert "Time-out" in section(html, "exclusions")
    assert "50.00 EUR" in section(html, "deposits")
    assert "30.00 EUR" in section(html, "withdrawals")
    bonuses = section(html, "bonuses")
    assert "7.77 EUR" in bonuses
    assert "SPRING" in bonuses
    assert "deposit-threshold-24h" in section(html, "alerts")
    assert "Velocity review" in section(html, "cases")
    notes = section(html, "notes")
    assert "Called about a late withdrawal." in notes
    assert "officer" in notes
    assert "203.0.113.7" in section(html, "logins")
    assert f'data-player-id="{player.pk}"' in section(html, "live-strip")
    assert "js/backoffice-player-strip.js" in html


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_only_the_sections_its_permissions_allow(client, player, role):
    html = page_of(client, role, player)

    assert shown_sections(html) == EXPECTED[role]
    assert ('id="add-note"' in html) == (role in (StaffRole.SUPPORT, StaffRole.COMPLIANCE, StaffRole.ADMIN))
    if role == StaffRole.SUPPORT:
        assert "deposit-threshold-24h" not in html
        assert "Velocity review" not in html


def test_the_player_list_and_change_page_link_to_the_page(client, player):
    client.force_login(make_staff(StaffRole.SUPPORT))
    link = f'href="/backoffice/players/{player.pk}/"'

    assert link in client.get("/backoffice/accounts/player/").content.decode()
    assert link in client.get(f"/backoffice/accounts/player/{player.pk}/change/").content.decode()


def test_staff_without_view_player_are_refused_and_an_unknown_player_is_404(client, player):
    staff = make_staff(StaffRole.SUPPORT)
    client.force_login(staff)
    assert client.get("/backoffice/players/999999999/").status_code == 404
    staff.groups.clear()
    assert client.get(f"/backoffice/players/{player.pk}/").status_code == 403


def test_a_note_is_added_through_the_service_and_recorded_in_the_staff_trail(client, player):
    staff = make_staff(StaffRole.SUPPORT)
    client.force_login(staff)

    response = client.post(f"/backoffice/players/{player.pk}/", {"text": "  Asked for a statement.  "})

    assert response.status_code == 302
    note = PlayerNote.objects.filter(player=player).latest("pk")
    assert (note.author, note.text) == (staff, "Asked for a statement.")
    action = StaffAction.objects.filter(action="player.note").latest("pk")
    assert (action.actor, action.target_type, action.target_id) == (staff, "accounts.playernote", str(note.pk))
    assert action.after == {"player_id": player.pk, "text": "Asked for a statement."}
    assert "Asked for a statement." in client.get(response["Location"]).content.decode()


def test_an_empty_note_is_refused_with_its_code_and_nothing_written(client, player):
    client.force_login(make_staff(StaffRole.COMPLIANCE))
    before = PlayerNote.objects.count()

    response = client.post(f"/backoffice/players/{player.pk}/", {"text": "   "}, follow=True)

    assert "INVALID_NOTE" in response.content.decode()
    assert PlayerNote.objects.count() == before


def test_finance_may_not_add_notes(client, player):
    client.force_login(make_staff(StaffRole.FINANCE))
    assert client.post(f"/backoffice/players/{player.pk}/", {"text": "hello"}).status_code == 403


def test_notes_are_append_only_in_the_database(player):
    from django.db import IntegrityError, transaction

    note = PlayerNote.objects.filter(player=player).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayerNote.objects.filter(pk=note.pk).update(text="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayerNote.objects.filter(pk=note.pk).delete()


def test_transactions_come_a_slice_at_a_time_by_keyset_without_a_count(client):
    player = verified_player(cash=20_000)
    for _ in range(31):
        bet(player, 10)
    versions = []
    cursor = None
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = wallet.list_recent_transactions(player.pk, cursor=cursor)
        assert len(queries) == 1
        assert "COUNT(" not in queries[0]["sql"].upper()
        assert "OFFSET" not in queries[0]["sql"]
        versions += [row.version for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert versions == sorted(versions, reverse=True)
    assert len(versions) == len(set(versions))
    assert len(versions) == 1 + 31  # the funding and the bets

    # A deep page is a range on the (player, wallet_version) index, not a scan from the newest.
    with connection.cursor() as cursor_, CaptureQueriesContext(connection) as queries:
        cursor_.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would be scanned anyway
        wallet.list_recent_transactions(player.pk, cursor=cursor)
        cursor_.execute("EXPLAIN " + queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor_.fetchall())
    assert "transaction_player_version_idx" in plan
    assert re.search(r"Index Cond: \(\(player_id = \d+\) AND \(wallet_version <= \d+\)\)", plan), plan

    html = page_of(client, StaffRole.SUPPORT, player)
    older = re.search(r'id="older-transactions" href="\?before=([^"#]+)#transactions"', html).group(1)
    assert html.count('<tr data-transaction-id="') == wallet.STAFF_PAGE_SIZE
    older_html = page_of(client, StaffRole.SUPPORT, player, before=older)
    assert older_html.count('<tr data-transaction-id="') == len(versions) - wallet.STAFF_PAGE_SIZE


def test_compliance_freezes_the_account_from_the_page_with_a_reason_through_the_service(client):
    player = verified_player(cash=1_000)
    officer = make_staff(StaffRole.COMPLIANCE)
    client.force_login(officer)
    assert 'id="standing"' in client.get(f"/backoffice/players/{player.pk}/").content.decode()

    refused = client.post(f"/backoffice/players/{player.pk}/", {"standing": "freeze", "reason": " "}, follow=True)
    assert "INVALID_STANDING_CHANGE" in refused.content.decode()
    response = client.post(f"/backoffice/players/{player.pk}/", {"standing": "freeze", "reason": "chargeback"})

    assert response.status_code == 302
    player.refresh_from_db()
    assert player.status == "frozen"
    action = StaffAction.objects.filter(action="account.freeze").latest("pk")
    assert (action.actor, action.reason, action.target_id) == (officer, "chargeback", str(player.pk))


def test_support_may_not_change_the_standing(client):
    player = verified_player(cash=1_000)
    client.force_login(make_staff(StaffRole.SUPPORT))
    assert 'id="standing"' not in client.get(f"/backoffice/players/{player.pk}/").content.decode()
    assert client.post(f"/backoffice/players/{player.pk}/", {"standing": "lock", "reason": "x"}).status_code == 403
