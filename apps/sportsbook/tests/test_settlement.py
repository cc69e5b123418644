"""Settlement (docs/sportsbook.md, "Settlement"): a resulted market's bets are paid through the
wallet, stake x the product of the legs' factors rounded down (the price for a winner, divided by
k in a dead heat of k winners; 1 for a void leg; 0 for a loser); a loss moves no money; a later
result with another outcome resettles by compensating ledger transactions; the same result again
changes nothing. The bet's status, payout, history and exposure commit with the money."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.common.idempotency import ExternalRef
from apps.sportsbook import intake, locks, selectors, services, settlement
from apps.sportsbook.models import Bet, BetSettlement, Exposure
from apps.sportsbook.tests.factories import BETS, a_match, live, result, send, slip
from apps.wallet import audit
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet_services
from apps.wallet.choices import AccountKind
from apps.wallet.models import Account, Entry, Transaction

pytestmark = pytest.mark.django_db

MARKETS = ("mk-1", "mk-2", "mk-3")


@pytest.fixture
def seq():
    """Three match-odds markets of one event, at 3.10 / 3.20 / 2.40; the next free seq."""
    return a_match(delay=0, markets=MARKETS)


def place(api, *legs, stake: int = 1_000, key: str = "k1") -> Bet:
    response = api.post(BETS, slip(*legs, stake=stake), format="json", headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.content
    return Bet.objects.get(public_id=response.json()["bet_id"])


def home(market: str = "mk-1") -> tuple[str, str, int]:
    return (f"{market}-home", "3.10", 1)


def settle() -> int:
    return settlement.settle_due_bets()


def cash(player) -> int:
    return wallet_selectors.get_wallet_state(player.pk).cash


def debt(player) -> int:
    account = Account.objects.filter(player=player, kind=AccountKind.DEBT).first()
    return 0 if account is None else account.balance


def house() -> int:
    return Entry.objects.filter(account__code="house").aggregate(total=Sum("amount"))["total"] or 0


def audit_clean() -> bool:
    return audit.run_audit() == {name: [] for name in audit.CHECKS}


def exposure_as_recomputed() -> bool:
    return selectors.stored_exposure() == selectors.recompute_exposure()


def fresh(bet: Bet) -> Bet:
    return Bet.objects.get(pk=bet.pk)


# --- singles -----------------------------------------------------------------------------------------


def test_a_winning_single_is_paid_stake_times_price_with_its_exposure_taken_off(api, player, seq):
    bet = place(api, home(), stake=1_000)
    assert selectors.stored_exposure()[("platform", 0, "EUR")] == 2_100

    send(result(seq, winners=["mk-1-home"]))
    assert settle() == 1

    bet = fresh(bet)
    assert (bet.status, bet.payout, bet.settlement_count) == ("won", 3_100, 1)
    assert cash(player) == 10_000 - 1_000 + 3_100
    assert house() == 1_000 - 3_100
    win = Transaction.objects.get(kind="win")
    assert (win.origin, win.external_id, win.round_id, win.amount) == (
        "sportsbook", f"{bet.public_id}:settle:1", bet.public_id, 3_100)  # fmt: skip
    row = BetSettlement.objects.get(bet=bet)
    assert (row.n, row.status, row.payout, row.difference, row.transaction_id) == (1, "won", 3_100, 3_100, win.pk)
    assert row.outcome == [{"market_id": "mk-1", "selection_id": "mk-1-home", "result": "won", "winners": 1}]
    assert row.market_settled_at == bet.outcome_at == bet.legs.get().market.settled_at
    assert row.settled_at == bet.settled_at
    assert selectors.stored_exposure() == {}
    assert exposure_as_recomputed()
    assert audit_clean()


def test_a_losing_single_moves_no_money(api, player, seq):
    bet = place(api, home())
    ledger = Transaction.objects.count()

    send(result(seq, winners=["mk-1-away"]))
    assert settle() == 1

    bet = fresh(bet)
    assert (bet.status, bet.payout) == ("lost", 0)
    assert Transaction.objects.count() == ledger
    assert cash(player) == 9_000
    row = BetSettlement.objects.get(bet=bet)
    assert (row.status, row.payout, row.difference, row.transaction) == ("lost", 0, 0, None)
    assert selectors.stored_exposure() == {}
    assert audit_clean()


def test_a_voided_single_gives_the_stake_back(api, player, seq):
    bet = place(api, home(), stake=750)

    send(result(seq, winners=[], void=["mk-1-home", "mk-1-draw", "mk-1-away"]))
    settle()

    bet = fresh(bet)
    assert (bet.status, bet.payout) == ("void", 750)
    assert cash(player) == 10_000
    assert selectors.stored_exposure() == {}


def test_a_dead_heat_pays_each_winner_at_its_price_divided_by_the_number_of_winners(api, player, seq):
    # 333 x 3.10 / 2 = 516.15, rounded down; the draw at 3.20 / 2 = 1.60: 333 x 1.6 = 532.8 -> 532.
    on_home = place(api, home(), stake=333, key="a")
    on_draw = place(api, ("mk-2-draw", "3.20", 1), stake=333, key="b")

    send(result(seq, winners=["mk-1-home", "mk-1-away"]), result(seq + 1, "mk-2", winners=["mk-2-draw", "mk-2-home"]))
    settle()

    assert (fresh(on_home).status, fresh(on_home).payout) == ("won", 516)
    assert fresh(on_draw).payout == 532
    assert BetSettlement.objects.get(bet=on_home).outcome[0]["winners"] == 2
    assert cash(player) == 10_000 - 666 + 516 + 532
    assert audit_clean()


def test_a_pending_or_rejected_bet_is_never_settled(api, player):
    seq = a_match(delay=5, markets=MARKETS)
    send(live(seq))
    bet = place(api, home())
    assert bet.status == "pending"

    send(result(seq + 1, winners=["mk-1-home"]))
    assert settle() == 0
    assert fresh(bet).status == "pending"
    bet = services.release_pending_bet(bet_id=bet.pk, now=bet.release_at)
    assert (bet.status, bet.reject_reason) == ("rejected", "MARKET_SETTLED")
    assert settle() == 0
    assert (fresh(bet).status, fresh(bet).payout, BetSettlement.objects.count()) == ("rejected", None, 0)
    assert cash(player) == 10_000
    assert exposure_as_recomputed()


# --- accumulators ------------------------------------------------------------------------------------


def test_an_accumulator_is_lost_as_soon_as_a_leg_loses(api, player, seq):
    bet = place(api, home("mk-1"), home("mk-2"), home("mk-3"), stake=100)
    assert bet.potential_payout == 2_979  # 100 x 3.10^3 = 2979.1

    send(result(seq, "mk-2", winners=["mk-2-away"]))
    settle()

    bet = fresh(bet)
    assert (bet.status, bet.payout) == ("lost", 0)
    assert BetSettlement.objects.get(bet=bet).outcome == [
        {"market_id": "mk-1", "selection_id": "mk-1-home", "result": "unresulted"},
        {"market_id": "mk-2", "selection_id": "mk-2-home", "result": "lost"},
        {"market_id": "mk-3", "selection_id": "mk-3-home", "result": "unresulted"},
    ]
    assert selectors.stored_exposure() == {}

    # The other markets' results later change nothing (and the sweep does not come back to it).
    send(result(seq + 1, "mk-1", winners=["mk-1-home"]), result(seq + 2, "mk-3", winners=["mk-3-home"]))
    assert settle() == 0
    assert (fresh(bet).status, BetSettlement.objects.count()) == ("lost", 1)
    assert settle() == 0


def test_an_accumulator_wins_once_every_leg_has_won(api, player, seq):
    bet = place(api, home("mk-1"), home("mk-2"), home("mk-3"), stake=100)

    send(result(seq, "mk-1", winners=["mk-1-home"]), result(seq + 1, "mk-2", winners=["mk-2-home"]))
    assert settle() == 0
    assert fresh(bet).status == "accepted"
    assert selectors.stored_exposure()[("platform", 0, "EUR")] == 2_879

    send(result(seq + 2, "mk-3", winners=["mk-3-home"]))
    assert settle() == 1
    assert (fresh(bet).status, fresh(bet).payout) == ("won", 2_979)
    assert cash(player) == 10_000 - 100 + 2_979
    assert selectors.stored_exposure() == {}
    assert audit_clean()


def test_a_void_leg_counts_one_and_every_leg_void_gives_the_stake_back(api, player, seq):
    with_void = place(api, home("mk-1"), home("mk-2"), stake=100, key="a")
    all_void = place(api, ("mk-1-draw", "3.20", 1), ("mk-3-away", "2.40", 1), stake=100, key="b")

    send(
        result(seq, "mk-1", winners=["mk-1-home"], void=["mk-1-draw"]),
        result(seq + 1, "mk-2", winners=[], void=["mk-2-home"]),
        result(seq + 2, "mk-3", winners=["mk-3-home"], void=["mk-3-away"]),
    )
    settle()

    assert (fresh(with_void).status, fresh(with_void).payout) == ("won", 310)
    assert (fresh(all_void).status, fresh(all_void).payout) == ("void", 100)
    assert selectors.stored_exposure() == {}
    assert exposure_as_recomputed()


# --- once, and again -------------------------------------------------------------------------------


def test_settling_twice_or_the_same_result_twice_pays_once(api, player, seq):
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    assert settle() == 1
    ledger = Transaction.objects.count()

    assert settle() == 0
    assert settlement.settle_market(bet.legs.get().market_id) == 0
    assert settlement.settle_bets([bet.pk]) == 0
    send(result(seq + 1, winners=["mk-1-home"]))
    assert settle() == 0

    assert Transaction.objects.count() == ledger
    assert BetSettlement.objects.count() == 1
    assert cash(player) == 12_100


def test_a_second_settler_of_a_bet_already_paid_moves_nothing(api, player, seq):
    """A settler that read the bet before another settled it: the wallet answers its settlement as
    a replay (same id, same difference), and nothing is written twice."""
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    stale = Bet.objects.get(pk=bet.pk)
    legs = list(stale.legs.select_related("selection__market"))
    outcome = settlement.outcome_of(stale, legs)
    settle()

    assert settlement._settle_with_money(settlement.Plan(stale, legs, outcome, 1, outcome.payout)) == 0
    assert settlement._settle_without_money([settlement.Plan(stale, legs, outcome, 1, 0)]) == 0
    assert Transaction.objects.filter(kind="win").count() == 1
    assert BetSettlement.objects.count() == 1


def test_a_resettlement_credits_or_takes_back_the_difference_and_back_again(api, player, seq):
    bet = place(api, home())
    send(result(seq, winners=["mk-1-away"]))
    settle()
    assert (fresh(bet).status, cash(player)) == ("lost", 9_000)
    exposure = list(Exposure.objects.values_list("pk", "amount"))

    # Up: the home side won after all: the whole payout, as settlement 2.
    send(result(seq + 1, winners=["mk-1-home"]))
    assert settle() == 1
    assert (fresh(bet).status, fresh(bet).payout, cash(player)) == ("won", 3_100, 12_100)
    win = Transaction.objects.get(kind="win")
    assert (win.external_id, win.amount) == (f"{bet.public_id}:settle:2", 3_100)

    # Down: a dead heat halves it; 1,550 taken back.
    send(result(seq + 2, winners=["mk-1-home", "mk-1-draw"]))
    settle()
    assert (fresh(bet).payout, cash(player)) == (1_550, 10_550)
    taken = Transaction.objects.get(kind="resettlement")
    assert (taken.external_id, taken.amount) == (f"{bet.public_id}:settle:3", -1_550)

    # And back to the first result.
    send(result(seq + 3, winners=["mk-1-away"]))
    settle()
    bet = fresh(bet)
    assert (bet.status, bet.payout, bet.settlement_count, cash(player)) == ("lost", 0, 4, 9_000)
    history = list(BetSettlement.objects.filter(bet=bet).values_list("n", "status", "payout", "difference"))
    assert history == [(1, "lost", 0, 0), (2, "won", 3_100, 3_100), (3, "won", 1_550, -1_550), (4, "lost", 0, -1_550)]
    # Exposure is not touched by a resettlement: the bet left it at its first settlement.
    assert list(Exposure.objects.values_list("pk", "amount")) == exposure
    assert exposure_as_recomputed()
    assert audit_clean()
    call_command("wallet_audit")


def test_a_resettlement_down_past_the_balance_leaves_a_debt_and_never_a_negative_balance(api, player, seq):
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    settle()
    wallet_services.adjust_balance(player_id=player.pk, amount=-12_000, reason="withdrawn", acting_user=None)
    assert cash(player) == 100

    send(result(seq + 1, winners=["mk-1-away"]))
    settle()

    assert (fresh(bet).status, fresh(bet).payout) == ("lost", 0)
    assert (cash(player), debt(player)) == (0, 3_000)
    assert audit_clean()

    # Back to a win: the 3,100 credited again; the debt is repaid by deposits, not by wins.
    send(result(seq + 2, winners=["mk-1-home"]))
    settle()
    assert (cash(player), debt(player)) == (3_100, 3_000)
    assert audit_clean()


def test_a_win_taken_back_past_the_balance_counts_whole_against_a_loss_limit(api, player, seq):
    """A win taken back by a resettlement is lost again whether the cash or a debt paid for it: the
    player's net result, a loss limit's usage and the bet path's own limit check count all of it."""
    from apps.compliance import selectors as compliance
    from apps.compliance.tests.factories import deposit, limit

    bet = place(api, home())  # 1,000 at 3.10
    since = bet.placed_at - dt.timedelta(seconds=1)
    send(result(seq, winners=["mk-1-home"]))
    settle()
    wallet_services.adjust_balance(player_id=player.pk, amount=-12_000, reason="withdrawn", acting_user=None)
    send(result(seq + 1, winners=["mk-1-away"]))
    settle()
    assert (cash(player), debt(player)) == (0, 3_000)  # 100 of the 3,100 from the cash, the rest owed

    assert compliance.session_result(player.pk, since) == -1_000
    assert compliance.usage(player.pk, timezone.now(), [("loss", "24h")]) == {("loss", "24h"): 1_000}

    deposit(player, 5_000)  # repays the debt first: 2,000 to play
    limit(player, "loss", "24h", 1_200)
    refused = api.post(BETS, slip(home("mk-2"), stake=300), format="json", headers={"Idempotency-Key": "k2"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "LIMIT_REACHED")
    assert cash(player) == 2_000  # nothing taken
    place(api, home("mk-2"), stake=200, key="k3")
    assert cash(player) == 1_800
    assert audit_clean()


def test_exposure_comes_back_to_zero_when_every_bet_is_settled(api, player, seq):
    place(api, home("mk-1"), stake=500, key="a")
    place(api, ("mk-1-away", "2.40", 1), stake=500, key="b")
    place(api, home("mk-2"), home("mk-3"), stake=200, key="c")
    place(api, ("mk-3-draw", "3.20", 1), stake=300, key="d")
    assert exposure_as_recomputed()

    send(result(seq, "mk-1", winners=["mk-1-home"]), result(seq + 1, "mk-2", winners=["mk-2-home"]))
    settle()
    assert exposure_as_recomputed()
    assert selectors.stored_exposure() != {}

    send(result(seq + 2, "mk-3", winners=["mk-3-draw"]))
    settle()
    assert selectors.stored_exposure() == {} == selectors.recompute_exposure()
    assert set(Exposure.objects.values_list("amount", flat=True)) == {0}
    assert audit_clean()


def test_the_sweep_settles_a_market_whose_settlement_never_ran(api, player, seq):
    """The workers' hand-over is lost (a crash after the feed's commit): the sweep finds the market
    by its result, which no settlement has recorded as done."""
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    market = bet.legs.get().market_id
    assert selectors.list_markets_to_settle(limit=10) == [market]

    assert settle() == 1
    assert fresh(bet).status == "won"
    assert selectors.list_markets_to_settle(limit=10) == []


def test_a_bet_claimed_by_another_settler_waits_for_its_lease(api, player, seq):
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    now = bet.placed_at + dt.timedelta(minutes=1)
    claimed = locks.claim_bets_to_settle(market_pk=None, limit=10, now=now, lease=dt.timedelta(seconds=60))
    assert claimed == [bet.pk]

    assert locks.claim_bets_to_settle(market_pk=None, limit=10, now=now, lease=dt.timedelta(seconds=60)) == []
    later = now + dt.timedelta(seconds=61)
    assert locks.claim_bets_to_settle(market_pk=None, limit=10, now=later, lease=dt.timedelta(seconds=60)) == [bet.pk]


# --- the player and the back office --------------------------------------------------------------


def test_the_player_sees_the_status_and_the_payout(api, player, seq):
    bet = place(api, home())
    body = api.get(f"{BETS}/{bet.public_id}").json()
    assert (body["status"], body["payout"], body["settled_at"]) == ("accepted", None, None)

    send(result(seq, winners=["mk-1-home"]))
    settle()

    body = api.get(f"{BETS}/{bet.public_id}").json()
    assert (body["status"], body["payout"], body["potential_payout"]) == ("won", 3_100, 3_100)
    assert body["settled_at"] is not None
    assert api.get(BETS).json()["results"][0]["status"] == "won"
    # A replay of the placement still answers the placement's answer.
    replay = api.post(BETS, slip(home()), format="json", headers={"Idempotency-Key": "k1"}).json()
    assert (replay["status"], replay["payout"]) == ("accepted", None)


def test_a_settled_bet_reaches_the_player_as_its_win_and_a_bet_settled_notice(
    api, player, seq, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.realtime import push as push_module
    from apps.realtime import receivers as realtime

    sent = []
    monkeypatch.setattr(realtime, "push", lambda messages: sent.extend(messages))
    monkeypatch.setattr(push_module, "push", lambda messages: sent.extend(messages))
    won = place(api, home(), key="a")
    lost = place(api, ("mk-2-draw", "3.20", 1), key="b")
    send(result(seq, winners=["mk-1-home"]), result(seq + 1, "mk-2", winners=["mk-2-home"]))

    with django_capture_on_commit_callbacks(execute=True):
        settle()

    group = f"player.{player.pk}"
    frames = [(message["type"], message["frame"]) for to, message in sent if to == group]
    notices = {frame["data"]["bet_id"]: frame for kind, frame in frames if kind == "player.notice"}
    assert notices[lost.public_id] == {
        "type": "notice", "kind": "bet_settled", "message": "Your bet has been settled.",
        "data": {"bet_id": lost.public_id, "status": "lost", "payout": 0, "currency": "EUR"},
    }  # fmt: skip
    assert notices[won.public_id]["data"] == {"bet_id": won.public_id, "status": "won", "payout": 3_100,
                                              "currency": "EUR"}  # fmt: skip
    # One wallet frame, the win's, just before the winning bet's notice; the loss has none.
    kinds = [(kind, frame.get("data", {}).get("bet_id")) for kind, frame in frames]
    assert [kind for kind, _ in kinds].count("wallet.updated") == 1
    win_at = kinds.index(("wallet.updated", None))
    assert kinds[win_at + 1] == ("player.notice", won.public_id)
    assert frames[win_at][1]["transaction"]["kind"] == "win"

    # A resettlement is told too.
    sent.clear()
    send(result(seq + 2, winners=["mk-1-away"]))
    with django_capture_on_commit_callbacks(execute=True):
        settle()
    notices = [message["frame"] for to, message in sent if to == group and message["type"] == "player.notice"]
    assert notices == [{
        "type": "notice", "kind": "bet_settled", "message": "Your bet has been resettled.",
        "data": {"bet_id": won.public_id, "status": "lost", "payout": 0, "currency": "EUR"},
    }]  # fmt: skip


def test_winning_bets_settle_in_a_pinned_number_of_queries(api, player, seq, django_assert_num_queries):
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))

    # The bets with their legs and selections, and their markets, read once for a whole batch
    # (2); the wallet's batch: the players' accounts locked, the ids' look-up, the rounds' stakes
    # (3), and the wins' ledger rows with their outbox rows, one statement for the whole batch
    # (1); the bets' updates with their settlement rows (one statement), the event's outbox row,
    # the exposure rows locked and moved (one statement) (3); and the test's savepoint and its
    # release around the durable transaction (2).
    with django_assert_num_queries(11):
        assert settlement.settle_bets([bet.pk]) == 1
    assert fresh(bet).status == "won"


