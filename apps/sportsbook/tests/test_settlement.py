"""Settlement (docs/sportsbook.md, "Settlement")."""

import pytest

from apps.sportsbook import selectors, services, settlement
from apps.sportsbook.models import Bet, BetSettlement
from apps.sportsbook.tests.factories import BETS, a_match, result, send, slip

pytestmark = pytest.mark.django_db


def place(api, body, key="k1"):
    response = api.post(BETS, body, format="json", headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.content
    return Bet.objects.get(public_id=response.json()["bet_id"])


def test_smoke(api, player):
    seq = a_match(delay=0)
    bet = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))
    send(result(seq))
    assert settlement.settle_due_bets() == 1
    bet.refresh_from_db()
    assert (bet.status, bet.payout) == ("won", 3_100)
    assert selectors.stored_exposure() == {}
