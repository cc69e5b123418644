"""The site's history (`/history/`) page, the cashier's (`/cashier/`) login and player checks, and
the header's balance on every page: who sees what, filters and pages, and never another player's money."""

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.common.idempotency import ExternalRef
from apps.wallet import services as wallet

pytestmark = pytest.mark.django_db


def funded(amount: int, **overrides):
    player = make_player(**overrides)
    wallet.adjust_balance(player_id=player.pk, amount=amount, reason="test funds", acting_user=None)
    return player


def bet(player, amount: int, n: int) -> None:
    wallet.place_bet(player_id=player.pk, currency="EUR", amount=amount,
                     ref=ExternalRef("provider:site", f"tx-{player.pk}-{n}", f"fp-{n}"), round_id=f"r{n}",
                     game_id="slot-1")  # fmt: skip


@pytest.mark.parametrize("path", ["/history/", "/cashier/", "/", "/games/", "/games/1/play/"])
def test_anonymous_is_sent_to_the_login(client, path):
    assert client.get(path)["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", ["/history/", "/cashier/", "/games/", "/games/1/play/"])
def test_staff_gets_the_no_player_page(client, path):
    client.force_login(make_staff(StaffRole.SUPPORT))

    response = client.get(path)

    assert response.status_code == 200
    assert b"No player account" in response.content
    assert b'id="header-balance"' not in response.content


def test_history_shows_own_transactions_newest_first_with_balance_after(client):
    player = funded(10_000)
    bet(player, 250, 1)
    other = funded(4_242)
    client.force_login(player.user)

    page = client.get("/history/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "2 transactions" in html
    assert html.index('data-version="2"') < html.index('data-version="1"')
    assert '<td class="num">-2.50 EUR</td><td class="num">97.50 EUR</td>' in html
    assert "42.42" not in html  # the other player's funding
    assert other.pk != player.pk


def test_history_filters_by_kind_and_paginates(client):
    player = funded(100_000)
    for n in range(30):
        bet(player, 100, n)
    client.force_login(player.user)

    first = client.get("/history/?kind=bet")
    second = client.get("/history/?kind=bet&page=2")

    assert "30 transactions" in first.content.decode()
    assert first.content.count(b"<td>Bet</td>") == 25
    assert b"<td>Adjustment</td>" not in first.content
    assert b'rel="next" href="?kind=bet&amp;page=2"' in first.content
    assert second.content.count(b"<td>Bet</td>") == 5
    assert b"Page 2 of 2" in second.content


def test_history_invalid_filters_are_ignored(client):
    player = funded(1_000)
    client.force_login(player.user)

    page = client.get("/history/?since=not-a-date&kind=nonsense")

    assert page.status_code == 200
    assert b"Some filters were not valid" in page.content


def test_history_date_range_includes_the_last_day(client):
    player = funded(1_000)
    client.force_login(player.user)
    today = player.created_at.date().isoformat()

    assert b"1 transaction<" in client.get(f"/history/?since={today}&until={today}").content
    assert b"0 transactions" in client.get("/history/?until=2000-01-01").content
