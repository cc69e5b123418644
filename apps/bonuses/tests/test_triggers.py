"""Grants on the event beside the deposit's: a registration grants the registration campaigns; a
bet whose period's stakes reach a wagering threshold grants at that bet; a cash-back pays a share
of each player's net losses at its period's end. Real registrations, bets, wins and rollbacks
through the accounts' and the wallet's services; the grants' money from the bonus pool."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.errors import UsernameTaken
from apps.accounts.models import Brand, Currency
from apps.accounts.tests.factories import PASSWORD, make_brand, make_player
from apps.bonuses import receivers, services, triggers
from apps.bonuses.models import Bonus, CashbackRun
from apps.bonuses.tests.factories import campaign
from apps.common.events import dispatch
from apps.common.models import OutboxEvent
from apps.compliance import services as compliance
from apps.payments.tests.factories import account_balance, assert_audit_clean, verified_player
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import a_ref, bet, rollback, win

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.datetime(2026, 3, 2, tzinfo=UTC)  # the clock fixture's day (it stands at noon)


# --- registration --------------------------------------------------------------------------------

WELCOME_GIFT = {"kind": "fixed", "amount": 500, "trigger": "registration", "requires_opt_in": False,
                "wagering_multiple": 5}  # fmt: skip


def test_a_registration_grants_the_registration_campaigns_the_player_may_have(clock, committed):
    make_brand("other", "Other Casino")
    campaign("GIFT", **WELCOME_GIFT)
    campaign("OTHERBRAND", **WELCOME_GIFT, brand=Brand.objects.get(code="other"))
    campaign("GIFTDE", **WELCOME_GIFT, countries=["DE"])
    campaign("LATER", **WELCOME_GIFT, starts_at=timezone.now() + dt.timedelta(days=1))

    with committed():
        player = make_player(country="MT")

    bonus = Bonus.objects.get(player=player)
    assert (bonus.campaign.code, bonus.amount, bonus.wagering_required) == ("GIFT", 500, 2_500)
    assert bonus.granted_at == player.created_at == timezone.now()
    assert bonus.grant_key == f"grant:{bonus.campaign_id}:registration:{player.pk}"
    assert account_balance(player, AccountKind.BONUS) == 500
    assert_audit_clean()


def test_a_registration_through_the_api_grants_after_the_account_and_its_limits_commit(clock, committed, api_client):
    make_brand()
    campaign("GIFT", **WELCOME_GIFT)
    body = {"username": "newplayer", "email": "new@example.com", "password": PASSWORD, "date_of_birth": "1990-05-17",
            "country": "MT", "currency": "EUR", "brand": "acme",
            "deposit_limits": [{"period": "24h", "amount": 5_000}]}  # fmt: skip

    with committed():
        response = api_client.post("/api/player/v1/auth/register", body, format="json")

    assert response.status_code == 201, response.content
    player_id = int(response.json()["player_id"])
    assert Bonus.objects.get(player_id=player_id).amount == 500


def test_the_registration_event_says_who_registered_and_a_redelivery_grants_once(clock, committed):
    campaign("GIFT", **WELCOME_GIFT)
    with committed():
        player = make_player(country="MT")
    [event] = OutboxEvent.objects.filter(name="accounts.player_registered")
    assert event.payload == {"player_id": str(player.pk), "brand": "acme", "country": "MT",
                             "registered_at": "2026-03-02T12:00:00Z"}  # fmt: skip

    from apps.accounts.signals import player_registered

    with committed():
        assert dispatch(event.pk, player_registered, event.payload) is True

    assert Bonus.objects.filter(player=player).count() == 1
    assert account_balance(player, AccountKind.BONUS) == 500


def test_a_registration_that_fails_sends_no_event(clock, committed):
    campaign("GIFT", **WELCOME_GIFT)
    make_player(username="taken")

    with committed(), pytest.raises(UsernameTaken):
        make_player(username="taken")

    assert OutboxEvent.objects.filter(name="accounts.player_registered").count() == 1
    assert Bonus.objects.count() == 0  # the first registration's event was not committed here


def test_a_registration_campaign_in_another_currency_grants_nothing(clock, committed):
    campaign("GIFT", **WELCOME_GIFT)  # EUR

    with committed():
        player = make_player(currency="USD")

    assert Bonus.objects.filter(player=player).exists() is False


# --- wagering threshold --------------------------------------------------------------------------

THRESHOLD = {"kind": "free_bet", "amount": 1_000, "trigger": "wagering_threshold", "wagering_threshold": 50_000,
             "wagering_period_days": 1, "requires_opt_in": False, "one_per_player": False,
             "allow_concurrent": True}  # fmt: skip


def bets(player, *amounts, committed) -> list[str]:
    """The player's bets, each committed with its after-commit work (the threshold grant)."""
    placed = []
    for amount in amounts:
        with committed():
            placed.append(bet(player, amount, round_id=f"r-{amount}-{len(placed)}").transaction_id)
    return placed


