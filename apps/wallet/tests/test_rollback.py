"""services.rollback_bet: refund exactly what a bet took, to the accounts it came from; a rollback
of an unknown bet is recorded and that bet is refused later."""

import pytest

from apps.accounts.choices import PlayerStatus
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_player
from apps.wallet import services
from apps.wallet.errors import (
    CurrencyMismatch,
    DuplicateTransaction,
    RollbackNotAllowed,
    TransactionRolledBack,
    UnknownPlayer,
)
from apps.wallet.models import Entry, Transaction
from apps.wallet.services import Posted
from apps.wallet.tests.factories import (
    ORIGIN,
    a_ref,
    bet,
    entries_of,
    funded_player,
    grant_bonus,
    ledger_rows,
    rollback,
    system_balance,
    wallet,
    win,
)

pytestmark = pytest.mark.django_db


def test_rollback_refunds_the_bet_to_cash(django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(1000)
    bet_ref = a_ref()
    placed = bet(player, 300, ref=bet_ref)
    ref = a_ref()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = services.rollback_bet(
            player_id=player.pk,
            currency="EUR",
            rolled_back_external_id=bet_ref.external_id,
            ref=ref,
            round_id="round-1",
            game_id="slot-9",
        )
    # then
    tx = Transaction.objects.get(origin=ORIGIN, external_id=ref.external_id)
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=1000, version=3, replayed=False)
    assert wallet(player) == (1000, 0, 3)
    assert (tx.kind, tx.amount, tx.reverses_id, tx.reverses_external_id) == (
        "rollback",
        300,
        int(placed.transaction_id),
        bet_ref.external_id,
    )
    assert (tx.balance_after, tx.wallet_version, tx.round_id, tx.game_id) == (1000, 3, "round-1", "slot-9")
    assert entries_of(tx.pk) == [("cash", 300, 1000, 3), ("house", -300, None, None)]
    assert system_balance("house") == 0
    assert len(callbacks) == 1
    assert posted == [
        {
            "player_id": str(player.pk),
            "brand_id": player.brand_id,
            "transaction_id": str(tx.pk),
            "kind": "rollback",
            "amount": 300,
            "version": 3,
            "balance": 1000,
            "cash": 1000,
            "bonus": 0,
            "currency": "EUR",
            "game_id": "slot-9",
            "created_at": tx.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_rollback_refunds_to_the_accounts_the_bet_came_from():
    # given 300 cash and 500 bonus; a bet of 400 takes all the cash and 100 bonus
    player = funded_player(300)
    grant_bonus(player, 500)
    bet_ref = a_ref()
    bet(player, 400, ref=bet_ref)
    # and a win of 50 to cash since
    win(player, 50, round_id="round-2")
    # when the bet is rolled back
    answer = rollback(player, bet_ref.external_id)
    # then cash gets 300 back and bonus 100, not all of it to cash
    assert wallet(player) == (350, 500, 5)
    assert entries_of(answer.transaction_id) == [
        ("cash", 300, 350, 5),
        ("bonus", 100, 500, 3),
        ("house", -400, None, None),
    ]
    assert (answer.balance, answer.version) == (850, 5)


def test_rollback_of_a_bet_paid_from_bonus_only_refunds_the_bonus():
    player = make_player()
    grant_bonus(player, 500)
    bet_ref = a_ref()
    bet(player, 200, ref=bet_ref)

    answer = rollback(player, bet_ref.external_id)

    assert wallet(player) == (0, 500, 3)
    assert entries_of(answer.transaction_id) == [("bonus", 200, 500, 3), ("house", -200, None, None)]


def test_rollback_of_an_unknown_bet_is_recorded_and_the_bet_refused_later(django_capture_on_commit_callbacks, posted):
    # given
    player = funded_player(1000)
    entries_before = Entry.objects.count()
    ref = a_ref()
    # when the rollback arrives before its bet
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = rollback(player, "bet-not-yet-seen", ref=ref)
    # then it succeeds, is recorded, moves nothing and keeps the version
    tx = Transaction.objects.get(origin=ORIGIN, external_id=ref.external_id)
    assert answer == Posted(str(tx.pk), str(player.pk), "EUR", balance=1000, version=1, replayed=False)
    assert (tx.kind, tx.amount, tx.reverses, tx.reverses_external_id) == ("rollback", 0, None, "bet-not-yet-seen")
    assert (tx.balance_after, tx.wallet_version) == (1000, 1)
    assert Entry.objects.count() == entries_before
    assert callbacks == []
    assert posted == []
    # and when the bet arrives it is refused and moves nothing
    before = ledger_rows()
    with pytest.raises(TransactionRolledBack):
        bet(player, 300, ref=a_ref(external_id="bet-not-yet-seen"))
    assert ledger_rows() == before
    assert wallet(player) == (1000, 0, 1)
    assert posted == []


def test_rollback_of_a_blocked_players_bet_is_refunded():
    player = funded_player(1000)
    bet_ref = a_ref()
    bet(player, 300, ref=bet_ref)
    Player.objects.filter(pk=player.pk).update(status=PlayerStatus.CLOSED)

    answer = rollback(player, bet_ref.external_id)

    assert (answer.balance, answer.version) == (1000, 3)


def test_replay_returns_the_first_answer_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    bet_ref, ref = a_ref(), a_ref()
    bet(player, 300, ref=bet_ref)
    first = rollback(player, bet_ref.external_id, ref=ref)
    bet(player, 100)
    before = ledger_rows()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = rollback(player, bet_ref.external_id, ref=ref)

    assert again == Posted(first.transaction_id, str(player.pk), "EUR", balance=1000, version=3, replayed=True)
    assert ledger_rows() == before
    assert wallet(player) == (900, 0, 4)
    assert callbacks == []
    assert posted == []


def test_same_id_with_another_body_is_a_duplicate_and_moves_nothing(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    bet_ref, other_bet_ref, ref = a_ref(), a_ref(), a_ref()
    bet(player, 300, ref=bet_ref)
    bet(player, 200, ref=other_bet_ref)
    rollback(player, bet_ref.external_id, ref=ref)
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DuplicateTransaction) as refused,
    ):
        rollback(player, other_bet_ref.external_id, ref=a_ref(external_id=ref.external_id, body={"other": True}))

    assert refused.value.extra == {"balance": 800, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_rollback_of_a_win_is_not_allowed(django_capture_on_commit_callbacks, posted):
    player = funded_player(1000)
    win_ref = a_ref()
    win(player, 500, ref=win_ref)
    before = ledger_rows()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RollbackNotAllowed) as refused,
    ):
        rollback(player, win_ref.external_id)

    assert refused.value.code == "ROLLBACK_NOT_ALLOWED"
    assert refused.value.extra == {"balance": 1500, "currency": "EUR"}
    assert ledger_rows() == before
    assert callbacks == []
    assert posted == []


