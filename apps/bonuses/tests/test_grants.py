"""Grants: a deposit grants its campaigns on the event, through the real cashier and wallet, the
money from the bonus pool to the player's bonus account with the `Bonus` row in the same
transaction; who gets nothing and why; one per player, budget, replays; the grant's time and the
player's notice; staff grants in the trail."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.choices import PlayerStatus, StaffRole
from apps.accounts.tests.factories import make_staff
from apps.bonuses import receivers, services
from apps.bonuses.errors import GrantRefused
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign, pool
from apps.common.events import dispatch
from apps.common.models import OutboxEvent
from apps.compliance import services as compliance
from apps.compliance.errors import LimitReached
from apps.compliance.models import StaffAction
from apps.payments.choices import EventType
from apps.payments.tests.factories import (
    a_provider,
    account_balance,
    assert_audit_clean,
    event,
    post_webhook,
    start_deposit,
    verified_player,
)
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Transaction
from apps.wallet.signals import transaction_posted
from apps.wallet.tests.factories import bet

pytestmark = pytest.mark.django_db

WELCOME = {"kind": "deposit_match", "match_percent": 100, "cap": 10_000, "trigger": "any_deposit", "min_deposit": 1,
           "wagering_multiple": 10, "expires_after_days": 30, "one_per_player": True}  # fmt: skip


@pytest.fixture(autouse=True)
def provider():
    return a_provider()


def pays(player, amount: int, committed) -> str:
    """The player deposits `amount` through the cashier and the PSP confirms it: the deposit's
    transaction id. The confirmation's after-commit work (the grant among it) runs in the block."""
    deposit = start_deposit(player, amount)
    with committed():
        succeeded = event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, amount, currency=player.currency_id)
        assert post_webhook(succeeded).status_code == 200
    return Transaction.objects.filter(player=player, kind=TransactionKind.DEPOSIT).latest("pk").pk


def refusal(player, of, **kwargs) -> str:
    with pytest.raises(GrantRefused) as refused:
        services.grant(player, of, **kwargs)
    return refused.value.reason


def test_welcome100_a_deposit_of_100_is_matched_by_a_bonus_of_100_from_the_pool(clock, committed):
    # Alice opts in to WELCOME100: a 100 % match of her next deposit up to 100.00, wagering 10 x.
    alice = verified_player()
    welcome = campaign("WELCOME100", **WELCOME)
    services.opt_in(alice, "welcome100")
    pool_before = pool()

    # She deposits 100.00; the PSP confirms it.
    pays(alice, 10_000, committed)

    # Her cash holds the deposit, her bonus account the match, paid by the bonus pool.
    assert account_balance(alice, AccountKind.CASH) == 10_000
    assert account_balance(alice, AccountKind.BONUS) == 10_000
    assert pool() == pool_before - 10_000
    bonus = Bonus.objects.get(player=alice)
    assert (bonus.campaign, bonus.status, bonus.amount, bonus.remaining) == (welcome, "active", 10_000, 10_000)
    assert bonus.wagering_required == 100_000
    assert (bonus.granted_at, bonus.expires_at) == (timezone.now(), timezone.now() + dt.timedelta(days=30))
    grant_tx = Transaction.objects.get(player=alice, kind=TransactionKind.BONUS)
    assert grant_tx.amount == 10_000
    assert_audit_clean()


def test_the_match_is_floored_and_stops_at_the_cap(clock, committed):
    small, big = verified_player(), verified_player()
    campaign("HALF", **{**WELCOME, "match_percent": 50, "cap": 3_000})
    for player in (small, big):
        services.opt_in(player, "HALF")

    pays(small, 1_001, committed)  # 50 % of 10.01 is 5.005: the player gets 5.00
    pays(big, 10_000, committed)  # 50 % of 100.00 is 50.00: the cap is 30.00

    assert Bonus.objects.get(player=small).amount == 500
    assert Bonus.objects.get(player=big).amount == 3_000
    assert_audit_clean()


def test_wagering_is_a_multiple_of_the_bonus_or_of_the_bonus_and_the_deposit(clock, committed):
    on_bonus, on_both = verified_player(), verified_player()
    campaign("BONUS", **{**WELCOME, "match_percent": 50})
    campaign("BOTH", **{**WELCOME, "match_percent": 50, "wagering_base": "bonus_and_deposit"})
    services.opt_in(on_bonus, "BONUS")
    services.opt_in(on_both, "BOTH")

    pays(on_bonus, 10_000, committed)  # a bonus of 50.00
    pays(on_both, 10_000, committed)

    assert Bonus.objects.get(player=on_bonus).wagering_required == 10 * 5_000
    assert Bonus.objects.get(player=on_both).wagering_required == 10 * (5_000 + 10_000)


