"""The player's bets API (contracts/sportsbook.md, "Players"): a single and an accumulator taken
with their exact answers, the replay of an Idempotency-Key, the list and one bet, and each
refusal's code with nothing moved (the ledger as it was, `wallet_audit` clean, no exposure)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import issue_token
from apps.compliance import services as compliance
from apps.sportsbook import selectors, services
from apps.sportsbook.intake import LegRequest, potential_payout
from apps.sportsbook.models import Bet, BetLeg, Exposure, Selection
from apps.sportsbook.tests.factories import BETS, a_match, event, live, market, result, resume, send, slip, suspend
from apps.wallet import audit
from apps.wallet import selectors as wallet_selectors
from apps.wallet.models import Entry, Transaction
from apps.wallet.tests.factories import funded_player

pytestmark = pytest.mark.django_db


def place(api, body: dict, key: str = "key-1"):
    return api.post(BETS, body, format="json", headers={"Idempotency-Key": key})


def balance(player) -> int:
    return wallet_selectors.get_wallet_state(player.pk).balance


def exposure() -> dict[tuple[str, int], int]:
    return {(scope, target): amount for (scope, target, _), amount in selectors.stored_exposure().items()}


def ledger() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def error(response) -> dict:
    return response.json()["error"]


def assert_nothing_moved(player, before_ledger, before_balance=10_000) -> None:
    assert ledger() == before_ledger
    assert balance(player) == before_balance
    assert Bet.objects.exists() is False
    assert BetLeg.objects.exists() is False
    assert selectors.stored_exposure() == {}
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


# --- taken ---------------------------------------------------------------------------------------


def test_a_single_is_accepted_with_its_payout_the_stake_to_the_house_and_its_exposure(api, player):
    a_match()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000))

    assert response.status_code == 201, response.content
    body = response.json()
    bet = Bet.objects.get()
    assert body == {
        "bet_id": bet.public_id, "status": "accepted", "reason": None, "stake": 1_000, "currency": "EUR",
        "potential_payout": 3_100, "payout": None, "placed_at": body["placed_at"], "settled_at": None,
        "legs": [{"selection_id": "mk-1-home", "market_id": "mk-1", "event_id": "ev-1", "price": "3.10",
                  "market_version": 1}],
    }  # fmt: skip
    assert balance(player) == 9_000
    stake = Transaction.objects.get(kind="bet", player=player)
    assert (stake.origin, stake.round_id, stake.amount) == ("sportsbook", bet.public_id, -1_000)
    assert bet.stake_transaction == stake
    assert sorted(stake.entries.values_list("account__code", "amount")) == [("", -1_000), ("house", 1_000)]
    home, event = bet.legs.get().selection, bet.legs.get().event
    assert exposure() == {("selection", home.pk): 2_100, ("market", home.market_id): 2_100,
                          ("event", event.pk): 2_100, ("platform", 0): 2_100}  # fmt: skip
    assert selectors.recompute_exposure() == selectors.stored_exposure()
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_an_accumulator_pays_the_stake_times_the_product_of_its_prices_rounded_down(api, player):
    a_match(markets=("mk-1", "mk-2"))

    response = place(api, slip(("mk-1-home", "3.10", 1), ("mk-2-draw", "3.20", 1), stake=333))

    # 333 x 3.10 x 3.20 = 3303.36: rounded down to the minor unit.
    assert response.status_code == 201, response.content
    assert response.json()["potential_payout"] == 3_303
    assert [leg["selection_id"] for leg in response.json()["legs"]] == ["mk-1-home", "mk-2-draw"]
    bet = Bet.objects.get()
    legs = list(bet.legs.order_by("position"))
    # Its whole liability (3303 - 333) on each leg's selection and market, once on the event and
    # the platform.
    assert exposure() == {
        ("selection", legs[0].selection_id): 2_970, ("selection", legs[1].selection_id): 2_970,
        ("market", legs[0].market_id): 2_970, ("market", legs[1].market_id): 2_970,
        ("event", legs[0].event_id): 2_970, ("platform", 0): 2_970,
    }  # fmt: skip
    assert selectors.recompute_exposure() == selectors.stored_exposure()


def test_the_payout_is_exact_decimal_arithmetic_never_a_float():
    # 1.1 ** 3 is 1.3310000000000004 in floating point: 1000 of it would round down to 1331 by
    # luck; 3 x 1.15 ** 2 (3.9674999999999994 as floats) is the case a float gets wrong.
    assert potential_payout(1_000, [Decimal("1.10")] * 3) == 1_331
    assert potential_payout(4_000, [Decimal("1.15"), Decimal("1.15"), Decimal("3.00")]) == 15_870
    assert potential_payout(1, [Decimal("99999.99")] * 2) == 9_999_998_000


def test_legs_on_one_market_are_refused(api, player):
    a_match()
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), ("mk-1-draw", "3.20", 1)))

    assert (response.status_code, error(response)["code"]) == (422, "INVALID_SLIP")
    assert_nothing_moved(player, before)


def test_an_unknown_selection_is_refused(api, player):
    a_match()
    before = ledger()

    response = place(api, slip(("nope", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (404, "UNKNOWN_SELECTION")
    assert error(response)["selection_id"] == "nope"
    assert_nothing_moved(player, before)


@pytest.mark.parametrize("price", ["1.00", "1", "0.50", "03.10", "3.101", "3,10", 3.1, "100000.00"])
def test_a_price_that_is_not_decimal_odds_as_a_string_is_refused(api, player, price):
    a_match()

    response = place(api, {**slip(("mk-1-home", "3.10", 1)), "legs": [
        {"selection_id": "mk-1-home", "price": price, "market_version": 1}]})  # fmt: skip

    assert (response.status_code, error(response)["code"]) == (400, "INVALID_REQUEST")
    assert Bet.objects.exists() is False


def test_a_market_version_not_reached_yet_is_refused(api, player):
    a_match()
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 2)))

    assert (response.status_code, error(response)["code"]) == (422, "INVALID_SLIP")
    assert_nothing_moved(player, before)


# --- idempotency ---------------------------------------------------------------------------------


def test_a_replay_of_the_key_answers_the_first_answer_and_moves_nothing(api, player):
    a_match()
    first = place(api, slip(("mk-1-home", "3.10", 1)))
    after_first = ledger()

    again = place(api, slip(("mk-1-home", "3.10", 1)))

    assert (again.status_code, again.json()) == (201, first.json())
    assert ledger() == after_first
    assert Bet.objects.count() == 1
    assert balance(player) == 9_000


def test_the_key_with_another_body_is_refused_and_moves_nothing(api, player):
    a_match()
    place(api, slip(("mk-1-home", "3.10", 1)))
    after_first = ledger()

    other = place(api, slip(("mk-1-home", "3.10", 1), stake=2_000))

    assert (other.status_code, error(other)["code"]) == (409, "DUPLICATE_TRANSACTION")
    assert ledger() == after_first
    assert balance(player) == 9_000


def test_the_key_is_required(api, player):
    a_match()

    response = api.post(BETS, slip(("mk-1-home", "3.10", 1)), format="json")

    assert (response.status_code, error(response)["code"]) == (400, "INVALID_REQUEST")


# --- reading -------------------------------------------------------------------------------------


def test_the_list_is_the_players_own_newest_first_with_a_cursor(api, player, monkeypatch):
    a_match(markets=("mk-1", "mk-2", "mk-3"))
    ids = [place(api, slip((f"mk-{n}-home", "3.10", 1), stake=100), key=f"k{n}").json()["bet_id"] for n in (1, 2, 3)]
    other = funded_player(1_000)
    services.place_bet(player=other, idempotency_key="x", stake=100, currency="EUR", accept_price_changes="none",
                       legs=[LegRequest("mk-1-draw", Decimal("3.20"), 1)])  # fmt: skip
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)

    first = api.get(BETS).json()
    second = api.get(BETS, {"cursor": first["next_cursor"]}).json()

    assert [bet["bet_id"] for bet in first["results"]] == [ids[2], ids[1]]
    assert [bet["bet_id"] for bet in second["results"]] == [ids[0]]
    assert second["next_cursor"] is None


def test_one_bet_is_the_players_own(api, player):
    a_match()
    bet_id = place(api, slip(("mk-1-home", "3.10", 1))).json()["bet_id"]
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(funded_player(0).user)}")

    assert api.get(f"{BETS}/{bet_id}").json()["bet_id"] == bet_id
    assert (stranger.get(f"{BETS}/{bet_id}").status_code, error(stranger.get(f"{BETS}/{bet_id}"))["code"]) == (
        404, "NOT_FOUND")  # fmt: skip


# --- refusals: the market ------------------------------------------------------------------------


def test_a_suspended_market_is_refused(api, player):
    seq = a_match()
    send(suspend(seq, market_id="mk-1"))
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 2)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SUSPENDED")
    assert_nothing_moved(player, before)


def test_a_price_seen_before_a_suspension_is_refused_after_the_resume(api, player):
    seq = a_match()
    send(suspend(seq, market_id="mk-1"), resume(seq + 1, market_id="mk-1"))  # a goal: versions 2, 3
    before = ledger()

    stale = place(api, slip(("mk-1-home", "3.10", 1)))
    fresh = place(api, slip(("mk-1-home", "3.10", 3)), key="key-2")

    assert (stale.status_code, error(stale)["code"]) == (409, "MARKET_SUSPENDED")
    assert fresh.status_code == 201
    assert ledger()[0] == before[0] + 1


def test_a_settled_market_is_refused(api, player):
    seq = a_match()
    send(result(seq))
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SETTLED")
    assert_nothing_moved(player, before)


@pytest.mark.parametrize(
    ("accept", "now", "taken"),
    [
        ("none", "3.10", "3.10"),
        ("higher", "3.50", "3.50"),
        ("any", "3.50", "3.50"),
        ("any", "2.90", "2.90"),
    ],
)
def test_a_price_change_the_slip_accepts_is_taken_at_the_current_price(api, player, accept, now, taken):
    seq = a_match()
    if now != "3.10":
        send(market(seq, prices=(now, "3.20", "2.40")))

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000, accept=accept))

    assert response.status_code == 201, response.content
    assert response.json()["legs"][0]["price"] == taken
    assert response.json()["potential_payout"] == int(Decimal(taken) * 1_000)


@pytest.mark.parametrize(("accept", "now"), [("none", "3.50"), ("none", "2.90"), ("higher", "2.90")])
def test_a_price_change_the_slip_does_not_accept_is_refused_with_the_price(api, player, accept, now):
    seq = a_match()
    send(market(seq, prices=(now, "3.20", "2.40")))
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), accept=accept))

    assert (response.status_code, error(response)["code"], error(response)["price"]) == (409, "PRICE_CHANGED", now)
    assert_nothing_moved(player, before)


# --- refusals: the limits ------------------------------------------------------------------------


def test_a_selection_cap_refuses_with_the_largest_stake_it_takes(api, player):
    a_match()
    home = Selection.objects.get(selection_id="mk-1-home").pk
    services.set_exposure_cap(scope="selection", target_id=home, currency="EUR", cap=5_000, reason="hot",
                              acting_user=None)  # fmt: skip
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=2_400))

    # Liability floor(s x 3.10) - s <= 5000: s x 2.10 < 5001, s <= 2381.
    assert (response.status_code, error(response)["code"], error(response)["max_stake"]) == (
        403, "STAKE_TOO_HIGH", 2_381)  # fmt: skip
    assert ledger() == before
    assert Bet.objects.exists() is False
    assert place(api, slip(("mk-1-home", "3.10", 1), stake=2_381), key="key-2").status_code == 201
    assert Exposure.objects.get(scope="selection", target_id=home).amount == 5_000


def test_each_scope_caps_the_standing_bets_together(api, player, settings):
    # A market's cap of 3000 (its default, in whole euros, is far above): two bets of 1000 at 2.40
    # on different selections are 1400 each; a third of 1000 would make 4200.
    a_match()
    settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "market": 30}
    assert place(api, slip(("mk-1-away", "2.40", 1), stake=1_000), key="a").status_code == 201
    assert place(api, slip(("mk-1-draw", "3.20", 1), stake=500), key="b").status_code == 201  # 1100

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000), key="c")

    # 3000 - 2500 = 500 left: s x 2.10 < 501, s <= 238.
    assert (error(response)["code"], error(response)["max_stake"]) == ("STAKE_TOO_HIGH", 238)
    assert exposure()[("platform", 0)] == 2_500


def test_the_players_stake_factor_scales_the_per_bet_liability(api, player, settings):
    a_match()
    settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "bet_liability": 100}  # 10000 cents
    services.set_stake_factor(player=player, factor=Decimal("0.25"), reason="sharp", acting_user=None)
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_200))

    # 0.25 x 10000 = 2500: s x 2.10 < 2501, s <= 1190.
    assert (error(response)["code"], error(response)["max_stake"]) == ("STAKE_TOO_HIGH", 1_190)
    assert_nothing_moved(player, before)
    assert place(api, slip(("mk-1-home", "3.10", 1), stake=1_190), key="key-2").status_code == 201


def test_the_maximum_payout_refuses_with_the_largest_stake_within_it(api, player, settings):
    a_match(prices=("50.00", "3.20", "1.10"))
    settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "max_payout": 100}  # 10000 cents
    before = ledger()

    response = place(api, slip(("mk-1-home", "50.00", 1), stake=201))

    # floor(s x 50) <= 10000: s <= 200.
    assert (error(response)["code"], error(response)["max_stake"]) == ("STAKE_TOO_HIGH", 200)
    assert_nothing_moved(player, before)


# --- refusals: the wallet and compliance ---------------------------------------------------------


def test_another_currency_than_the_wallets_is_refused(api, player):
    a_match()
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), currency="GBP"))

    assert (response.status_code, error(response)["code"]) == (409, "CURRENCY_MISMATCH")
    assert_nothing_moved(player, before)


def test_a_stake_above_the_balance_is_refused_by_the_wallet(api, player):
    a_match()
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=10_001))

    assert (response.status_code, error(response)["code"]) == (402, "INSUFFICIENT_FUNDS")
    assert_nothing_moved(player, before)


def test_an_excluded_player_is_refused_as_at_the_casino(api, player):
    a_match()
    compliance.start_time_out(player=player, hours=24)
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (403, "PLAYER_BLOCKED")
    assert_nothing_moved(player, before)


def test_a_wager_limit_applies_as_at_the_casino(api, player):
    a_match()
    compliance.set_limit(player=player, kind="wager", period="24h", amount=500)
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=501))

    assert (response.status_code, error(response)["code"]) == (403, "LIMIT_REACHED")
    assert_nothing_moved(player, before)


# --- a market that moves during the placement -----------------------------------------------------


def _move_after_the_read(monkeypatch, *messages: dict) -> None:
    """The feed's `messages` commit between the read of the legs before the money (with the
    player's token, or for the player) and the bet's write (under the player's lock)."""
    readers = {name: getattr(services.intake, name) for name in ("read_slip", "read_slip_of_token")}

    def read_then_move(name):
        def read(*args, **kwargs):
            found = readers[name](*args, **kwargs)
            for original, reader in readers.items():
                monkeypatch.setattr(services.intake, original, reader)
            send(*messages)
            return found

        return read

    for name in readers:
        monkeypatch.setattr(services.intake, name, read_then_move(name))


@pytest.mark.parametrize(("accept", "code", "taken"), [("none", 409, None), ("any", 201, "3.50")])
def test_a_price_that_moves_during_the_placement_is_judged_as_it_is_at_the_write(
    api, player, monkeypatch, accept, code, taken
):
    # The bet's write finds the price the service read no longer stands: the slip is placed again
    # on the legs as they are under the lock, refused or taken at the new price as it accepts.
    seq = a_match()
    _move_after_the_read(monkeypatch, market(seq, prices=("3.50", "3.20", "2.40")))
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1), stake=1_000, accept=accept))

    assert response.status_code == code, response.content
    if taken is None:
        assert (error(response)["code"], error(response)["price"]) == ("PRICE_CHANGED", "3.50")
        assert ledger() == before
        assert Bet.objects.exists() is False
    else:
        assert response.json()["legs"][0]["price"] == taken
        assert response.json()["potential_payout"] == 3_500
        assert Bet.objects.get().legs.get().price == Decimal(taken)
        assert exposure()[("platform", 0)] == 2_500
    assert Transaction.objects.filter(kind="bet").count() == (0 if taken is None else 1)
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_market_suspended_during_the_placement_is_refused_and_moves_nothing(api, player, monkeypatch):
    seq = a_match()
    _move_after_the_read(monkeypatch, suspend(seq, market_id="mk-1"))
    before = ledger()

    response = place(api, slip(("mk-1-home", "3.10", 1)))

    assert (response.status_code, error(response)["code"]) == (409, "MARKET_SUSPENDED")
    assert ledger() == before
    assert Bet.objects.exists() is False
    assert balance(player) == 10_000