def test_a_batch_of_winning_bets_costs_the_statements_of_one(api, player, seq, django_assert_num_queries):
    """Five wins of one player in a batch: the ledger's rows, the bets and the exposure are
    written set-wise, so the batch costs what one win does (the player's account written once, as
    the last of the five left it)."""
    bets = [place(api, home(), stake=100, key=f"k{n}") for n in range(5)]
    send(result(seq, winners=["mk-1-home"]))

    with django_assert_num_queries(11):
        assert settlement.settle_bets([bet.pk for bet in bets]) == 5
    assert cash(player) == 10_000 - 500 + 5 * 310
    assert audit_clean()


def test_the_wallet_reclaims_from_cash_then_as_debt(player):
    ref = ExternalRef(intake.ORIGIN, "bet_x:settle:2", "f")
    posted = wallet_services.reclaim_win(player_id=player.pk, currency="EUR", amount=12_000, ref=ref, round_id="bet_x")
    again = wallet_services.reclaim_win(player_id=player.pk, currency="EUR", amount=12_000, ref=ref, round_id="bet_x")

    assert (posted.balance, again.replayed) == (0, True)
    assert (cash(player), debt(player)) == (0, 2_000)
    assert Transaction.objects.filter(kind="resettlement").count() == 1
    assert audit_clean()


