"""The site's bonuses page (`/bonuses/`): the player's bonuses with their wagering progress and
expiry, the opt-in campaigns open to them with their terms, and the opt-in form's success and
refusals; linked from every page's navigation."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.bonuses.models import OptIn
from apps.bonuses.tests.factories import bonus_of, campaign, fund_bonus

pytestmark = pytest.mark.django_db

PAGE = "/bonuses/"


@pytest.fixture
def player(client):
    player = make_player()
    client.force_login(player.user)
    return player


def test_the_page_lists_the_bonuses_with_status_amounts_wagering_and_expiry(client, player, clock):
    spring = campaign("SPRING", name="Spring match")
    summer = campaign("SUMMER", name="Summer fixed", kind="fixed", trigger="staff_grant", requires_opt_in=False)
    old = bonus_of(player, spring, amount=2_000, status="converted", remaining=0, wagering_done=20_000,
                   ended_at=timezone.now())  # fmt: skip
    active = bonus_of(player, summer, amount=1_000, wagering_required=10_000, wagering_done=2_500)
    fund_bonus(player, 800)  # what the active bonus holds now: its remaining is read from the account

    page = client.get(PAGE)

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<a href="{PAGE}" aria-current="page">Bonuses</a>' in html
    # newest first
    assert html.index(active.public_id) < html.index(old.public_id)
    row = html[html.index(f'data-bonus-id="{active.public_id}"') :].split("</tr>")[0]
    assert '<th scope="row">Summer fixed</th>' in row
    assert "<td>Active</td>" in row
    assert '<td class="num">10.00</td>' in row
    assert '<td class="num">8.00</td>' in row
    assert '<progress max="10000" value="2500"' in row
    assert "25.00 of 100.00" in row
    expires = (timezone.now() + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert f"<td>{expires}</td>" in row
    row = html[html.index(f'data-bonus-id="{old.public_id}"') :].split("</tr>")[0]
    assert "<td>Converted</td>" in row
    assert '<progress max="20000" value="20000"' in row


def test_the_page_offers_the_open_opt_in_campaigns_with_their_terms(client, player, clock):
    campaign("SPRING", name="Spring match", expires_after_days=30, max_stake=5_000, forfeit_on_withdrawal=True)
    campaign("AUTO", requires_opt_in=False)
    campaign("ELSEWHERE", countries=["SE"])

    html = client.get(PAGE).content.decode()

    assert 'data-code="SPRING"' in html
    assert (
        "100 % of your deposit up to 100.00 EUR; minimum deposit 10.00 EUR; wager 10 times the bonus; stakes of "
        "at most 50.00 EUR while wagering; expires after 30 days; a withdrawal before the wagering is done forfeits it."
    ) in html
    assert 'data-code="AUTO"' not in html  # no opt-in to make
    assert 'data-code="ELSEWHERE"' not in html  # not for this player's country
    assert "You have no bonuses yet." in html


@pytest.mark.parametrize(
    ("kind", "fields", "offer"),
    [
        ("fixed", {"amount": 2_500, "trigger": "any_deposit", "min_deposit": 1_000}, "25.00 EUR"),
        ("free_bet", {"amount": 500, "trigger": "any_deposit", "min_deposit": 1_000, "wagering_threshold": None,
                      "wagering_period_days": None}, "a free bet of 5.00 EUR"),
        ("cashback", {}, "10 % of your net losses over 7 days"),
    ],
)  # fmt: skip
def test_each_kinds_offer_is_said_in_its_own_words(client, player, clock, kind, fields, offer):
    campaign("OFFER", name="Offer", kind=kind, requires_opt_in=True, **fields)

    html = client.get(PAGE).content.decode()

    assert f"{offer};" in html


def test_opting_in_shows_what_happens_next_and_again_says_so(client, player, clock):
    campaign("SPRING", name="Spring match")

    first = client.post(PAGE, {"code": "spring"})
    again = client.post(PAGE, {"code": "SPRING"})

    assert first.status_code == 200
    assert (
        '<p class="success" role="status" id="opt-in-result">You have joined Spring match. The bonus comes with your '
        "next deposit of at least 10.00.</p>"
    ) in first.content.decode()
    assert "You had already joined Spring match." in again.content.decode()
    assert OptIn.objects.filter(player=player, campaign__code="SPRING").count() == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NOPE", "No open campaign has this code."),
        ("ELSEWHERE", "This campaign is not offered in the player&#x27;s country."),
        ("not a code!", "A bonus code has letters, digits, - and _ only."),
        ("", "This field is required."),
    ],
)
def test_a_refused_opt_in_shows_why_and_joins_nothing(client, player, clock, code, message):
    campaign("ELSEWHERE", countries=["SE"])

    page = client.post(PAGE, {"code": code})

    html = page.content.decode()
    assert page.status_code == 400
    assert f'<p class="error" role="alert" id="opt-in-result">{message}</p>' in html
    assert 'aria-invalid="true"' in html
    assert not OptIn.objects.filter(player=player).exists()


def test_the_page_needs_a_logged_in_player(client):
    assert client.get(PAGE)["Location"].startswith("/login/")
    client.force_login(make_staff(StaffRole.SUPPORT))
    assert "not_a_player" in client.get(PAGE).templates[0].name


def test_older_bonuses_are_a_page_further(client, player, clock, monkeypatch):
    from apps.bonuses import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    spring = campaign("SPRING", one_per_player=False)
    ended = {"status": "expired", "remaining": 0, "ended_at": timezone.now()}
    first, second, third = (bonus_of(player, spring, **ended) for _ in range(3))

    newest = client.get(PAGE).content.decode()
    older = client.get(f"{PAGE}?cursor={second.pk}").content.decode()

    assert third.public_id in newest
    assert second.public_id in newest
    assert first.public_id not in newest
    assert f'href="?cursor={second.pk}"' in newest
    assert first.public_id in older
    assert third.public_id not in older
