"""What a bet slip's placement sends to PostgreSQL, message by message, outside any test
transaction (as in production; tests/libpq_trace.py reads libpq's trace). A free player's single
whose exposure rows exist is two round trips: the legs' read before the money, then one statement
(`sportsbook_place_bet`: the wallet's bet function, the bet, its legs, the exposure), each in
autocommit; placed over the API with a bearer token, the token's player is read with the legs.
A slip that statement does not take as it is goes on to the bet function with the participant in
Python, in a transaction of its own."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from psycopg import pq

from apps.accounts.services import issue_token
from apps.sportsbook import errors, services
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.models import Bet, Selection
from apps.sportsbook.tests.factories import BETS, a_match, slip
from apps.wallet import selectors as wallet_selectors
from apps.wallet.tests.factories import bet, funded_player
from tests.libpq_trace import autocommit_matches_django, forget_prepared_statements, messages_sent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HOME = [LegRequest("mk-1-home", Decimal("3.10"), 1)]


@pytest.fixture(autouse=True)
def _no_statement_prepared_yet():
    forget_prepared_statements()


def place(player, key: str, stake: int = 100):
    return services.place_bet(player=player, idempotency_key=key, stake=stake, currency="EUR", legs=HOME,
                              accept_price_changes="none")  # fmt: skip


@pytest.fixture
def player():
    """A free player, after a first bet that opened the slip's exposure rows (and a casino bet
    that opened the house account)."""
    a_match()
    bet(funded_player(10), 1)
    player = funded_player(100_000)
    place(player, "first")
    return player


def test_a_free_players_single_is_two_round_trips(tmp_path, player):
    sent = messages_sent(tmp_path, lambda: place(player, "second"))

    assert sent == [
        "Bind SELECT", "Sync",  # the legs, the stake factor, the breakers, whether the rows exist
        "Bind SELECT", "Sync",  # sportsbook_place_bet: the lock, the look-up, the stake, the bet, the exposure
    ]  # fmt: skip
    assert Bet.objects.count() == 2
    assert wallet_selectors.get_wallet_state(player.pk).balance == 100_000 - 200
    assert autocommit_matches_django()


def test_a_single_placed_with_a_bearer_token_is_two_round_trips(tmp_path, player):
    token = issue_token(player.user)

    def post():
        answer = Client().post(BETS, json.dumps(slip(("mk-1-home", "3.10", 1))), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="second")  # fmt: skip
        assert answer.status_code == 201, answer.content

    sent = messages_sent(tmp_path, post)

    assert sent == [
        "Bind SELECT", "Sync",  # the token's player, and the legs, the stake factor, the breakers, the rows
        "Bind SELECT", "Sync",  # sportsbook_place_bet
    ]  # fmt: skip
    assert Bet.objects.count() == 2
    assert autocommit_matches_django()


def test_a_slip_refused_after_the_statement_rolls_back_and_the_connection_is_as_before(tmp_path, player):
    home = Selection.objects.get(selection_id="mk-1-home").pk
    services.set_exposure_cap(scope="selection", target_id=home, currency="EUR", cap=300, reason="hot",
                              acting_user=None)  # fmt: skip

    def refused():
        with pytest.raises(errors.StakeTooHigh):
            place(player, "second", stake=1_000)

    sent = messages_sent(tmp_path, refused)

    # The legs' read, the statement (which leaves the cap's refusal to the participant), then
    # the bet function and the participant's write in a transaction, rolled back.
    assert sent[:7] == ["Bind SELECT", "Sync", "Bind SELECT", "Sync", "Query BEGIN", "Bind SELECT", "Sync"]
    assert "Query ROLLBACK" in sent
    assert "Query COMMIT" not in sent
    assert autocommit_matches_django()
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    assert wallet_selectors.get_wallet_state(player.pk).balance == 100_000 - 100
    place(player, "third", stake=40)  # the next placement begins and commits as usual (within the cap)
    assert Bet.objects.count() == 2