def test_the_minimum_deposit_grants_at_it_and_not_one_cent_below(clock, committed):
    below, at = verified_player(), verified_player()
    campaign("MIN20", **{**WELCOME, "min_deposit": 2_000})
    for player in (below, at):
        services.opt_in(player, "MIN20")

    pays(below, 1_999, committed)
    pays(at, 2_000, committed)

    assert Bonus.objects.filter(player=below).exists() is False
    assert account_balance(below, AccountKind.BONUS) == 0
    assert Bonus.objects.get(player=at).amount == 2_000


def test_a_player_who_did_not_opt_in_gets_nothing(clock, committed):
    player = verified_player()
    campaign("WELCOME100", **WELCOME)

    pays(player, 10_000, committed)

    assert Bonus.objects.filter(player=player).exists() is False
    assert account_balance(player, AccountKind.BONUS) == 0


def test_an_excluded_and_a_locked_player_get_nothing_for_a_deposit_that_arrives_after(clock, committed):
    timed_out, locked = verified_player(), verified_player()
    welcome = campaign("WELCOME100", **WELCOME)
    deposits = {}
    for player in (timed_out, locked):
        services.opt_in(player, "WELCOME100")
        deposits[player.pk] = start_deposit(player, 10_000)  # started while they could
    compliance.start_time_out(player=timed_out, hours=24)
    compliance.lock_account_by_staff(player=locked, acting_user=make_staff(StaffRole.COMPLIANCE), reason="review")

    for player in (timed_out, locked):
        with committed():
            post_webhook(event(EventType.DEPOSIT_SUCCEEDED, deposits[player.pk].public_id, 10_000))
        assert account_balance(player, AccountKind.CASH) == 10_000  # the money they paid arrives
        assert account_balance(player, AccountKind.BONUS) == 0
        assert refusal(player, welcome, trigger_ref="again", deposit_amount=10_000) == GrantRefused.NO_PROMOTIONS
    assert Bonus.objects.count() == 0
    assert_audit_clean()


def _self_excluded(player) -> None:
    compliance.self_exclude(player=player, period="6m")


def _timed_out(player) -> None:
    compliance.start_time_out(player=player, hours=24)


def _locked(player) -> None:
    compliance.lock_account_by_staff(player=player, acting_user=make_staff(StaffRole.COMPLIANCE), reason="review")


def _frozen(player) -> None:
    compliance.freeze_account_by_staff(player=player, acting_user=make_staff(StaffRole.COMPLIANCE), reason="review")


def _closed(player) -> None:
    accounts.set_player_status(player_id=player.pk, status=PlayerStatus.CLOSED)


@pytest.mark.parametrize("standing", [_self_excluded, _timed_out, _locked, _frozen, _closed])
def test_no_grant_of_any_trigger_reaches_an_excluded_timed_out_locked_frozen_or_closed_player(clock, standing):
    player = verified_player()
    goodwill = campaign("GOODWILL", kind="fixed", amount=1_000, trigger="staff_grant", requires_opt_in=False)
    registration = campaign("HELLO", kind="fixed", amount=500, trigger="registration", requires_opt_in=False)
    standing(player)

    assert refusal(player, goodwill, trigger_ref="t") == GrantRefused.NO_PROMOTIONS
    with pytest.raises(GrantRefused) as refused:
        services.staff_grant(player, "GOODWILL", acting_user=make_staff(StaffRole.ADMIN), reason="goodwill",
                             grant_id="g1")  # fmt: skip
    assert refused.value.reason == GrantRefused.NO_PROMOTIONS
    assert services.grant_for_registration(player_id=player.pk) == []
    assert refusal(player, registration, trigger_ref=f"registration:{player.pk}") == GrantRefused.NO_PROMOTIONS
    assert Bonus.objects.exists() is False
    assert account_balance(player, AccountKind.BONUS) == 0
    assert Transaction.objects.filter(kind=TransactionKind.BONUS).exists() is False


def test_a_second_grant_of_a_one_per_player_campaign_is_refused_and_moves_nothing(clock, committed):
    player = verified_player()
    welcome = campaign("WELCOME100", **WELCOME)
    services.opt_in(player, "WELCOME100")
    pays(player, 10_000, committed)

    pays(player, 10_000, committed)  # the next deposit grants nothing

    assert refusal(player, welcome, trigger_ref="another", deposit_amount=10_000) == GrantRefused.ALREADY_GRANTED
    assert Bonus.objects.filter(player=player).count() == 1
    assert account_balance(player, AccountKind.BONUS) == 10_000
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BONUS).count() == 1


