"""The permission matrix, tested exhaustively: a user of each role (made here, in the real group)
opens every page of the back office, object pages on real objects, and gets the page exactly
where the matrix says so and the admin's refusal elsewhere; each role posts every action on a
fresh object, and the action's effect (its staff action, and the object changed) is there exactly
where the matrix says so. docs/permissions.md is the matrix the code computes, and a custom page
that declares no permission fails the build of the matrix.

The pages are the matrix's own (apps/backoffice/permission_matrix.py finds them), so a page added
later is opened here without a change to this file; one whose URL takes an argument this file
cannot fill, or whose model has no object here, fails and says what to add. The objects are made
once per module (in a transaction rolled back at its end); each test runs in a savepoint of it.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import path, reverse
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.choices import StaffRole
from apps.accounts.models import Brand, User
from apps.accounts.roles import ALL, ROLE_PERMISSIONS
from apps.accounts.tests.factories import make_brand, make_player, make_staff
from apps.backoffice import permission_matrix
from apps.backoffice.permission_matrix import EDIT, NO, READ, YES
from apps.backoffice.sites import BackOfficeSite
from apps.bonuses import services as bonuses
from apps.bonuses.tests.factories import campaign
from apps.common.admin import staff_page
from apps.compliance import cases
from apps.compliance import services as compliance
from apps.compliance.models import Alert, IdentityMark, RuleFiring, RuleVersion, StaffAction
from apps.games.tests.factories import game, provider
from apps.payments.choices import EventType, WithdrawalStatus
from apps.payments.models import BrandPaymentSettings
from apps.payments.tests.factories import (
    a_provider,
    event,
    post_webhook,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from apps.sportsbook import breakers as sportsbook_breakers
from apps.sportsbook import services as sportsbook
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.models import Breaker, BreakerRequest, Market
from apps.sportsbook.tests.factories import a_feed as sportsbook_feed
from apps.sportsbook.tests.factories import event as feed_event
from apps.sportsbook.tests.factories import market as feed_market
from apps.sportsbook.tests.factories import post_batch as post_feed_batch
from apps.wallet import services as wallet

pytestmark = pytest.mark.django_db

ROLES = list(StaffRole)
try:
    PAGES, UNDECLARED = permission_matrix.build(), ""
except permission_matrix.UndeclaredPage as undeclared:
    PAGES, UNDECLARED = [], str(undeclared)
OPENED = [page for page in PAGES if not page.action]
ACTIONS = [page for page in PAGES if page.action]
_numbers = itertools.count(1)


def each_role(pages):
    return [pytest.param(page, role, id=f"{page.key}-{role.value}") for page in pages for role in ROLES]


# --- the objects the pages are opened on --------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One of each object the back office shows, made through the services, and a logged-in
    client per role; rolled back when the module ends."""
    module_settings = override_settings(
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock(), module_settings:
        # A test case's atomic blocks: the services' durable transactions nest in them, as in a test.
        atomics = TestCase._enter_atomics()
        try:
            yield _build_world()
        finally:
            TestCase._rollback_atomics(atomics)


def _build_world() -> SimpleNamespace:
    staff = {role: make_staff(role) for role in ROLES}
    officer = staff[StaffRole.COMPLIANCE]
    clients = {}
    for role, user in staff.items():
        clients[role] = Client()
        clients[role].force_login(user)

    a_provider()
    player = verified_player(cash=50_000)
    # Every withdrawal waits for a person: the queue has one.
    BrandPaymentSettings.objects.update_or_create(brand=player.brand, defaults={"auto_approve_up_to": 0})
    deposit = start_deposit(player, 5_000)
    assert post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000)).status_code == 200
    withdrawal = request_withdrawal(player, 1_000)
    assert withdrawal.status == WithdrawalStatus.AWAITING_APPROVAL
    accounts.record_login(player=player, request=RequestFactory().get("/", REMOTE_ADDR="203.0.113.9"))
    now = timezone.now()
    IdentityMark.objects.create(kind="address", value="203.0.113.0/24", player=player, first_seen=now, last_seen=now)

    game(of=provider())
    gift = campaign("MATRIXGIFT", kind="fixed", trigger="staff_grant", requires_opt_in=False, one_per_player=False)
    campaign("MATRIXOPTIN")
    bonuses.opt_in(player, "MATRIXOPTIN")
    bonuses.grant(player, gift, trigger_ref="matrix-world")

    compliance.set_limit(player=player, kind="deposit", period="24h", amount=100_000, acting_user=officer,
                         reason="matrix")  # fmt: skip
    compliance.start_time_out(player=make_player(), hours=24, acting_user=officer, reason="matrix")
    case = cases.open_case(alerts=[an_alert(player)], acting_user=officer)
    attachment = cases.attach(case=case, file=SimpleUploadedFile("note.txt", b"evidence", content_type="text/plain"),
                              acting_user=officer)  # fmt: skip
    # A staff member with an authenticator and recovery codes (the devices' read-only pages).
    accounts.enrol_staff_otp(user=make_staff(StaffRole.SUPPORT))
    # An adjustment above the threshold waits for a second person: the queue has one.
    wallet.request_adjustment(player_id=player.pk, amount=1_000_000, reason_code="goodwill", reason="matrix",
                              acting_user=make_staff(StaffRole.FINANCE), idempotency_key="matrix-world")  # fmt: skip
    document = accounts.upload_kyc_document(
        player_id=player.pk, kind="passport", acting_user=officer,
        file=SimpleUploadedFile("passport.pdf", b"%PDF-1.4 matrix", content_type="application/pdf"),
    )  # fmt: skip
    # A feed with an event, its market and prices (the sportsbook's read-only pages).
    sportsbook_feed()
    assert post_feed_batch(feed_event(1), feed_market(2)).status_code == 200
    # A circuit breaker's change awaiting a second person (the breakers' and the requests' pages).
    sportsbook_breakers.request_change(breaker="cached_prices", turn_on=True, reason="matrix",
                                       acting_user=make_staff(StaffRole.FINANCE))  # fmt: skip
    # A player's bet (its exposure rows with it) and a stake factor.
    sportsbook.place_bet(player=player, idempotency_key="matrix", stake=100, currency=player.currency_id,
                         legs=[LegRequest("mk-1-home", Decimal("3.10"), 1)], accept_price_changes="none")  # fmt: skip
    sportsbook.set_stake_factor(
        player=player, factor=Decimal("0.50"), reason="matrix", acting_user=staff[StaffRole.ADMIN]
    )
    return SimpleNamespace(staff=staff, clients=clients, player=player, gift=gift, case=case, attachment=attachment,
                           document=document)  # fmt: skip