def test_rollback_of_a_rollback_is_not_allowed():
    player = funded_player(1000)
    bet_ref, rollback_ref = a_ref(), a_ref()
    bet(player, 300, ref=bet_ref)
    rollback(player, bet_ref.external_id, ref=rollback_ref)
    before = ledger_rows()

    with pytest.raises(RollbackNotAllowed):
        rollback(player, rollback_ref.external_id)

    assert ledger_rows() == before


def test_second_rollback_of_a_bet_with_another_id_is_not_allowed(django_capture_on_commit_callbacks, posted):
    # given a bet rolled back once
    player = funded_player(1000)
    bet_ref = a_ref()
    bet(player, 300, ref=bet_ref)
    rollback(player, bet_ref.external_id)
    before = ledger_rows()
    # when another rollback names it
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RollbackNotAllowed) as refused,
    ):
        rollback(player, bet_ref.external_id)
    # then the bet is not refunded twice
    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before
    assert wallet(player) == (1000, 0, 3)
    assert callbacks == []
    assert posted == []


def test_second_rollback_of_an_unknown_bet_with_another_id_is_not_allowed():
    player = funded_player(1000)
    rollback(player, "bet-not-yet-seen")
    before = ledger_rows()

    with pytest.raises(RollbackNotAllowed):
        rollback(player, "bet-not-yet-seen")

    assert ledger_rows() == before


def test_rollback_of_another_players_bet_is_not_allowed():
    owner, other = funded_player(1000), funded_player(1000)
    bet_ref = a_ref()
    bet(owner, 300, ref=bet_ref)
    before = ledger_rows()

    with pytest.raises(RollbackNotAllowed) as refused:
        rollback(other, bet_ref.external_id)

    assert refused.value.extra == {"balance": 1000, "currency": "EUR"}
    assert ledger_rows() == before
    assert (wallet(owner), wallet(other)) == ((700, 0, 2), (1000, 0, 1))


def test_rollback_names_a_bet_of_its_own_origin_only():
    # given a bet from provider one
    player = funded_player(1000)
    bet_ref = a_ref("provider:one")
    bet(player, 300, ref=bet_ref)
    # when provider two rolls back a bet with the same id
    answer = rollback(player, bet_ref.external_id, ref=a_ref("provider:two"))
    # then that is a bet provider two never sent: recorded, nothing refunded
    assert (answer.balance, answer.version) == (700, 2)
    assert Transaction.objects.get(pk=answer.transaction_id).reverses is None
    assert wallet(player) == (700, 0, 2)


def test_rollback_in_another_currency_is_refused():
    player = funded_player(1000)
    bet_ref = a_ref()
    bet(player, 300, ref=bet_ref)
    before = ledger_rows()

    with pytest.raises(CurrencyMismatch) as refused:
        services.rollback_bet(
            player_id=player.pk,
            currency="USD",
            rolled_back_external_id=bet_ref.external_id,
            ref=a_ref(),
            round_id="round-1",
            game_id="g",
        )

    assert refused.value.extra == {"balance": 700, "currency": "EUR"}
    assert ledger_rows() == before


def test_rollback_for_an_unknown_player_is_refused():
    missing = (Player.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    before = ledger_rows()

    with pytest.raises(UnknownPlayer):
        services.rollback_bet(
            player_id=missing, currency="EUR", rolled_back_external_id="x", ref=a_ref(), round_id="r", game_id="g"
        )

    assert ledger_rows() == before
