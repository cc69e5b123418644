"""Setting limits: decreases at once, increases and removals behind the profile's cooling-off
(evaluated when read, no job), UKGC's re-confirmation, and the audit trail of every change."""

import datetime as dt

import pytest

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_brand, make_player, make_staff
from apps.compliance import errors, selectors, services
from apps.compliance.choices import LimitChangeStatus
from apps.compliance.models import JurisdictionProfile, LimitChange
from apps.compliance.tests.factories import START, fresh, limit

pytestmark = pytest.mark.django_db

MICROSECOND = dt.timedelta(microseconds=1)


def in_force(player, kind="deposit", period="24h"):
    """(amount, pending) of one limit as the API shows it, or None when there is none."""
    for view in selectors.list_limits(player):
        if (view.kind, view.period) == (kind, period):
            return view.amount, view.pending
    return None


@pytest.fixture
def mga_player():
    brand = make_brand("malta", "Malta Casino")
    brand.jurisdiction = JurisdictionProfile.objects.get(code="MGA")
    brand.save()
    return make_player(brand="malta")


def test_a_new_limit_and_a_decrease_apply_at_once(clock):
    player = make_player()
    limit(player, "deposit", "24h", 10_000)
    assert in_force(player) == (10_000, None)

    clock.shift(dt.timedelta(seconds=1))
    limit(player, "deposit", "24h", 5_000)

    assert in_force(player) == (5_000, None)
    # A deposit limit is the cashier's to check, at every deposit's start: the bets stay free.
    assert fresh(player).needs_compliance_checks is False
    limit(player, "wager", "24h", 5_000)
    assert fresh(player).needs_compliance_checks is True


def test_an_increase_applies_exactly_at_the_end_of_the_cooling_off(clock, mga_player):
    # MGA: deposit limits cool off for 24 hours and need no confirmation.
    limit(mga_player, "deposit", "24h", 10_000)
    limit(mga_player, "deposit", "24h", 50_000)
    effective_at = START + dt.timedelta(hours=24)

    amount, pending = in_force(mga_player)
    assert amount == 10_000
    assert (pending.amount, pending.effective_at, pending.needs_confirmation) == (50_000, effective_at, False)

    clock.move_to(effective_at - MICROSECOND)
    assert in_force(mga_player)[0] == 10_000
    clock.move_to(effective_at)
    assert in_force(mga_player) == (50_000, None)


def test_other_limits_cool_off_for_the_profiles_other_period(clock, mga_player):
    # MGA: 7 days for everything but deposit limits.
    limit(mga_player, "loss", "7d", 1_000)
    limit(mga_player, "loss", "7d", 2_000)

    assert in_force(mga_player, "loss", "7d")[1].effective_at == START + dt.timedelta(days=7)


def test_ukgc_increase_needs_the_players_confirmation_after_the_cooling_off(clock):
    player = make_player()  # the default profile: UKGC
    limit(player, "wager", "7d", 10_000)
    limit(player, "wager", "7d", 20_000)
    effective_at = START + dt.timedelta(hours=24)

    clock.move_to(effective_at - MICROSECOND)
    with pytest.raises(errors.CoolingOffNotEnded):
        services.confirm_limit(player=player, kind="wager", period="7d")

    clock.move_to(effective_at + dt.timedelta(days=3))
    amount, pending = in_force(player, "wager", "7d")
    assert (amount, pending.needs_confirmation) == (10_000, True)  # not without the confirmation

    services.confirm_limit(player=player, kind="wager", period="7d")
    assert in_force(player, "wager", "7d") == (20_000, None)


def test_a_removal_is_queued_like_an_increase(clock, mga_player):
    limit(mga_player, "deposit", "30d", 10_000)
    limit(mga_player, "deposit", "30d", None)

    amount, pending = in_force(mga_player, "deposit", "30d")
    assert (amount, pending.amount) == (10_000, None)

    clock.move_to(START + dt.timedelta(hours=24))
    assert in_force(mga_player, "deposit", "30d") is None


def test_a_decrease_cancels_a_pending_increase(clock, mga_player):
    limit(mga_player, "deposit", "24h", 10_000)
    limit(mga_player, "deposit", "24h", 50_000)
    limit(mga_player, "deposit", "24h", 8_000)

    clock.move_to(START + dt.timedelta(days=2))
    assert in_force(mga_player) == (8_000, None)


def test_confirming_with_nothing_pending_is_refused(clock):
    player = make_player()
    limit(player, "deposit", "24h", 10_000)

    with pytest.raises(errors.NothingToConfirm):
        services.confirm_limit(player=player, kind="deposit", period="24h")


def test_every_change_is_recorded_with_who_when_old_new_and_why(clock, mga_player):
    officer = make_staff(StaffRole.COMPLIANCE)
    limit(mga_player, "deposit", "24h", 10_000)
    clock.shift(dt.timedelta(minutes=1))
    limit(mga_player, "deposit", "24h", 3_000, acting_user=officer, reason="affordability review")
    clock.shift(dt.timedelta(minutes=1))
    limit(mga_player, "deposit", "24h", 9_000)
    clock.move_to(START + dt.timedelta(days=2))
    limit(mga_player, "deposit", "24h", 9_000)  # touching the row writes the matured change down

    rows = list(
        LimitChange.objects.order_by("pk").values_list(
            "status", "old_amount", "new_amount", "acting_user", "by_player", "reason", "created_at"
        )
    )
    assert rows == [
        (LimitChangeStatus.APPLIED, None, 10_000, None, True, "", START),
        (LimitChangeStatus.APPLIED, 10_000, 3_000, officer.pk, False, "affordability review",
         START + dt.timedelta(minutes=1)),
        (LimitChangeStatus.QUEUED, 3_000, 9_000, None, True, "", START + dt.timedelta(minutes=2)),
        (LimitChangeStatus.MATURED, 3_000, 9_000, None, False, "", START + dt.timedelta(days=2)),
        (LimitChangeStatus.APPLIED, 9_000, 9_000, None, True, "", START + dt.timedelta(days=2)),
    ]  # fmt: skip
    matured = LimitChange.objects.get(status=LimitChangeStatus.MATURED)
    assert matured.effective_at == START + dt.timedelta(minutes=2, hours=24)


def test_staff_changes_need_a_reason(clock):
    with pytest.raises(errors.InvalidLimit):
        limit(make_player(), "deposit", "24h", 1_000, acting_user=make_staff(StaffRole.COMPLIANCE), reason=" ")


@pytest.mark.parametrize(
    ("kind", "period", "amount"),
    [("deposit", None, 100), ("deposit", "1d", 100), ("session", "24h", 30), ("session", None, 0),
     ("loss", "7d", -1), ("bonus", "7d", 100)],
)  # fmt: skip
def test_invalid_limits_are_refused(kind, period, amount):
    player = make_player()
    with pytest.raises(errors.InvalidLimit):
        limit(player, kind, period, amount)
    assert fresh(player).needs_compliance_checks is False
