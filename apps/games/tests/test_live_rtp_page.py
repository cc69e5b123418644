"""The back office's live RTP report: who may see it (compliance, finance, admin; not support), the
table from the ledger with the out-of-band rows highlighted, and its CSV."""

import csv
import io
from decimal import Decimal

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.games import services
from apps.wallet.tests.factories import funded_player
from apps.wallet.tests.test_game_rounds import play

pytestmark = pytest.mark.django_db

PAGE = "/backoffice/games/game/live-rtp/"
CSV = "/backoffice/games/game/live-rtp.csv"


def logged_in(client, role: StaffRole):
    client.force_login(make_staff(role))
    return client


@pytest.fixture
def rounds():
    """acme's `fair` (declared 96 %, sigma 0.1) and `rigged` (declared 96 %, pays 120 %), and `unlisted`,
    not monitored: 50 rounds of 100 each."""
    acme = services.save_provider(code="acme", secret="s" * 24)
    for code in ("fair", "rigged"):
        services.save_game(provider=acme, code=code, name=code, game_type="slots", declared_rtp=Decimal("0.96"),
                           return_sigma=Decimal("0.1"))  # fmt: skip
    player = funded_player(10_000_000)
    for n in range(50):
        play(player, "provider:acme", f"f{n}", [100], 96 if n % 2 else 100, game="fair")
        play(player, "provider:acme", f"r{n}", [100], 120, game="rigged")
        play(player, "provider:acme", f"u{n}", [100], 50, game="unlisted")


@pytest.mark.parametrize("role", [StaffRole.COMPLIANCE, StaffRole.FINANCE, StaffRole.ADMIN])
def test_compliance_finance_and_admin_see_the_report_and_its_csv(client, role, rounds):
    staff = logged_in(client, role)
    page = staff.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="outside" data-subject="acme/rigged EUR 1"' in html
    assert 'class="" data-subject="acme/fair EUR 1"' in html
    assert "not monitored" in html
    assert "1 row out of band" in html
    assert 'href="/backoffice/games/game/live-rtp/"' in staff.get("/backoffice/games/game/").content.decode()

    answer = staff.get(CSV, {"days": "7"})
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="live-rtp-7d.csv"'
    table = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert table[0][:4] == ["provider", "game", "currency", "stake_band"]
    # sigma 0.1 over 50 equal stakes: 3 x 0.1 / sqrt(50) = 0.042426 either side of 0.96.
    assert table[1:] == [
        ["acme", "fair", "EUR", "100-999", "50", "5000", "4900", "0.980000", "0.9600000000", "0.042426", "in"],
        ["acme", "rigged", "EUR", "100-999", "50", "5000", "6000", "1.200000", "0.9600000000", "0.042426", "out"],
        ["acme", "unlisted", "EUR", "100-999", "50", "5000", "2500", "0.500000", "", "", ""],
    ]


def test_support_may_not_see_the_report(client, rounds):
    support = logged_in(client, StaffRole.SUPPORT)
    assert support.get(PAGE).status_code == 403
    assert support.get(CSV).status_code == 403


def test_an_admin_sets_a_game_s_expected_return_on_its_form_and_compliance_may_not(client):
    acme = services.save_provider(code="acme", secret="s" * 24)
    game = services.save_game(provider=acme, code="wheel", name="Wheel", game_type="table")
    form = {"provider": acme.pk, "code": "wheel", "name": "Wheel", "game_type": "table", "enabled": "on",
            "declared_rtp": "0.9729729730", "return_sigma": "5.8378378378"}  # fmt: skip
    url = f"/backoffice/games/game/{game.pk}/change/"

    assert logged_in(client, StaffRole.COMPLIANCE).post(url, form).status_code == 403
    game.refresh_from_db()
    assert game.declared_rtp is None

    assert logged_in(client, StaffRole.ADMIN).post(url, form).status_code == 302
    game.refresh_from_db()
    assert (game.declared_rtp, game.return_sigma) == (Decimal("0.9729729730"), Decimal("5.8378378378"))
    refused = client.post(url, {**form, "return_sigma": "0"})
    assert refused.status_code == 200  # the form again, with the constraint's message
    game.refresh_from_db()
    assert game.return_sigma == Decimal("5.8378378378")
