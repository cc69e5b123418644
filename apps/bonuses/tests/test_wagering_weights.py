"""Game weights on bets that arrive through the signed wallet API: the wagering finds the game's
type from the provider that called (the call's origin names it), so a type's weight applies."""

import json
import uuid

import pytest

from apps.bonuses.models import Bonus
from apps.bonuses.services import Weight
from apps.bonuses.tests.factories import bonus_of, campaign, fund_bonus
from apps.games import selectors as games
from apps.games import services as game_services
from apps.games.choices import GameType
from apps.wallet.api.signature import signature_of
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db

PROVIDER = "acme"
SECRET = "acme-secret-0123456789"


def signed_bet(client, player, amount: int, game_id: str):
    body = json.dumps({"player_id": str(player.pk), "currency": "EUR", "amount": amount,
                       "transaction_id": f"tx-{uuid.uuid4().hex}", "round_id": uuid.uuid4().hex[:12],
                       "game_id": game_id}).encode()  # fmt: skip
    return client.post("/api/wallet/v1/bet", data=body, content_type="application/json", HTTP_X_PROVIDER=PROVIDER,
                       HTTP_X_SIGNATURE=signature_of(SECRET, "bet", body))  # fmt: skip


@pytest.fixture(autouse=True)
def catalogue():
    provider = game_services.save_provider(code=PROVIDER, secret=SECRET)
    game_services.save_game(provider=provider, code="blackjack", name="Blackjack", game_type=GameType.TABLE)
    yield
    games.forget_game_types()


def test_a_provider_bet_counts_at_its_game_types_weight_and_an_unlisted_game_at_the_default(client):
    player = funded_player(10_000)
    wagered = campaign(default_weight_percent=100, weights=[Weight(percent=10, game_type=GameType.TABLE)])
    fund_bonus(player, 1_000)
    bonus = bonus_of(player, wagered, amount=1_000)

    assert signed_bet(client, player, 1_000, "blackjack").status_code == 200
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 100  # a table game: 10 %

    assert signed_bet(client, player, 1_000, "not-in-the-catalogue").status_code == 200
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 1_100  # the default: 100 %


def test_only_a_providers_origin_names_a_provider():
    assert games.provider_of_origin(games.provider_origin(PROVIDER)) == PROVIDER
    assert games.provider_of_origin("bonus") == ""
    assert games.provider_of_origin("psp:sandbox") == ""
    assert games.game_type("", "blackjack") == ""


def test_a_games_own_weight_wins_over_its_types_and_a_weight_of_0_counts_nothing(client):
    player = funded_player(10_000)
    wagered = campaign(default_weight_percent=100, weights=[
        Weight(percent=10, game_type=GameType.TABLE), Weight(percent=50, game_code="blackjack"),
        Weight(percent=0, game_code="jackpot-wheel"),
    ])  # fmt: skip
    fund_bonus(player, 1_000)
    bonus = bonus_of(player, wagered, amount=1_000)

    assert signed_bet(client, player, 1_000, "blackjack").status_code == 200
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 500  # its own 50 %, not the table's 10 %

    assert signed_bet(client, player, 1_000, "jackpot-wheel").status_code == 200
    assert Bonus.objects.get(pk=bonus.pk).wagering_done == 500  # 0 %: the stake is taken, nothing counts