# --- what the database refuses -----------------------------------------------------------------------


def refused(statement: str, params: tuple = ()) -> str:
    """Run `statement` in a savepoint, expect the database to refuse it, and return its message."""
    from django.db import IntegrityError, connection, transaction

    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return str(error.value)


@pytest.fixture
def settled_win(api, player, seq) -> Bet:
    bet = place(api, home())
    send(result(seq, winners=["mk-1-home"]))
    settle()
    return fresh(bet)


def test_a_settled_bet_needs_its_payout_and_a_standing_one_has_none(settled_win):
    assert "sportsbook_bet_settled_with_payout" in refused(
        "UPDATE sportsbook_bet SET payout = NULL WHERE id = %s", (settled_win.pk,))  # fmt: skip
    assert "sportsbook_bet_settled_with_payout" in refused(
        "UPDATE sportsbook_bet SET status = 'accepted' WHERE id = %s", (settled_win.pk,))  # fmt: skip


def test_a_payout_above_the_potential_one_or_a_paying_loss_is_refused(settled_win):
    assert "sportsbook_bet_payout_range" in refused(
        "UPDATE sportsbook_bet SET payout = potential_payout + 1 WHERE id = %s", (settled_win.pk,))  # fmt: skip
    assert "sportsbook_bet_lost_pays_nothing" in refused(
        "UPDATE sportsbook_bet SET status = 'lost' WHERE id = %s", (settled_win.pk,))  # fmt: skip
    assert "sportsbook_bet_void_pays_the_stake" in refused(
        "UPDATE sportsbook_bet SET status = 'void' WHERE id = %s", (settled_win.pk,))  # fmt: skip