def test_a_threshold_crossed_at_23_58_30_grants_at_23_58_30_and_one_unit_below_does_not(clock, committed):
    crosses, short = verified_player(cash=100_000), verified_player(cash=100_000)
    campaign("HIGHROLLER", **THRESHOLD)
    clock.move_to(MONDAY.replace(hour=9))
    bets(crosses, 30_000, committed=committed)
    bets(short, 30_000, committed=committed)
    at = MONDAY.replace(hour=23, minute=58, second=30)
    clock.move_to(at)

    [crossing] = bets(crosses, 20_000, committed=committed)
    bets(short, 19_999, committed=committed)

    bonus = Bonus.objects.get(player=crosses)
    grant_tx = Transaction.objects.get(player=crosses, kind=TransactionKind.BONUS)
    assert bonus.granted_at == grant_tx.created_at == Transaction.objects.get(pk=crossing).created_at == at
    assert (bonus.amount, account_balance(crosses, AccountKind.BONUS)) == (1_000, 1_000)
    assert bonus.grant_key.endswith(f":threshold:{crosses.pk}:2026-03-02")
    assert Bonus.objects.filter(player=short).exists() is False
    assert_audit_clean()


def test_once_per_period_and_each_period_counts_its_own_stakes(clock, committed):
    player = verified_player(cash=500_000)
    campaign("HIGHROLLER", **THRESHOLD)

    bets(player, 50_000, 10_000, 40_000, committed=committed)  # 100.000 on Monday: one grant
    clock.move_to(MONDAY + dt.timedelta(days=1, seconds=1))  # Tuesday: a new period, nothing staked yet
    bets(player, 49_999, committed=committed)
    assert Bonus.objects.filter(player=player).count() == 1
    bets(player, 1, committed=committed)

    keys = sorted(Bonus.objects.filter(player=player).values_list("grant_key", flat=True))
    assert [key.rsplit(":", 1)[1] for key in keys] == ["2026-03-02", "2026-03-03"]
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BONUS).count() == 2


def test_a_rolled_back_bet_is_not_a_stake(clock, committed):
    player = verified_player(cash=100_000)
    campaign("HIGHROLLER", **THRESHOLD)
    ref = a_ref()
    with committed():
        bet(player, 10_000, ref=ref, round_id="rolled")
    with committed():
        rollback(player, ref.external_id, round_id="rolled")

    bets(player, 40_000, committed=committed)  # 50.000 bet, 10.000 of it rolled back
    assert Bonus.objects.filter(player=player).exists() is False
    bets(player, 10_000, committed=committed)
    assert Bonus.objects.filter(player=player).count() == 1


def test_a_campaign_with_a_start_counts_periods_from_it(clock, committed):
    # Periods of 7 days from Wednesday 06:00: Monday's stakes belong to no period of the campaign.
    player = verified_player(cash=200_000)
    start = MONDAY + dt.timedelta(days=2, hours=6)
    campaign("WEEKLY", **{**THRESHOLD, "wagering_period_days": 7, "starts_at": start})
    bets(player, 40_000, committed=committed)  # Monday: the campaign has not started

    clock.move_to(start + dt.timedelta(hours=1))
    bets(player, 40_000, committed=committed)
    assert Bonus.objects.filter(player=player).exists() is False
    clock.move_to(start + dt.timedelta(days=6, hours=23))  # the next Wednesday 05:00: the same period
    bets(player, 10_000, committed=committed)

    assert Bonus.objects.get(player=player).grant_key.endswith(f":threshold:{player.pk}:2026-03-04")


def test_a_threshold_campaign_for_every_currency_counts_each_players_stakes_in_their_own(clock, committed):
    euros, dollars = verified_player(cash=100_000), verified_player(cash=100_000, currency="USD")
    campaign("HIGHROLLER", **{**THRESHOLD, "currency": None})

    bets(euros, 50_000, committed=committed)
    bets(dollars, 49_999, committed=committed)

    assert [(b.currency_id, b.amount) for b in Bonus.objects.filter(player=euros)] == [("EUR", 1_000)]
    assert Bonus.objects.filter(player=dollars).exists() is False
    bets(dollars, 1, committed=committed)
    assert [(b.currency_id, b.amount) for b in Bonus.objects.filter(player=dollars)] == [("USD", 1_000)]
    assert account_balance(dollars, AccountKind.BONUS) == 1_000
    assert_audit_clean()


