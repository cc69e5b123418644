"""The site's sportsbook page (`/sportsbook/`): a shell for static/js/sportsbook.js, for players
only, linked from every page's navigation, with the player's currency and the names of their
bets' selections (an ended event is no longer in the events list the script reads). The page's
behaviour in a browser is tests/browser/test_sportsbook_site.py."""

import json

import pytest
from django.test import Client

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.sportsbook import services
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.odds import parse_decimal
from apps.sportsbook.tests.factories import a_match, result, send, suspend

pytestmark = pytest.mark.django_db

PAGE = "/sportsbook/"


def config_of(page) -> dict:
    html = page.content.decode()
    start = html.index('<script id="sportsbook-config" type="application/json">') + len(
        '<script id="sportsbook-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_is_for_logged_in_players():
    anonymous = Client().get(PAGE)
    assert (anonymous.status_code, anonymous.url) == (302, f"/login/?next={PAGE}")

    staff = Client()
    staff.force_login(make_staff(StaffRole.SUPPORT))
    assert "No player account" in staff.get(PAGE).content.decode()


def test_the_page_is_linked_from_the_navigation_and_carries_the_players_currency(client, player):
    client.force_login(player.user)

    page = client.get(PAGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<a href="{PAGE}" aria-current="page">Sportsbook</a>' in html
    assert 'src="/static/js/sportsbook.js"' in html
    assert config_of(page) == {
        "currency": "EUR",
        "exponent": 2,
        "odds_formats": ["decimal", "fractional", "american"],
        "price_changes": ["none", "higher", "any"],
        "names": {},
    }
    assert f'<a href="{PAGE}">Sportsbook</a>' in client.get("/games/").content.decode()


def test_the_names_of_the_players_bets_stay_readable_after_their_event_ended(client, player):
    seq = a_match(markets=("mk-1",))
    services.place_bet(
        player=player, idempotency_key="k-1", stake=500, currency="EUR", accept_price_changes="none",
        legs=[LegRequest("mk-1-home", parse_decimal("3.10"), 1)],
    )  # fmt: skip
    send(suspend(seq, market_id="mk-1"), result(seq + 1, winners=("mk-1-home",)))
    client.force_login(player.user)

    names = config_of(client.get(PAGE))["names"]

    assert names == {"mk-1-home": {"event": "Qatar v Ecuador", "market": "Match odds", "selection": "Home"}}