def test_a_bet_is_in_its_players_currency(settled_win):
    """A bet's player and currency are one foreign key (to the player's id and currency)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS sportsbook_bet_player_currency_fk IMMEDIATE")

    assert "sportsbook_bet_player_currency_fk" in refused(
        "UPDATE sportsbook_bet SET currency_id = 'SEK' WHERE id = %s", (settled_win.pk,))  # fmt: skip


def test_a_settlement_is_once_per_number_and_moves_money_exactly_when_its_payout_changed(settled_win):
    row = BetSettlement.objects.get(bet=settled_win)
    copy = ("INSERT INTO sportsbook_betsettlement (bet_id, n, status, payout, difference, outcome, transaction_id, "
            "market_settled_at, settled_at) SELECT bet_id, %s, %s, %s, %s, outcome, %s, market_settled_at, "
            "settled_at FROM sportsbook_betsettlement WHERE id = %s")  # fmt: skip
    assert "sportsbook_settlement_once_per_n" in refused(copy, (1, "lost", 0, 0, None, row.pk))
    assert "sportsbook_settlement_transaction_when_moved" in refused(copy, (2, "won", 3_200, 100, None, row.pk))
    assert "sportsbook_settlement_lost_pays_nothing" in refused(copy, (2, "lost", 5, -3_095, None, row.pk))
    assert "sportsbook_settlement_first_pays_all" in refused(
        "UPDATE sportsbook_betsettlement SET difference = 1 WHERE id = %s", (row.pk,))  # fmt: skip


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_the_back_office_shows_a_bets_settlement_and_its_history(settled_win, client, role):
    client.force_login(make_staff(role))
    response = client.get(f"/backoffice/sportsbook/bet/{settled_win.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "mk-1 mk-1-home: won" in page  # the settlement's row, with its legs' results
    assert Transaction.objects.get(kind="win").public_id in page or "3100" in page
    # Read-only: no form to change the bet or its settlements.
    assert 'name="_save"' not in page


def test_a_win_taken_back_by_a_resettlement_counts_as_lost_again(api, player, seq):
    """The player's net result (what a loss limit and the reality check count) after a bet of
    1,000 won (3,100) and then resettled to a loss: -1,000, as if it had lost at once."""
    from apps.compliance import selectors as compliance

    bet = place(api, home())
    since = bet.placed_at - dt.timedelta(seconds=1)
    send(result(seq, winners=["mk-1-home"]))
    settle()
    assert compliance.session_result(player.pk, since) == 2_100

    send(result(seq + 1, winners=["mk-1-away"]))
    settle()
    assert compliance.session_result(player.pk, since) == -1_000


def test_a_batch_of_wins_meeting_a_bet_settled_meanwhile_is_rolled_back_and_paid_one_by_one(api, player, seq):
    """Two winning bets read for a batch; before it is paid, another settler settles the first as
    lost (the result changed). The batch is rolled back whole, its bets are settled one by one:
    the first keeps the other's settlement, the second is paid; the sweep then resettles it."""
    first, second = place(api, home(), key="a"), place(api, home(), key="b")
    send(result(seq, winners=["mk-1-home"]))
    stale = []
    for bet in (first, second):
        bet = fresh(bet)
        legs = list(bet.legs.select_related("selection__market"))
        outcome = settlement.outcome_of(bet, legs)
        stale.append(settlement.Plan(bet, legs, outcome, 1, outcome.payout))
    send(result(seq + 1, winners=["mk-1-away"]))
    assert settlement.settle_bets([first.pk]) == 1  # lost, by the other settler

    assert settlement._settle_wins("EUR", stale) == 1

    assert (fresh(first).status, fresh(first).payout) == ("lost", 0)
    assert (fresh(second).status, fresh(second).payout) == ("won", 3_100)
    assert list(Transaction.objects.filter(kind="win").values_list("external_id", flat=True)) == [
        f"{second.public_id}:settle:1"
    ]
    assert audit_clean()
    # The second was paid on a result that has changed since: the sweep resettles it.
    settle()
    assert (fresh(second).status, cash(player)) == ("lost", 8_000)
    assert selectors.stored_exposure() == {} == selectors.recompute_exposure()
    assert audit_clean()
