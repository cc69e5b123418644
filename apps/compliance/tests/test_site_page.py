"""The site's responsible-gambling page: limits with pending changes, refusals shown, the
self-exclusion's confirmation step, and only the player's own limits."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.accounts.tests.factories import make_player
from apps.compliance import selectors, services
from apps.compliance.models import Exclusion

pytestmark = pytest.mark.django_db
URL = "/responsible-gambling/"


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def player(client):
    player = make_player()
    client.force_login(player.user)
    return player


def post(client: Client, **fields):
    client.get(URL)
    return client.post(URL, {**fields, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_anonymous_is_sent_to_the_login(client):
    assert client.get(URL)["Location"] == f"/login/?next={URL}"


def test_the_page_shows_own_limits_with_a_pending_increase(client, player):
    services.set_limit(player=player, kind="deposit", period="24h", amount=5_000)
    services.set_limit(player=player, kind="deposit", period="24h", amount=9_000)  # queued
    other = make_player()
    services.set_limit(player=other, kind="wager", period="7d", amount=123_456)

    page = client.get(URL)

    html = page.content.decode()
    assert page.status_code == 200
    assert '<tr data-kind="deposit" data-period="24h">' in html
    assert "50.00" in html
    assert "90.00 from" in html
    assert "1234.56" not in html
    assert 'data-kind="wager"' not in html


def test_setting_a_limit_goes_through_the_service(client, player):
    response = post(client, action="set_limit", kind="deposit", period="7d", amount="20")

    assert response.status_code == 200
    assert b"Your limit is set and applies now." in response.content
    assert [(v.kind, v.period, v.amount) for v in selectors.list_limits(player)] == [("deposit", "7d", 2_000)]


def test_a_refused_limit_is_shown_and_nothing_is_set(client, player):
    response = post(client, action="set_limit", kind="session", period="", amount="0")

    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert selectors.list_limits(player) == []


def test_an_amount_that_is_not_one_is_refused(client, player):
    response = post(client, action="set_limit", kind="deposit", period="7d", amount="ten")

    assert response.status_code == 400
    assert b"Enter an amount" in response.content
    assert selectors.list_limits(player) == []


def test_confirming_what_is_not_pending_is_refused(client, player):
    response = post(client, action="confirm", kind="deposit", period="24h")

    assert response.status_code == 400
    assert b"no pending change" in response.content


def test_reality_check_interval(client, player):
    response = post(client, action="reality_check", interval_minutes="45")

    assert response.status_code == 200
    assert selectors.get_reality_check(player).interval_minutes == 45


def test_self_exclusion_asks_for_confirmation_first_and_excludes_nothing_then(client, player):
    response = post(client, action="self_exclusion", period="1y")

    assert response.status_code == 200
    assert b"Confirm your self-exclusion" in response.content
    assert b"cannot be lifted early" in response.content
    assert b'name="confirmed" value="yes"' in response.content
    assert not Exclusion.objects.filter(player=player).exists()


def test_confirmed_self_exclusion_starts_and_logs_the_player_out(client, player):
    response = post(client, action="self_exclusion", period="1y", confirmed="yes")

    assert response.status_code == 200
    assert b"Your account is closed for play" in response.content
    exclusion = Exclusion.objects.get(player=player)
    assert exclusion.kind == "self_exclusion"
    assert selectors.is_excluded(player)
    assert b'id="header-balance"' not in response.content  # logged out: no wallet on the page
    assert client.get(URL)["Location"] == f"/login/?next={URL}"


def test_confirmed_time_out(client, player):
    response = post(client, action="time_out", hours="48", confirmed="yes")

    assert response.status_code == 200
    exclusion = Exclusion.objects.get(player=player)
    assert (exclusion.kind, exclusion.ends_at - exclusion.starts_at) == ("time_out", dt.timedelta(hours=48))


def test_a_pending_increase_is_confirmed_on_the_page_once_its_cooling_off_ended(client, player):
    services.set_limit(player=player, kind="deposit", period="24h", amount=5_000)
    services.set_limit(player=player, kind="deposit", period="24h", amount=9_000)  # queued
    assert b"Confirm deposit (gross) change" not in client.get(URL).content  # not before it may apply

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        page = client.get(URL)
        assert b"Confirm deposit (gross) change" in page.content
        response = post(client, action="confirm", kind="deposit", period="24h")
        limits = selectors.list_limits(player)

    assert response.status_code == 200
    assert b"Your change is confirmed and applies now." in response.content
    assert [(v.kind, v.period, v.amount, v.pending) for v in limits] == [("deposit", "24h", 9_000, None)]
