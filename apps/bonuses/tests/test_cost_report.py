"""The bonus cost report: per campaign and currency, what its bonuses moved in the ledger (granted,
converted, expired, forfeited, cancelled), read through the wallet's selector by the bonuses'
external ids; the same numbers as the ledger's own sums after each kind of end happened through
the real services. And its back-office page and CSV."""

import csv
import datetime as dt
import io

import pytest
from django.db.models import Sum

from apps.accounts.choices import StaffRole
from apps.accounts.models import User
from apps.accounts.tests.factories import make_staff
from apps.bonuses import endings, selectors, services
from apps.bonuses.choices import BonusStatus
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign, fund_bonus
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Entry
from apps.wallet.tests.factories import bet, funded_player, win

pytestmark = pytest.mark.django_db

STAFF_FIXED = {"kind": "fixed", "trigger": "staff_grant", "requires_opt_in": False, "one_per_player": False}


def ledger_bonus_moves(kind: str) -> int:
    """What the ledger's transactions of `kind` with the bonuses' origin did to the players' bonus
    accounts (summed here from the wallet's rows, not through the report's path)."""
    entries = Entry.objects.filter(
        account__kind=AccountKind.BONUS, transaction__kind=kind, transaction__origin=selectors.LEDGER_ORIGIN
    )
    return entries.aggregate(total=Sum("amount", default=0))["total"]


def pool_balance() -> int:
    entries = Entry.objects.filter(account__kind=AccountKind.BONUS_POOL, account__currency_id="EUR")
    return entries.aggregate(total=Sum("amount", default=0))["total"]


def staff_bonus(player, code: str, admin, grant_id: str) -> Bonus:
    return services.staff_grant(player, code, acting_user=admin, reason="report test", grant_id=grant_id)


def test_the_report_equals_the_ledger_after_every_kind_of_end(clock):
    admin = make_staff(StaffRole.ADMIN)
    campaign("KEEPER", **STAFF_FIXED, amount=500, wagering_multiple=1)
    campaign("SHORT", **STAFF_FIXED, amount=700, wagering_multiple=5, expires_after_days=1)
    campaign("UNUSED", **STAFF_FIXED, amount=100)
    pool_before = pool_balance()

    # KEEPER: converted by the stake that meets its wagering: 500 granted, a bet of 200 paid from
    # bonus, a win of 400 on it (bonus money), a bet of 300 meets the 500 required: 400 converts
    converting = funded_player(0)
    staff_bonus(converting, "KEEPER", admin, "k1")
    bet(converting, 200, round_id="r1")
    win(converting, 400, round_id="r1")
    bet(converting, 300, round_id="r2")
    # forfeited: 500 granted, all of it back to the pool
    forfeited = staff_bonus(funded_player(0), "KEEPER", admin, "k2")
    endings.end_bonus(forfeited, BonusStatus.FORFEITED)
    # still active: 250 granted (the campaign's amount changed since)
    services.save_campaign(code="KEEPER", acting_user=admin, reason="smaller", amount=250)
    staff_bonus(funded_player(0), "KEEPER", admin, "k3")

    # SHORT: one expires after its day (700 back to the pool), one is cancelled (150 back)
    staff_bonus(funded_player(0), "SHORT", admin, "s1")
    services.save_campaign(code="SHORT", acting_user=admin, reason="smaller", amount=150)
    cancelled = staff_bonus(funded_player(0), "SHORT", admin, "s2")
    services.cancel_bonus(cancelled, acting_user=admin, reason="granted by mistake")
    clock.shift(dt.timedelta(days=1, seconds=1))
    assert services.expire_due_bonuses() == 1

    # bonus money that no campaign granted (another origin) is not any campaign's cost
    fund_bonus(funded_player(0), 999)

    statuses = sorted(Bonus.objects.values_list("campaign__code", "status"))
    assert statuses == [("KEEPER", "active"), ("KEEPER", "converted"), ("KEEPER", "forfeited"),
                        ("SHORT", "cancelled"), ("SHORT", "expired")]  # fmt: skip
    report = {(row.code, row.currency): row for row in selectors.campaign_costs()}

    keeper, short, unused = report["KEEPER", "EUR"], report["SHORT", "EUR"], report["UNUSED", "EUR"]
    assert (keeper.bonuses, keeper.granted, keeper.converted, keeper.expired, keeper.forfeited, keeper.cancelled) == (
        3,
        1_250,
        400,
        0,
        500,
        0,
    )
    assert (short.bonuses, short.granted, short.converted, short.expired, short.forfeited, short.cancelled) == (
        2,
        850,
        0,
        700,
        0,
        150,
    )
    assert unused.as_row() == ["UNUSED", "UNUSED campaign", "EUR", 0, 0, 0, 0, 0, 0]
    assert len(report) == 3
    # the ledger's own sums, kind by kind, over every campaign: the grants' credits on the bonus
    # accounts and each end's debit
    rows = report.values()
    assert sum(r.granted for r in rows) == ledger_bonus_moves(TransactionKind.BONUS) == 2_100
    for column, kind in selectors.COST_COLUMNS[1:]:
        assert sum(getattr(r, column) for r in rows) == -ledger_bonus_moves(kind)
    # and the pool: it paid every grant and got back what expired, was forfeited or cancelled
    returned = sum(r.expired + r.forfeited + r.cancelled for r in rows)
    assert pool_balance() - pool_before == -(2_100 + 999) + returned
    # the report's origin is the one the grants and the ends are written with
    assert services.GRANT_ORIGIN == endings.END_ORIGIN == selectors.LEDGER_ORIGIN


def test_the_report_is_a_page_and_a_csv_for_staff_who_read_campaigns(client, clock):
    admin = make_staff(StaffRole.ADMIN)
    campaign("GOODWILL", **STAFF_FIXED, amount=1_250)
    staff_bonus(funded_player(0), "GOODWILL", admin, "g1")

    client.force_login(make_staff(StaffRole.SUPPORT))
    changelist = client.get("/backoffice/bonuses/campaign/")
    page = client.get("/backoffice/bonuses/campaign/cost/")
    download = client.get("/backoffice/bonuses/campaign/cost.csv")

    assert 'href="/backoffice/bonuses/campaign/cost/"' in changelist.content.decode()
    html = page.content.decode()
    assert page.status_code == 200
    assert '<th scope="row">GOODWILL</th>' in html
    assert "<td>1250 (12.50)</td>" in html
    assert 'href="/backoffice/bonuses/campaign/cost.csv"' in html
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows == [selectors.COST_HEADER, ["GOODWILL", "GOODWILL campaign", "EUR", "1", "1250", "0", "0", "0", "0"]]


def test_the_report_needs_the_permission_to_read_campaigns(client):
    client.force_login(User.objects.create_user(username="no-role", password="x", is_staff=True))
    assert client.get("/backoffice/bonuses/campaign/cost/").status_code == 403
    assert client.get("/backoffice/bonuses/campaign/cost.csv").status_code == 403


def test_finance_reads_the_report(client):
    client.force_login(make_staff(StaffRole.FINANCE))
    assert client.get("/backoffice/bonuses/campaign/cost/").status_code == 200
    assert client.get("/backoffice/bonuses/campaign/cost.csv").status_code == 200
