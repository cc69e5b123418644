"""Worked examples of bonus money, each a story told through the real services: the cashier's
deposit and its grant, a game provider's bets, wins and rollbacks through the wallet, a withdrawal
through the cashier, the expiry sweep. At every step every account of the story is checked (the
player's cash and bonus, the bonus pool, the bonus's wagering), and the ledger audits clean at
the end.

The campaign is WELCOME100's terms: a 100 % match of the next deposit up to 100.00, wagering 10 x
the bonus, table games counted at 10 % and every other game at 100 %, a maximum stake of 50.00
while wagering, expiry after 30 days, forfeited on withdrawal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db.models import Sum
from django.utils import timezone

from apps.bonuses import selectors, services
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign, pool
from apps.common.idempotency import ExternalRef, fingerprint
from apps.compliance.errors import LimitReached
from apps.games import services as games
from apps.payments.choices import EventType
from apps.payments.tests.factories import (
    a_provider,
    account_balance,
    assert_audit_clean,
    event,
    post_webhook,
    request_withdrawal,
    start_deposit,
    verified_player,
)
from apps.wallet import selectors as wallet_selectors
from apps.wallet import services as wallet
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.errors import InsufficientFunds
from apps.wallet.models import Entry, Transaction
from apps.wallet.tests.factories import system_balance

pytestmark = pytest.mark.django_db

STUDIO = "story-games"
SLOT, ROULETTE = "story-slot", "story-roulette"
WELCOME = {
    "kind": "deposit_match", "match_percent": 100, "cap": 10_000, "trigger": "any_deposit", "min_deposit": 1,
    "wagering_multiple": 10, "default_weight_percent": 100, "max_stake": 5_000, "expires_after_days": 30,
    "forfeit_on_withdrawal": True, "one_per_player": True,
}  # fmt: skip


@pytest.fixture(autouse=True)
def cashier_and_games():
    a_provider()
    studio = games.save_provider(code=STUDIO, secret="story-secret")
    games.save_game(provider=studio, code=SLOT, name="Story slot", game_type="slots")
    games.save_game(provider=studio, code=ROULETTE, name="Story roulette", game_type="table")


@pytest.fixture
def welcome():
    return campaign("WELCOME100", weights=[services.Weight(game_type="table", percent=10)], **WELCOME)


def clearing() -> int:
    """The payment providers' clearing accounts in EUR, together."""
    entries = Entry.objects.filter(account__kind=AccountKind.CLEARING, account__currency_id="EUR")
    return entries.aggregate(total=Sum("amount", default=0))["total"]


class Story:
    """One player's story: the provider's calls, and the check of every account after each. What
    the house and the payment provider should hold is counted from the story's own calls (each
    counted once it succeeded), not read from the system under test."""

    def __init__(self, player, committed):
        self.player, self.committed = player, committed
        self.pool_at_start, self.house_at_start, self.clearing_at_start = pool(), system_balance("house"), clearing()
        self.takings = self.deposited = 0  # the house's stakes less wins and refunds; the deposits
        self.stakes: dict[str, int] = {}

    def deposit(self, amount: int) -> None:
        intent = start_deposit(self.player, amount)
        with self.committed():
            assert post_webhook(event(EventType.DEPOSIT_SUCCEEDED, intent.public_id, amount)).status_code == 200
        self.deposited += amount

    def _ref(self, name: str, amount: int) -> ExternalRef:
        external_id = f"{name}-{uuid.uuid4().hex[:12]}"
        return ExternalRef(f"provider:{STUDIO}", external_id, fingerprint(name, {"amount": amount}))

    def bet(self, round_id: str, amount: int, game: str = SLOT) -> ExternalRef:
        ref = self._ref("bet", amount)
        with self.committed():
            wallet.place_bet(player_id=self.player.pk, currency="EUR", amount=amount, ref=ref, round_id=round_id,
                             game_id=game)  # fmt: skip
        self.takings += amount
        self.stakes[ref.external_id] = amount
        return ref

    def win(self, round_id: str, amount: int, game: str = SLOT) -> None:
        with self.committed():
            wallet.settle_win(player_id=self.player.pk, currency="EUR", amount=amount, ref=self._ref("win", amount),
                              round_id=round_id, game_id=game)  # fmt: skip
        self.takings -= amount

    def rollback(self, round_id: str, placed: ExternalRef, game: str = SLOT) -> None:
        with self.committed():
            wallet.rollback_bet(player_id=self.player.pk, currency="EUR", rolled_back_external_id=placed.external_id,
                                ref=self._ref("rollback", 0), round_id=round_id, game_id=game)  # fmt: skip
        self.takings -= self.stakes[placed.external_id]

    def bonus(self) -> Bonus:
        return Bonus.objects.get(player=self.player)

    def check(
        self, *, cash: int, bonus: int, pool_paid: int, wagered: int, status: str = "active", pending: int = 0
    ) -> None:
        """Every account of the story: the player's cash, bonus money and money pending
        withdrawal, what the bonus pool has paid out net, the house's takings, the payment
        provider's clearing account, and the bonus's wagering and status."""
        state = wallet_selectors.get_wallet_state(self.player.pk)
        row = self.bonus()
        assert (state.cash, state.bonus) == (cash, bonus)
        assert account_balance(self.player, AccountKind.PENDING_WITHDRAWAL) == pending
        assert self.pool_at_start - pool() == pool_paid
        assert system_balance("house") - self.house_at_start == self.takings
        assert clearing() - self.clearing_at_start == -self.deposited
        assert (row.wagering_done, row.status) == (wagered, status)