def test_a_replayed_deposit_event_grants_once(clock, committed):
    player = verified_player()
    campaign("RELOAD", **{**WELCOME, "one_per_player": False, "match_percent": 10})
    services.opt_in(player, "RELOAD")
    deposit_id = pays(player, 10_000, committed)
    [outbox] = [row for row in OutboxEvent.objects.filter(name=transaction_posted.name)
                if row.payload["transaction_id"] == str(deposit_id)]  # fmt: skip

    # The outbox sweeper delivers the deposit's event again (after a crash): the same event id.
    with committed():
        assert dispatch(outbox.pk, transaction_posted, outbox.payload) is True

    assert Bonus.objects.filter(player=player).count() == 1
    assert account_balance(player, AccountKind.BONUS) == 1_000
    assert_audit_clean()


def test_a_grant_that_would_pass_the_budget_is_refused_and_one_that_fits_exactly_is_not(clock, committed):
    first, second, third = verified_player(), verified_player(), verified_player()
    campaign("BUDGET", **{**WELCOME, "budget": 15_000})
    for player in (first, second, third):
        services.opt_in(player, "BUDGET")

    pays(first, 10_000, committed)
    pays(second, 5_001, committed)  # would make 150.01 of 150.00: nothing
    pays(third, 5_000, committed)  # exactly the budget

    assert [Bonus.objects.filter(player=p).count() for p in (first, second, third)] == [1, 0, 1]
    assert account_balance(second, AccountKind.BONUS) == 0
    assert_audit_clean()


def test_a_campaign_for_every_currency_grants_each_player_in_their_wallets_currency(clock, committed):
    euros, dollars = verified_player(), verified_player(currency="USD")
    campaign("ANYWHERE", **{**WELCOME, "currency": None, "max_stake": 5_000})
    for player in (euros, dollars):
        services.opt_in(player, "anywhere")

    pools_before = pool(), pool("USD")

    pays(euros, 20_000, committed)  # 200.00 EUR: matched up to 100.00 EUR
    pays(dollars, 4_000, committed)  # 40.00 USD: matched in full, in USD

    assert [(b.currency_id, b.amount, b.wagering_required) for b in Bonus.objects.filter(player=euros)] == [
        ("EUR", 10_000, 100_000)]  # fmt: skip
    assert [(b.currency_id, b.amount, b.wagering_required) for b in Bonus.objects.filter(player=dollars)] == [
        ("USD", 4_000, 40_000)]  # fmt: skip
    assert (account_balance(euros, AccountKind.BONUS), account_balance(dollars, AccountKind.BONUS)) == (10_000, 4_000)
    assert (pools_before[0] - pool(), pools_before[1] - pool("USD")) == (10_000, 4_000)
    # Its maximum stake is 50.00 in each wallet's currency.
    with pytest.raises(LimitReached):
        bet(dollars, 5_001, round_id="too-big")
    bet(dollars, 4_000, round_id="ok")
    assert Bonus.objects.get(player=dollars).wagering_done == 4_000
    assert_audit_clean()


def test_a_closed_campaign_or_another_currency_grants_nothing(clock):
    player = verified_player()
    off = campaign("OFF", **{**WELCOME, "enabled": False, "requires_opt_in": False})
    usd = verified_player(currency="USD")

    assert refusal(player, off, trigger_ref="t", deposit_amount=1_000) == GrantRefused.CAMPAIGN_CLOSED
    on = campaign("ON", **{**WELCOME, "requires_opt_in": False})
    assert refusal(usd, on, trigger_ref="t", deposit_amount=1_000) == GrantRefused.CURRENCY


def test_a_deposit_at_23_58_30_grants_at_23_58_30(clock, committed):
    player = verified_player()
    campaign("WELCOME100", **WELCOME)
    services.opt_in(player, "WELCOME100")
    at = timezone.now().replace(hour=23, minute=58, second=30, microsecond=0)
    clock.move_to(at)

    deposit_id = pays(player, 10_000, committed)

    bonus = Bonus.objects.get(player=player)
    grant_tx = Transaction.objects.get(player=player, kind=TransactionKind.BONUS)
    assert bonus.granted_at == grant_tx.created_at == Transaction.objects.get(pk=deposit_id).created_at == at


