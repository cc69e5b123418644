"""The rules around bonus money: the maximum stake over the signed wallet API (LIMIT_REACHED with
`error.reason`), one active wagering bonus at a time unless the campaign allows more, staff
cancellation (to the pool, in the staff trail), the player's notices of every end, a player
without a bonus paying nothing for bonuses on a bet, and one wagering one statement."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.choices import BonusState, StaffRole
from apps.accounts.models import Player
from apps.accounts.tests.factories import make_staff
from apps.bonuses import errors, services
from apps.bonuses.errors import GrantRefused
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign, pool
from apps.compliance.models import StaffAction
from apps.games import services as games
from apps.payments.tests.factories import account_balance, assert_audit_clean, verified_player
from apps.realtime import receivers as realtime_receivers
from apps.wallet.api.signature import signature_of
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.models import Transaction

pytestmark = pytest.mark.django_db

FIXED = {"kind": "fixed", "amount": 5_000, "trigger": "staff_grant", "requires_opt_in": False,
         "wagering_multiple": 10, "max_stake": 1_000, "forfeit_on_withdrawal": True}  # fmt: skip
PROVIDER, SECRET = "rules-games", "rules-secret-0123456789"


def signed_bet(player, amount: int, tx: str) -> tuple[int, dict]:
    body = {"player_id": str(player.pk), "currency": "EUR", "amount": amount, "transaction_id": tx,
            "round_id": f"round-{tx}", "game_id": "any-slot"}  # fmt: skip
    raw = json.dumps(body).encode()
    response = Client().post(
        "/api/wallet/v1/bet", data=raw, content_type="application/json", HTTP_X_PROVIDER=PROVIDER,
        HTTP_X_SIGNATURE=signature_of(SECRET, "bet", raw),
    )  # fmt: skip
    return response.status_code, response.json()


def test_a_stake_above_the_maximum_while_wagering_is_refused_over_the_api_and_moves_nothing():
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = verified_player(2_000)
    services.grant(player, campaign("MAX", **FIXED), trigger_ref="t")
    transactions = Transaction.objects.count()

    status, body = signed_bet(player, 1_001, "too-big")

    assert status == 403
    assert body["error"]["code"] == "LIMIT_REACHED"
    assert body["error"]["reason"] == "bonus_max_stake"
    assert body["error"]["max_stake"] == 1_000
    assert body["error"]["message"] == "The largest stake while wagering this bonus is 10.00 EUR."
    assert (body["balance"], body["currency"]) == (7_000, "EUR")
    assert Transaction.objects.count() == transactions
    assert Bonus.objects.get(player=player).wagering_done == 0
    # At the maximum it is taken, and counts.
    assert signed_bet(player, 1_000, "at-max")[0] == 200
    assert Bonus.objects.get(player=player).wagering_done == 1_000


def test_one_active_wagering_bonus_at_a_time_unless_the_campaign_allows_more():
    player = verified_player()
    services.grant(player, campaign("FIRST", **FIXED), trigger_ref="t")

    with pytest.raises(GrantRefused) as refused:
        services.grant(player, campaign("SECOND", **FIXED), trigger_ref="t")
    assert refused.value.reason == GrantRefused.ACTIVE_BONUS
    assert account_balance(player, AccountKind.BONUS) == 5_000

    services.grant(player, campaign("STACKS", allow_concurrent=True, **FIXED), trigger_ref="t")
    assert account_balance(player, AccountKind.BONUS) == 10_000
    assert Bonus.objects.filter(player=player, status="active").count() == 2


def test_staff_cancel_a_bonus_with_a_reason_its_money_back_to_the_pool_in_the_trail(
    django_capture_on_commit_callbacks, monkeypatch
):
    player = verified_player(1_000)
    bonus = services.grant(player, campaign("CANCEL", **FIXED), trigger_ref="t")
    pool_before = pool()
    staff = make_staff(StaffRole.COMPLIANCE)
    notices = []
    monkeypatch.setattr(realtime_receivers.services, "notify_player", lambda *a, **k: notices.append((a, k)))

    with pytest.raises(errors.InvalidCampaign):
        services.cancel_bonus(bonus, acting_user=staff, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_bonus(bonus, acting_user=staff, reason="bonus abuse")

    bonus.refresh_from_db()
    assert (bonus.status, bonus.ended_amount, bonus.remaining) == ("cancelled", 5_000, 0)
    assert account_balance(player, AccountKind.BONUS) == 0
    assert account_balance(player, AccountKind.CASH) == 1_000
    assert pool() == pool_before + 5_000
    assert Transaction.objects.get(player=player, kind=TransactionKind.BONUS_CANCELLED).amount == -5_000
    action = StaffAction.objects.get(action="bonus.cancel")
    assert (action.actor_id, action.reason) == (staff.pk, "bonus abuse")
    assert Player.objects.get(pk=player.pk).bonus_state == BonusState.RETURNED
    assert [(k["kind"], k["data"]["status"]) for _, k in notices] == [("bonus_forfeited", "cancelled")]
    # A second cancellation finds it ended.
    with pytest.raises(errors.BonusNotActive):
        services.cancel_bonus(bonus, acting_user=staff, reason="again")
    assert_audit_clean()


def test_the_player_is_told_of_a_conversion(django_capture_on_commit_callbacks, monkeypatch):
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = verified_player()
    services.grant(player, campaign("QUICK", **{**FIXED, "wagering_multiple": 1}), trigger_ref="t")
    notices = []
    monkeypatch.setattr(realtime_receivers.services, "notify_player", lambda *a, **k: notices.append((a, k)))

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            assert signed_bet(player, 1_000, f"b{n}")[0] == 200

    assert Bonus.objects.get(player=player).status == "converted"
    assert [k["kind"] for _, k in notices] == ["bonus_converted"]
    assert account_balance(player, AccountKind.BONUS) == 0
    assert account_balance(player, AccountKind.CASH) == 0  # every stake was bonus money: nothing left


def test_a_player_without_a_bonus_pays_no_bonus_query_for_a_bet(django_assert_num_queries):
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = verified_player(5_000)
    assert signed_bet(player, 100, "warm")[0] == 200

    with CaptureQueriesContext(connection) as captured:
        assert signed_bet(player, 100, "cold")[0] == 200
    assert not any("bonuses_" in query["sql"] for query in captured.captured_queries)


def test_a_player_wagering_a_bonus_pays_one_statement_for_it(django_assert_num_queries):
    games.save_provider(code=PROVIDER, secret=SECRET)
    player = verified_player(5_000)
    services.grant(player, campaign("ONE", **FIXED), trigger_ref="t")
    assert signed_bet(player, 100, "warm")[0] == 200  # the provider and the game's type, cached

    with CaptureQueriesContext(connection) as captured:
        assert signed_bet(player, 100, "counted")[0] == 200

    bonus_statements = [query["sql"] for query in captured.captured_queries if "bonuses_" in query["sql"]]
    assert len(bonus_statements) == 1
    assert bonus_statements[0].startswith("UPDATE bonuses_bonus SET wagering_done")
    assert Bonus.objects.get(player=player).wagering_done == 200