def test_a_deposit_matched_wagered_across_games_partly_paid_from_bonus_rolled_back_and_converted(
    clock, committed, welcome
):
    alice = verified_player()
    services.opt_in(alice, "WELCOME100")
    story = Story(alice, committed)

    # Alice deposits 100.00: her cash holds it, the pool pays her a bonus of 100.00 to wager 10 x.
    story.deposit(10_000)
    story.check(cash=10_000, bonus=10_000, pool_paid=10_000, wagered=0)
    assert story.bonus().wagering_required == 100_000

    # A 40.00 spin on the slot comes from her cash first, and counts in full.
    story.bet("r1", 4_000)
    story.check(cash=6_000, bonus=10_000, pool_paid=10_000, wagered=4_000)

    # 50.00 on roulette, a table game: cash again, but it counts 10 %, 5.00.
    story.bet("r2", 5_000, game=ROULETTE)
    story.check(cash=1_000, bonus=10_000, pool_paid=10_000, wagered=4_500)

    # 50.01 is above the maximum stake while wagering: refused, and nothing moves or counts.
    with pytest.raises(LimitReached) as refused:
        story.bet("r3", 5_001)
    assert (refused.value.code, refused.value.details["reason"]) == ("LIMIT_REACHED", "bonus_max_stake")
    story.check(cash=1_000, bonus=10_000, pool_paid=10_000, wagered=4_500)

    # 30.00 on the slot: the last 10.00 of cash, then 20.00 of bonus money.
    story.bet("r3", 3_000)
    story.check(cash=0, bonus=8_000, pool_paid=10_000, wagered=7_500)

    # The round wins 60.00: a third is cash, two thirds bonus money, as the stake was paid.
    story.win("r3", 6_000)
    story.check(cash=2_000, bonus=12_000, pool_paid=10_000, wagered=7_500)

    # A 50.00 spin (20.00 cash, 30.00 bonus) that the provider rolls back: each part goes back
    # where it came from, and the stake no longer counts.
    placed = story.bet("r4", 5_000)
    story.check(cash=0, bonus=9_000, pool_paid=10_000, wagered=12_500)
    story.rollback("r4", placed)
    story.check(cash=2_000, bonus=12_000, pool_paid=10_000, wagered=7_500)

    # Eighteen rounds of 50.00 that each win 50.00 back: 90.00 more to wager.
    for n in range(18):
        story.bet(f"s{n}", 5_000)
        story.win(f"s{n}", 5_000)
    story.check(cash=2_000, bonus=12_000, pool_paid=10_000, wagered=97_500)

    # A 25.00 spin (20.00 cash, 5.00 bonus) completes the wagering: what is left of the bonus,
    # 115.00, converts to cash in a transaction of its own, right after the stake.
    story.bet("last", 2_500)
    story.check(cash=11_500, bonus=0, pool_paid=10_000, wagered=100_000, status="converted")
    converted = Transaction.objects.get(player=alice, kind=TransactionKind.BONUS_CONVERTED)
    assert (converted.amount, story.bonus().ended_amount, story.bonus().remaining) == (0, 11_500, 0)

    # The round's win comes after the bonus converted: its bonus share is cash, as the bonus became.
    story.win("last", 5_000)
    story.check(cash=16_500, bonus=0, pool_paid=10_000, wagered=100_000, status="converted")

    # Cash can be staked above 50.00 again: no bonus is being wagered.
    story.bet("free", 6_000)
    story.check(cash=10_500, bonus=0, pool_paid=10_000, wagered=100_000, status="converted")
    assert_audit_clean()