def test_a_redelivered_bet_event_grants_once(clock, committed):
    player = verified_player(cash=100_000)
    campaign("HIGHROLLER", **THRESHOLD)
    [crossing] = bets(player, 50_000, committed=committed)
    [outbox] = [row for row in OutboxEvent.objects.filter(name="wallet.transaction_posted")
                if row.payload["transaction_id"] == str(crossing)]  # fmt: skip
    triggers.forget()  # another process, or this one after a restart: nothing remembered

    from apps.wallet.signals import transaction_posted

    clock.move_to(MONDAY + dt.timedelta(days=1))  # re-delivered the next day: still Monday's period
    with committed():
        assert dispatch(outbox.pk, transaction_posted, outbox.payload) is True

    assert Bonus.objects.filter(player=player).count() == 1
    assert account_balance(player, AccountKind.BONUS) == 1_000


def test_a_bet_with_no_threshold_campaign_open_in_its_currency_costs_no_query(
    clock, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(triggers, "CACHE_SECONDS", 3600)  # this test's own runtime never reloads it
    campaign("USDROLLER", **THRESHOLD, currency=Currency.objects.get(code="USD"))
    campaign("OFF", **{**THRESHOLD, "enabled": False})
    player = verified_player()
    event = {"player_id": str(player.pk), "currency": "EUR", "created_at": "2026-03-02T12:00:00Z",
             "transaction_id": "1", "amount": -100}  # fmt: skip
    receivers.grant_on_wagering(None, kind=TransactionKind.BET, **event)  # loads the cache: one query

    with django_assert_num_queries(0):
        for _ in range(3):
            receivers.grant_on_wagering(None, kind=TransactionKind.BET, **event)
        receivers.grant_on_wagering(None, kind=TransactionKind.WIN, **event)

    # A campaign saved in this process is seen by the next bet, which then reads the ledger.
    campaign("HIGHROLLER", **THRESHOLD)
    with django_assert_num_queries(2):  # the campaigns, the player's stakes (below the threshold)
        receivers.grant_on_wagering(None, kind=TransactionKind.BET, **event)


def test_once_granted_a_players_later_bets_in_the_period_cost_no_query(
    clock, committed, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(triggers, "CACHE_SECONDS", 3600)
    player = verified_player(cash=100_000)
    campaign("HIGHROLLER", **THRESHOLD)
    bets(player, 50_000, committed=committed)
    event = {"player_id": str(player.pk), "currency": "EUR", "created_at": "2026-03-02T12:00:01Z"}

    with django_assert_num_queries(0):
        receivers.grant_on_wagering(None, kind=TransactionKind.BET, **event)
    assert Bonus.objects.filter(player=player).count() == 1


def test_a_player_wagering_another_bonus_gets_the_threshold_bonus_once_it_ends(clock, committed):
    player = verified_player(cash=100_000)
    campaign("HIGHROLLER", **{**THRESHOLD, "allow_concurrent": False})
    campaign("GOODWILL", kind="fixed", amount=100, trigger="staff_grant", requires_opt_in=False,
             wagering_multiple=1_000)  # not met by these bets  # fmt: skip
    other = services.staff_grant(player, "GOODWILL", acting_user=None, reason="test", grant_id="g")

    bets(player, 50_000, committed=committed)
    assert Bonus.objects.filter(player=player, campaign__code="HIGHROLLER").exists() is False
    services.cancel_bonus(other, acting_user=None, reason="test")
    bets(player, 1, committed=committed)

    assert Bonus.objects.filter(player=player, campaign__code="HIGHROLLER").count() == 1


# --- cash-back -----------------------------------------------------------------------------------

CASHBACK = {"kind": "cashback", "cashback_percent": 10, "cashback_period_days": 7, "trigger": "period_end",
            "starts_at": MONDAY, "requires_opt_in": False, "one_per_player": False, "allow_concurrent": True,
            "wagering_multiple": 1}  # fmt: skip
NEXT_MONDAY = MONDAY + dt.timedelta(days=7)


def plays(player, staked: int, won: int, round_id: str) -> None:
    bet(player, staked, round_id=round_id)
    if won:
        win(player, won, round_id=round_id)


def test_cashback_pays_a_share_of_each_losers_net_loss_at_the_period_end(clock):
    loser, winner, even, refunded = (verified_player(cash=100_000) for _ in range(4))
    clock.move_to(MONDAY - dt.timedelta(hours=1))  # Sunday night: before the campaign's first period
    plays(loser, 30_000, 0, "before")
    clock.move_to(MONDAY + dt.timedelta(hours=12))
    campaign("WEEKLY", **CASHBACK)
    plays(loser, 10_000, 2_001, "l1")  # lost 79.99
    plays(loser, 5_000, 0, "l2")  # and 50.00: 129.99, of which 10 % is 12.99
    plays(winner, 1_000, 5_000, "w1")
    plays(even, 2_000, 2_000, "e1")
    ref = a_ref()
    bet(refunded, 7_000, ref=ref, round_id="r1")
    rollback(refunded, ref.external_id, round_id="r1")

    clock.move_to(NEXT_MONDAY - dt.timedelta(seconds=1))
    assert services.pay_due_cashback() == 0  # the period has not ended
    clock.move_to(NEXT_MONDAY)
    assert services.pay_due_cashback() == 1

    bonus = Bonus.objects.get(campaign__code="WEEKLY")
    assert (bonus.player, bonus.amount, bonus.wagering_required) == (loser, 1_299, 1_299)
    assert bonus.granted_at == NEXT_MONDAY
    assert bonus.grant_key.endswith(f":cashback:{loser.pk}:2026-03-09")
    assert account_balance(loser, AccountKind.BONUS) == 1_299
    run = CashbackRun.objects.get()
    assert (run.period_start, run.period_end, run.finished_at) == (MONDAY, NEXT_MONDAY, NEXT_MONDAY)

    assert services.pay_due_cashback() == 0  # paid: the next pass pays nothing more
    assert Bonus.objects.count() == 1
    assert_audit_clean()


def test_each_period_is_paid_once_in_order_in_batches_and_a_refusal_leaves_the_others(clock):
    players = [verified_player(cash=100_000) for _ in range(3)]
    excluded = verified_player(cash=100_000)
    campaign("WEEKLY", **CASHBACK)
    for n, player in enumerate([*players, excluded]):
        plays(player, 1_000 * (n + 1), 0, f"week1-{n}")
    compliance.start_time_out(player=excluded, hours=24 * 30)

    # The first period ended: paid two players a pass; the excluded player is refused, not retried.
    clock.move_to(NEXT_MONDAY + dt.timedelta(hours=1))
    assert services.pay_due_cashback(limit=2) == 2
    assert services.pay_due_cashback(limit=2) == 1
    assert services.pay_due_cashback(limit=2) == 0
    assert Bonus.objects.filter(player=excluded).exists() is False
    assert sorted(Bonus.objects.values_list("amount", flat=True)) == [100, 200, 300]

    # The second period's play; the sweep is away until the third has ended too: each is paid, in order.
    plays(players[0], 5_000, 0, "week2")
    clock.move_to(NEXT_MONDAY + dt.timedelta(days=14, hours=1))
    assert services.pay_due_cashback() == 1
    assert services.pay_due_cashback() == 0  # the third: no one lost

    assert list(CashbackRun.objects.order_by("period_end").values_list("period_end", flat=True)) == [
        NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=7), NEXT_MONDAY + dt.timedelta(days=14)]  # fmt: skip
    assert CashbackRun.objects.filter(finished_at__isnull=True).exists() is False
    assert sorted(Bonus.objects.filter(player=players[0]).values_list("amount", flat=True)) == [100, 500]
    assert services.pay_due_cashback() == 0
    assert_audit_clean()


def test_the_command_pays_a_period_and_names_it(clock):
    loser = verified_player(cash=100_000)
    campaign("WEEKLY", **CASHBACK)
    plays(loser, 10_000, 0, "l1")
    out = io.StringIO()

    with pytest.raises(CommandError, match="first period has not ended"):
        call_command("grant_cashback", "weekly", stdout=out)
    clock.move_to(NEXT_MONDAY + dt.timedelta(hours=3))
    call_command("grant_cashback", "weekly", stdout=out)
    call_command("grant_cashback", "WEEKLY", stdout=out)  # paid already: nothing more

    assert out.getvalue().splitlines() == [
        "WEEKLY 2026-03-02T00:00:00+00:00 to 2026-03-09T00:00:00+00:00: 1 granted",
        "WEEKLY 2026-03-02T00:00:00+00:00 to 2026-03-09T00:00:00+00:00: 0 granted",
    ]
    assert Bonus.objects.get(player=loser).amount == 1_000
    with pytest.raises(CommandError, match="No cash-back campaign"):
        call_command("grant_cashback", "NOPE", stdout=out)


def test_a_cashback_is_floored_and_a_loss_too_small_for_a_cent_grants_nothing():
    from apps.bonuses.models import Campaign

    weekly = Campaign(kind="cashback", cashback_percent=10)
    assert services.bonus_amount(weekly, None, net_loss=1_299) == 129
    assert services.bonus_amount(weekly, None, net_loss=9) == 0
    assert services.bonus_amount(weekly, None, net_loss=-500) == 0