def test_a_market_resumed_during_the_placement_takes_the_bet(api, player, monkeypatch):
    # Suspended (version 2) when the service read it, open again (version 3, the one the player
    # saw) under the lock: judged on the market as it is then.
    seq = a_match()
    send(suspend(seq, market_id="mk-1"))
    _move_after_the_read(monkeypatch, resume(seq + 1, market_id="mk-1"))

    response = place(api, slip(("mk-1-home", "3.10", 3)))

    assert response.status_code == 201, response.content
    assert Transaction.objects.filter(kind="bet").count() == 1


def test_an_event_whose_delay_changes_during_the_placement_holds_the_bet_as_it_is_at_the_write(
    api, player, monkeypatch
):
    # Only the event's row changes (its market's version stays 1): the write still finds the leg
    # moved, and the slip is placed again on the event as it is under the lock, held 8 s, not 5.
    seq = a_match(delay=5)
    send(live(seq))
    _move_after_the_read(monkeypatch, event(seq + 1, in_play_delay_s=8))

    response = place(api, slip(("mk-1-home", "3.10", 1)))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    bet = Bet.objects.get()
    assert (bet.release_at - bet.placed_at).total_seconds() == 8
    assert bet.legs.count() == 1
    assert Transaction.objects.filter(kind="bet").count() == 1
    assert exposure()[("platform", 0)] == 2_100
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}