def test_a_bonus_not_wagered_in_time_expires_at_its_time_and_the_sweep_returns_it(clock, committed, welcome):
    bob = verified_player()
    services.opt_in(bob, "WELCOME100")
    story = Story(bob, committed)
    story.deposit(2_000)
    story.check(cash=2_000, bonus=2_000, pool_paid=2_000, wagered=0)
    story.bet("r1", 3_000)  # 20.00 cash, 10.00 bonus
    story.check(cash=0, bonus=1_000, pool_paid=2_000, wagered=3_000)
    expires_at = story.bonus().expires_at
    assert expires_at == timezone.now() + dt.timedelta(days=30)

    # One second before its time it is active, and its money is there to stake.
    clock.move_to(expires_at - dt.timedelta(seconds=1))
    assert services_list(bob)[0]["status"] == "active"

    # At its time, before any sweep: read as expired, holding nothing, and a stake of it refused.
    clock.move_to(expires_at)
    assert services_list(bob)[0] == {"status": "expired", "remaining": 0}
    with pytest.raises(InsufficientFunds):
        story.bet("r2", 500)
    story.check(cash=0, bonus=1_000, pool_paid=2_000, wagered=3_000)

    # The sweep makes the ledger follow: the 10.00 left goes back to the pool, at the bonus's time.
    with committed():
        assert services.expire_due_bonuses() == 1
    story.check(cash=0, bonus=0, pool_paid=1_000, wagered=3_000, status="expired")
    assert (story.bonus().ended_at, story.bonus().ended_amount) == (expires_at, 1_000)
    assert Transaction.objects.get(player=bob, kind=TransactionKind.BONUS_EXPIRED).amount == -1_000
    with committed():
        assert services.expire_due_bonuses() == 0  # a second pass finds nothing
    assert_audit_clean()


def test_a_stake_after_the_expiry_ends_the_bonus_first_and_spends_only_cash(clock, committed, welcome):
    carol = verified_player()
    services.opt_in(carol, "WELCOME100")
    story = Story(carol, committed)
    story.deposit(2_000)
    clock.move_to(story.bonus().expires_at + dt.timedelta(minutes=5))

    story.bet("r1", 500)  # no sweep ran: the stake ends the bonus in its own transaction first

    story.check(cash=1_500, bonus=0, pool_paid=0, wagered=0, status="expired")
    kinds = list(Transaction.objects.filter(player=carol).order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == ["bonus_expired", "bet"]
    assert_audit_clean()


def test_a_withdrawal_before_the_wagering_is_met_forfeits_the_bonus_and_cannot_take_bonus_money(
    clock, committed, welcome
):
    dave = verified_player()
    services.opt_in(dave, "WELCOME100")
    story = Story(dave, committed)
    story.deposit(5_000)
    story.check(cash=5_000, bonus=5_000, pool_paid=5_000, wagered=0)
    story.bet("r1", 4_000)
    story.win("r1", 3_000)  # a win on a cash stake is cash
    story.check(cash=4_000, bonus=5_000, pool_paid=5_000, wagered=4_000)

    # Bonus money cannot be withdrawn: 40.01 is more than his cash, and nothing moves or ends.
    with pytest.raises(InsufficientFunds):
        request_withdrawal(dave, 4_001)
    story.check(cash=4_000, bonus=5_000, pool_paid=5_000, wagered=4_000)

    # Withdrawing his cash forfeits the bonus in the same transaction: its 50.00 back to the pool.
    with committed():
        request_withdrawal(dave, 4_000)
    story.check(cash=0, bonus=0, pool_paid=0, wagered=4_000, status="forfeited", pending=4_000)
    assert story.bonus().ended_amount == 5_000
    assert wallet_selectors.get_wallet_state(dave.pk).balance == 0
    kinds = list(Transaction.objects.filter(player=dave).order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == ["bonus_forfeited", "withdrawal"]
    assert_audit_clean()


def services_list(player) -> list[dict]:
    """The player's bonuses as the API reads them: status and remaining."""
    rows, _ = selectors.list_bonuses(player)
    return [{"status": row.status, "remaining": row.remaining} for row in rows]
