"""The back office's sportsbook pages (read-only, the margin beside each market) and the
`create_feed` command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.sportsbook.models import Feed, Market
from apps.sportsbook.tests.factories import a_feed, event, market, post_batch

pytestmark = pytest.mark.django_db


def test_create_feed_prints_its_code_and_a_second_run_changes_the_secret():
    out = io.StringIO()
    call_command("create_feed", "worldcup", "--secret", "first-secret", stdout=out)
    call_command("create_feed", "worldcup", "--secret", "second-secret", stdout=out)

    assert out.getvalue() == "worldcup\nworldcup\n"
    assert list(Feed.objects.values_list("code", "secret", "last_seq")) == [("worldcup", "second-secret", 0)]


@pytest.mark.parametrize(("code", "secret"), [("world cup", "s"), ("worldcup", "")])
def test_create_feed_refuses_a_code_that_is_not_a_slug_or_an_empty_secret(code, secret):
    with pytest.raises(CommandError):
        call_command("create_feed", code, "--secret", secret, stdout=io.StringIO())

    assert not Feed.objects.exists()


@pytest.fixture
def admin_client(client):
    client.force_login(make_staff(StaffRole.ADMIN))
    return client


@pytest.fixture
def two_markets():
    a_feed()
    post_batch(event(1), market(2), market(3, market_id="mk-2", prices=("1.90", "1.90")))
    return list(Market.objects.order_by("pk"))


def test_the_market_list_shows_each_markets_margin(admin_client, two_markets):
    response = admin_client.get("/backoffice/sportsbook/market/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "5.17 %" in page  # 1/3.10 + 1/3.20 + 1/2.40 - 1 = 77/1488
    assert "5.26 %" in page  # 2/1.90 - 1 = 1/19


def test_a_market_page_shows_its_prices_in_every_format_and_changes_nothing(admin_client, two_markets):
    response = admin_client.get(f"/backoffice/sportsbook/market/{two_markets[0].pk}/change/")

    assert response.status_code == 200
    assert response.context_data["has_change_permission"] is False
    page = response.content.decode()
    assert "5.17 %" in page
    assert "21/10" in page
    assert "+210" in page
    assert "7/5" in page
    assert "+140" in page


def test_the_feed_page_never_shows_the_secret(admin_client):
    feed = a_feed()

    response = admin_client.get(f"/backoffice/sportsbook/feed/{feed.pk}/change/")

    assert response.status_code == 200
    assert feed.secret not in response.content.decode()