def test_the_first_deposit_trigger_grants_on_the_first_deposit_only(clock, committed):
    player, later = verified_player(), verified_player()
    campaign("FIRST", **{**WELCOME, "trigger": "first_deposit", "requires_opt_in": False, "one_per_player": False})
    pays(later, 1_000, committed)  # a first deposit of another player: theirs alone

    pays(player, 2_000, committed)
    pays(player, 3_000, committed)

    assert list(Bonus.objects.filter(player=player).values_list("amount", flat=True)) == [2_000]
    assert Bonus.objects.filter(player=later).count() == 1


def test_the_player_is_told_with_a_bonus_granted_notice_after_the_wallet_event(clock, committed, monkeypatch):
    from apps.realtime import receivers as realtime
    from apps.realtime import services as realtime_services

    sent = []
    monkeypatch.setattr(realtime, "push", lambda messages: sent.extend(m["type"] for _, m in messages))
    monkeypatch.setattr(realtime_services, "notify_player",
                        lambda player_id, **notice: sent.append(("notice", player_id, notice)))  # fmt: skip
    player = verified_player()
    campaign("WELCOME100", **WELCOME)
    services.opt_in(player, "WELCOME100")

    pays(player, 10_000, committed)

    bonus = Bonus.objects.get(player=player)
    notices = [item for item in sent if isinstance(item, tuple)]
    assert notices == [("notice", str(player.pk), {
        "kind": "bonus_granted", "message": "A bonus has been added to your account.",
        "data": {"bonus_id": bonus.public_id, "campaign": "WELCOME100", "amount": 10_000, "currency": "EUR"},
    })]  # fmt: skip
    # The grant's `wallet.updated` frames (the player's and the feed's) come just before its notice.
    assert sent[-3:] == ["wallet.updated", "wallet.updated", notices[0]]


def test_a_staff_grant_needs_a_reason_is_in_the_trail_and_a_repeat_grants_once(clock):
    player = verified_player()
    admin = make_staff(StaffRole.ADMIN)
    campaign("GOODWILL", kind="fixed", amount=2_500, trigger="staff_grant", requires_opt_in=False, one_per_player=False)

    with pytest.raises(GrantRefused):
        services.staff_grant(player, "goodwill", acting_user=admin, reason=" ", grant_id="g1")
    bonus = services.staff_grant(player, "goodwill", acting_user=admin, reason="late payout", grant_id="g1")
    again = services.staff_grant(player, "goodwill", acting_user=admin, reason="late payout", grant_id="g1")

    assert again.pk == bonus.pk
    assert account_balance(player, AccountKind.BONUS) == 2_500
    action = StaffAction.objects.get(action="bonus.grant")
    assert (action.actor_id, action.reason) == (admin.pk, "late payout")
    assert_audit_clean()


def test_a_management_command_grants_a_staff_campaign_with_its_reason(clock):
    player = verified_player()
    campaign("GOODWILL", kind="fixed", amount=1_000, trigger="staff_grant", requires_opt_in=False)
    out = io.StringIO()

    call_command("grant_bonus", player.user.username, "GOODWILL", reason="outage", grant_id="c1", stdout=out)

    assert out.getvalue().strip() == Bonus.objects.get(player=player).public_id
    assert StaffAction.objects.get(action="bonus.grant").reason == "outage"
    with pytest.raises(CommandError, match="GRANT_REFUSED"):  # one per player (the campaign's default)
        call_command("grant_bonus", player.user.username, "GOODWILL", reason="outage", stdout=io.StringIO())
    assert account_balance(player, AccountKind.BONUS) == 1_000


def test_a_deposit_with_no_deposit_campaign_open_costs_one_query_and_another_kind_none(
    clock, django_assert_num_queries
):
    campaign("GOODWILL", kind="fixed", amount=1_000, trigger="staff_grant", requires_opt_in=False)
    player = verified_player()
    payload = {"player_id": str(player.pk), "transaction_id": "1", "amount": 5_000, "currency": "EUR"}

    with django_assert_num_queries(1):
        receivers.grant_on_deposit(None, kind=TransactionKind.DEPOSIT, **payload)
    with django_assert_num_queries(0):
        receivers.grant_on_deposit(None, kind=TransactionKind.BET, **payload)
    assert Bonus.objects.count() == 0


def test_new_players_only_grants_on_the_first_deposit_and_not_on_the_next(clock, committed):
    player = verified_player()
    campaign("NEWBIE", **{**WELCOME, "new_players_only": True, "requires_opt_in": False, "one_per_player": False,
                          "match_percent": 10})  # fmt: skip

    pays(player, 10_000, committed)
    pays(player, 10_000, committed)

    assert list(Bonus.objects.filter(player=player).values_list("amount", flat=True)) == [1_000]
    assert account_balance(player, AccountKind.BONUS) == 1_000