def an_alert(player) -> Alert:
    """An alert of a seeded rule's version, as the engine writes one (the engine is compliance's to
    test); each in its own firing window."""
    version = RuleVersion.objects.order_by("pk").first()
    window_start = timezone.now() - dt.timedelta(hours=1, minutes=next(_numbers))
    firing = RuleFiring.objects.create(
        rule_version=version, player=player, window_start=window_start, value=200_000, threshold=100_000,
        event_id=1, actions=["alert"], created_at=window_start,
    )  # fmt: skip
    return Alert.objects.create(
        firing=firing, rule_version=version, player=player, severity="medium", event_ids=[1],
        value=200_000, threshold=100_000, created_at=window_start,
    )  # fmt: skip


# What fills each argument of a page's URL; a page with another argument fails until added here.
FILL = {
    "player_id": lambda page, w: w.player.pk,
    "case_id": lambda page, w: w.case.pk,
    "attachment_id": lambda page, w: w.attachment.pk,
    "document_id": lambda page, w: w.document.pk,
    "fmt": lambda page, w: "csv",
    "object_id": lambda page, w: an_object(page).pk,
    "id": lambda page, w: an_object(page).pk,
}


def an_object(page):
    """The first object the page's list shows (what its admin's queryset holds)."""
    request = permission_matrix.role_request(StaffRole.ADMIN)
    found = page.model_admin.get_queryset(request).order_by("pk").first()
    assert found is not None, f"no {page.area} in this module's objects: make one in _build_world"
    return found


def url_of(page, world) -> str:
    kwargs = dict(page.kwargs)
    for name in page.fill:
        assert name in FILL, f"{page.path}: teach FILL how to fill the URL's {name!r} with a real object"
        kwargs[name] = FILL[name](page, world)
    return reverse(f"admin:{page.url_name}", kwargs=kwargs)


# --- pages --------------------------------------------------------------------------------------


def test_every_page_of_the_back_office_declares_what_it_needs():
    assert UNDECLARED == ""
    assert OPENED
    assert ACTIONS


@pytest.mark.parametrize(("page", "role"), each_role(OPENED))
def test_a_role_opens_exactly_the_pages_the_matrix_gives_it(world, page, role):
    verdict = page.verdict(role)

    url = url_of(page, world)
    response = world.clients[role].get(url)

    if verdict == NO:
        assert response.status_code == page.refused
        return
    if response.status_code == 405 and "GET" not in response.get("Allow", ""):
        # A page that only takes a form's POST: it let the role through to its form's validation.
        response = world.clients[role].post(url, {})
        assert response.status_code in (200, 302, 400), response.status_code
        return
    assert response.status_code == 200
    if verdict in (EDIT, READ):
        assert response.context_data["has_change_permission"] is (verdict == EDIT)


# Pages read by a script answer a refusal in JSON rather than the login page.
JSON_PAGES = {"site:dashboard_json"}


