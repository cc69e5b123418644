"""A held stake (`place_bet(held=True)`, a sportsbook bet in its in-play delay) and its release
(`release_held_bet`), as worked examples: where the money is after each step, the player's
version, and what a second or contrary release does."""

import pytest

from apps.wallet import audit, errors, selectors, services
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import a_ref, entries_of, funded_player, grant_bonus, ledger_rows, system_balance
from apps.wallet.tests.factories import wallet as wallet_of

pytestmark = pytest.mark.django_db

ORIGIN = "sportsbook"


def held_bet(player, amount: int, external_id: str = "bet-1") -> services.Posted:
    return services.place_bet(player_id=player.pk, currency="EUR", amount=amount, round_id="bet_1", game_id="",
                              ref=a_ref(ORIGIN, external_id=external_id), held=True)  # fmt: skip


def release(player, accept: bool, external_id: str = "bet-1") -> services.Posted:
    return services.release_held_bet(player_id=player.pk, currency="EUR", held_external_id=external_id,
                                     origin=ORIGIN, accept=accept)  # fmt: skip


def assert_audit_clean() -> None:
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_a_held_stake_leaves_the_player_for_the_pending_bets_account_not_the_house():
    player = funded_player(1_000)  # version 1

    posted = held_bet(player, 300)

    assert (posted.balance, posted.version) == (700, 2)
    assert entries_of(posted.transaction_id) == [("cash", -300, 700, 2), ("pending_bets", 300, None, None)]
    assert (system_balance("pending_bets"), system_balance("house")) == (300, 0)
    assert_audit_clean()


def test_accepted_it_moves_on_to_the_house_and_the_player_does_not_move():
    player = funded_player(1_000)
    held_bet(player, 300)

    posted = release(player, accept=True)

    assert (posted.balance, posted.version) == (700, 2)
    accepted = Transaction.objects.get(pk=posted.transaction_id)
    assert (accepted.kind, accepted.amount, accepted.round_id) == ("bet_accepted", 0, "bet_1")
    assert entries_of(accepted.pk) == [("house", 300, None, None), ("pending_bets", -300, None, None)]
    assert wallet_of(player) == (700, 0, 2)
    assert (system_balance("pending_bets"), system_balance("house")) == (0, 300)
    # No frame, and nothing on the player's history: a resume replays versions 1 and 2 once each.
    assert [event["version"] for event in selectors.list_events_since(player.pk, 0, 10)] == [1, 2]
    assert [row.kind for row in selectors.list_transactions_page(player.pk).rows] == ["bet", "adjustment"]
    assert_audit_clean()


def test_rejected_it_comes_back_to_the_accounts_it_came_from():
    player = funded_player(100)
    grant_bonus(player, 500)  # version 2
    stake = held_bet(player, 400)  # 100 of cash, 300 of bonus

    posted = release(player, accept=False)

    refund = Transaction.objects.get(pk=posted.transaction_id)
    assert (refund.kind, refund.amount, refund.reverses_id) == ("rollback", 400, int(stake.transaction_id))
    assert wallet_of(player) == (100, 500, 4)
    assert (system_balance("pending_bets"), system_balance("house")) == (0, 0)
    assert_audit_clean()


def test_a_second_release_answers_the_first_and_a_contrary_one_is_refused():
    player = funded_player(1_000)
    held_bet(player, 300)
    first = release(player, accept=True)
    before = ledger_rows()

    again = release(player, accept=True)
    with pytest.raises(errors.DuplicateTransaction):
        release(player, accept=False)

    assert (again.transaction_id, again.replayed) == (first.transaction_id, True)
    assert ledger_rows() == before


def test_only_a_held_bet_of_this_player_can_be_released():
    player, other = funded_player(1_000), funded_player(1_000)
    held_bet(other, 300)
    before = ledger_rows()

    with pytest.raises(errors.RollbackNotAllowed):
        release(player, accept=True)
    with pytest.raises(errors.RollbackNotAllowed):
        release(player, accept=False, external_id="never-placed")

    assert ledger_rows() == before
