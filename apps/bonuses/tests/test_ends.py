"""A bonus's ends as the player and the ledger see them: each end's notice reaches the player right
after the `wallet.updated` frame of its own transaction (a conversion by the stake that met the
wagering, an expiry by the outbox sweeper's pass, a forfeiture by a withdrawal, a staff
cancellation); the sweeper's pass is what ends a bonus past its expiry when no stake or
withdrawal came; a campaign that does not forfeit on withdrawal keeps its bonus through one."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_staff
from apps.bonuses import services
from apps.bonuses.models import Bonus
from apps.bonuses.tests.factories import campaign, pool
from apps.common.models import OutboxEvent
from apps.payments.tests.factories import (
    a_provider,
    account_balance,
    assert_audit_clean,
    request_withdrawal,
    verified_player,
)
from apps.realtime import receivers as realtime
from apps.realtime import services as realtime_services
from apps.wallet.choices import AccountKind, TransactionKind
from apps.wallet.errors import InsufficientFunds
from apps.wallet.models import Transaction
from apps.wallet.tests.factories import bet

pytestmark = pytest.mark.django_db

GIFT = {"kind": "fixed", "amount": 1_000, "trigger": "staff_grant", "requires_opt_in": False, "wagering_multiple": 1,
        "expires_after_days": 1, "forfeit_on_withdrawal": True}  # fmt: skip


@pytest.fixture
def told(monkeypatch):
    """What the player's sockets are sent, in order: ("wallet.updated", the transaction's kind)
    for each frame to the player's group, ("notice", its kind) for each notice."""
    sent: list[tuple[str, str]] = []

    def push(messages):
        for group, message in messages:
            if group.startswith("player.") and message["type"] == "wallet.updated":
                sent.append(("wallet.updated", message["frame"]["transaction"]["kind"]))

    monkeypatch.setattr(realtime, "push", push)
    monkeypatch.setattr(realtime_services, "notify_player", lambda player_id, **notice: sent.append(
        ("notice", notice["kind"])))  # fmt: skip
    return sent


def gifted(committed, cash: int = 0, **fields):
    """A player with `cash` and a staff gift of 10.00 (GIFT's terms, `fields` over them), their
    after-commit work done, so what a test hears next is the end's alone."""
    with committed():
        player = verified_player(cash)
        bonus = services.grant(player, campaign("GIFT", **{**GIFT, **fields}), trigger_ref="t")
    # Their events were dispatched; the process marks that from a thread of its own, on another
    # connection, which cannot see this test's uncommitted rows: marked here, so the sweeper's pass
    # below does not dispatch them again.
    OutboxEvent.objects.filter(dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return player, bonus


def test_a_conversion_is_told_after_the_stakes_frame_and_its_own(clock, committed, told):
    player, bonus = gifted(committed, cash=500)
    told.clear()

    with committed():
        bet(player, 1_000)  # 5.00 cash, 5.00 bonus: the bonus wagered once, met; its 5.00 left converts

    assert told == [("wallet.updated", "bet"), ("wallet.updated", "bonus_converted"), ("notice", "bonus_converted")]
    assert (account_balance(player, AccountKind.CASH), account_balance(player, AccountKind.BONUS)) == (500, 0)
    assert Bonus.objects.get(pk=bonus.pk).status == "converted"


def test_the_sweepers_pass_expires_a_bonus_the_ledger_follows_and_the_player_is_told(clock, committed, told):
    player, bonus = gifted(committed, cash=500)
    pool_before = pool()
    told.clear()
    clock.move_to(bonus.expires_at + dt.timedelta(seconds=1))

    with committed():  # the sweeper process's pass (make serve runs it every 2 s)
        call_command("outbox_sweeper", "--once", stdout=(out := io.StringIO()))

    assert "outbox_sweeper: bonuses.expire_due_bonuses: 1" in out.getvalue().splitlines()
    bonus.refresh_from_db()
    assert (bonus.status, bonus.ended_at, bonus.ended_amount) == ("expired", bonus.expires_at, 1_000)
    assert (account_balance(player, AccountKind.BONUS), account_balance(player, AccountKind.CASH)) == (0, 500)
    assert pool() == pool_before + 1_000
    assert told == [("wallet.updated", "bonus_expired"), ("notice", "bonus_expired")]
    assert_audit_clean()


def test_a_forfeiture_is_told_after_its_frame_and_before_the_withdrawals(clock, committed, told):
    a_provider()
    player, bonus = gifted(committed, cash=5_000, wagering_multiple=10)
    told.clear()

    with committed():
        request_withdrawal(player, 2_000)

    assert told == [("wallet.updated", "bonus_forfeited"), ("notice", "bonus_forfeited"),
                    ("wallet.updated", "withdrawal")]  # fmt: skip
    assert Bonus.objects.get(pk=bonus.pk).status == "forfeited"


def test_a_cancellation_is_told_after_its_frame(clock, committed, told):
    player, bonus = gifted(committed)
    told.clear()

    with committed():
        services.cancel_bonus(bonus, acting_user=make_staff(StaffRole.ADMIN), reason="duplicate account")

    assert told == [("wallet.updated", "bonus_cancelled"), ("notice", "bonus_forfeited")]
    assert (Bonus.objects.get(pk=bonus.pk).status, account_balance(player, AccountKind.BONUS)) == ("cancelled", 0)


def test_a_campaign_that_does_not_forfeit_keeps_its_bonus_through_a_withdrawal(clock, committed, told):
    a_provider()
    player, bonus = gifted(committed, cash=5_000, wagering_multiple=10, forfeit_on_withdrawal=False)
    told.clear()

    # Bonus money is still not withdrawable: one cent more than the cash is refused.
    with pytest.raises(InsufficientFunds):
        request_withdrawal(player, 5_001)
    with committed():
        request_withdrawal(player, 4_000)

    bonus.refresh_from_db()
    assert (bonus.status, bonus.ended_at) == ("active", None)
    assert account_balance(player, AccountKind.BONUS) == 1_000
    assert account_balance(player, AccountKind.CASH) == 1_000
    assert account_balance(player, AccountKind.PENDING_WITHDRAWAL) == 4_000
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BONUS_FORFEITED).exists() is False
    assert told == [("wallet.updated", "withdrawal")]
    assert_audit_clean()