@pytest.mark.parametrize("page", [pytest.param(page, id=page.key) for page in OPENED])
def test_no_page_opens_without_a_staff_login(world, page):
    response = Client().get(url_of(page, world))

    if page.key in JSON_PAGES:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
        return
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- actions ------------------------------------------------------------------------------------


def a_player(w):
    return make_player()


def a_locked_player(w):
    player = make_player()
    return compliance.lock_account_by_staff(player=player, acting_user=w.staff[StaffRole.ADMIN], reason="set-up")


def a_waiting_withdrawal(w):
    withdrawal = request_withdrawal(verified_player(cash=5_000), 1_000)
    assert withdrawal.status == WithdrawalStatus.AWAITING_APPROVAL
    return withdrawal


def an_active_bonus(w):
    return bonuses.grant(make_player(), w.gift, trigger_ref=uuid.uuid4().hex)


def an_open_case(w):
    return cases.open_case(alerts=[an_alert(make_player())], acting_user=w.staff[StaffRole.COMPLIANCE])


def a_pending_adjustment(w):
    return wallet.request_adjustment(
        player_id=w.player.pk, amount=1_000_000, reason_code="goodwill", reason="matrix",
        # Asked by another finance officer: every role's own staff member may be the second pair of eyes.
        acting_user=make_staff(StaffRole.FINANCE), idempotency_key=f"matrix-{next(_numbers)}",
    )  # fmt: skip


def a_pending_breaker_request(w):
    """A request to flip pre_match_only, asked by another finance officer; one pending at a time
    per breaker, so the last one's is rejected first."""
    for waiting in BreakerRequest.objects.filter(breaker="pre_match_only", status="pending"):
        sportsbook_breakers.reject_change(request_id=waiting.pk, acting_user=make_staff(StaffRole.FINANCE),
                                          reason="matrix: make way")  # fmt: skip
    now_on = Breaker.objects.filter(name="pre_match_only", is_on=True).exists()
    return sportsbook_breakers.request_change(breaker="pre_match_only", turn_on=not now_on, reason="matrix",
                                              acting_user=make_staff(StaffRole.FINANCE))  # fmt: skip


def a_throttled_market(w):
    """A market of the world's event that the liability throttle has suspended."""
    number = next(_numbers)
    assert post_feed_batch(feed_market(100 + number, market_id=f"mk-throttled-{number}")).status_code == 200
    market = Market.objects.get(market_id=f"mk-throttled-{number}")
    assert sportsbook.suspend_throttled_market(market_pk=market.pk)
    return market


def a_brand(w):
    return make_brand(code=f"brand{next(_numbers)}", name="Matrix brand")


# A fresh object for each (model, action), or each model's for any of its actions.
TARGETS = {
    ("accounts.player", "reopen_accounts"): a_locked_player,
    "accounts.player": a_player,
    "accounts.user": lambda w: User.objects.create_user(username=f"doomed{next(_numbers)}"),
    "accounts.brand": a_brand,
    "auth.group": lambda w: Group.objects.create(name=f"doomed{next(_numbers)}"),
    "games.game": lambda w: game(of=provider(f"matrix{next(_numbers)}"), code=f"matrix-{next(_numbers)}"),
    "payments.brandpaymentsettings": lambda w: BrandPaymentSettings.objects.create(brand=a_brand(w)),
    "payments.withdrawal": a_waiting_withdrawal,
    "payments.withdrawalawaitingapproval": a_waiting_withdrawal,
    "wallet.adjustmentrequest": a_pending_adjustment,
    "wallet.adjustmentawaitingapproval": a_pending_adjustment,
    "bonuses.bonus": an_active_bonus,
    "compliance.alert": lambda w: an_alert(make_player()),
    "compliance.case": an_open_case,
    "sportsbook.breakerrequest": a_pending_breaker_request,
    "sportsbook.market": a_throttled_market,
}
# What the action forms ask for (a reason, a case's outcome and note, the staff grant's campaign):
# an action that runs has what it needs, so that its effect shows.
FORM = {"reason": "matrix test", "outcome": "no_action", "note": "matrix test", "campaign": "MATRIXGIFT"}


def stored(model, pk) -> dict | None:
    return model._base_manager.filter(pk=pk).values().first()


@pytest.mark.parametrize(("page", "role"), each_role(ACTIONS))
def test_a_role_runs_exactly_the_actions_the_matrix_gives_it(world, page, role):
    model = page.model_admin.model
    make = TARGETS.get((page.area, page.action)) or TARGETS.get(page.area)
    assert make is not None, f"{page.key}: teach TARGETS to make a fresh {page.area} for the action"
    target = make(world)
    user = world.staff[role]
    before, recorded = stored(model, target.pk), StaffAction.objects.filter(actor=user).count()
    body = {"action": page.action, "_selected_action": [target.pk], "index": "0", "select_across": "0",
            "post": "yes", "grant_id": uuid.uuid4().hex, **FORM}  # fmt: skip

    response = world.clients[role].post(reverse(f"admin:{page.url_name}"), body)

    if page.verdict(role) == YES:
        assert response.status_code == 302, [str(m) for m in response.wsgi_request._messages]
        assert StaffAction.objects.filter(actor=user).count() > recorded
        assert stored(model, target.pk) != before
    else:
        # The admin's refusals: the list's 403; an action the form does not offer, "No action
        # selected." and back to the list; or the list again, where no action is offered at all.
        request = permission_matrix.role_request(role)
        if not page.model_admin.has_view_or_change_permission(request):
            assert response.status_code == 403
        elif page.model_admin.get_actions(request):
            assert response.status_code == 302
            assert [str(m) for m in response.wsgi_request._messages][-1] == "No action selected."
        else:
            assert response.status_code == 200
        assert StaffAction.objects.filter(actor=user).count() == recorded
        assert stored(model, target.pk) == before


# --- the matrix itself --------------------------------------------------------------------------


def test_docs_permissions_md_is_the_matrix_of_the_code():
    documented = permission_matrix.documented(permission_matrix.DOCS.read_text(encoding="utf-8"))

    assert documented == permission_matrix.table(PAGES), (
        f"docs/permissions.md is not the code's permission matrix: run {permission_matrix.FIX}"
    )


def test_every_permission_a_role_names_exists():
    """The matrix reads roles.py; the groups get only permissions that exist: a misspelt one would
    make the two differ."""
    existing = {f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label",
                                                                                         "codename")}  # fmt: skip
    named = {name for wanted in ROLE_PERMISSIONS.values() if wanted != ALL for name in wanted}

    assert sorted(named - existing) == []


def test_a_custom_page_without_a_declared_permission_fails_the_matrix():
    class Site(BackOfficeSite):
        def get_urls(self):
            return [path("undeclared/", self.admin_view(lambda request: HttpResponse()), name="undeclared"),
                    *super().get_urls()]  # fmt: skip

    site = Site(name="matrix-test")
    site.register(Brand, admin.ModelAdmin)

    with pytest.raises(permission_matrix.UndeclaredPage, match="undeclared/"):
        permission_matrix.build(site, prefix="/elsewhere/")

    class BrandReport(admin.ModelAdmin):
        def get_urls(self):
            return [path("report/", self.admin_site.admin_view(self.report), name="brand_report"), *super().get_urls()]

        def report(self, request):
            return HttpResponse()

    site = BackOfficeSite(name="matrix-test-2")
    site.register(Brand, BrandReport)

    with pytest.raises(permission_matrix.UndeclaredPage, match="brand/report/"):
        permission_matrix.build(site, prefix="/elsewhere/")

    class UnnamedSite(BackOfficeSite):
        def get_urls(self):
            declared = staff_page("wallet.view_transaction")(lambda request: HttpResponse())
            return [path("unnamed/", self.admin_view(declared)), *super().get_urls()]

    with pytest.raises(permission_matrix.UndeclaredPage, match="unnamed/"):
        permission_matrix.build(UnnamedSite(name="matrix-test-3"), prefix="/elsewhere/")


def test_the_command_prints_the_matrix_and_writes_and_checks_the_docs(tmp_path, monkeypatch):
    printed = io.StringIO()
    call_command("permission_matrix", stdout=printed)
    assert printed.getvalue() == permission_matrix.table(PAGES)

    docs = tmp_path / "permissions.md"
    docs.write_text(f"# Intro\n\n{permission_matrix.BEGIN}\n\n| old |\n{permission_matrix.END}\n\nAfter.\n")
    monkeypatch.setattr(permission_matrix, "DOCS", docs)
    with pytest.raises(CommandError, match="permission_matrix --write"):
        call_command("permission_matrix", "--check")

    call_command("permission_matrix", "--write", stdout=io.StringIO())

    text = docs.read_text()
    assert text.startswith("# Intro\n\n")
    assert text.endswith("\n\nAfter.\n")
    assert permission_matrix.documented(text) == permission_matrix.table(PAGES)
    call_command("permission_matrix", "--check", stdout=io.StringIO())


def test_staff_page_takes_a_full_permission_name_or_a_model_admin_permission():
    for wrong in ("", "view_case", "read", None):
        with pytest.raises(ImproperlyConfigured):
            staff_page(wrong)

    site_view = staff_page("view")(lambda request: HttpResponse())
    with pytest.raises(ImproperlyConfigured, match="ModelAdmin"):
        site_view(permission_matrix.role_request(StaffRole.ADMIN))
