"""The staff-action trail (staff_audit.py): the staff paths of the services append one record each,
in their own transaction; the chain verifies; tampering behind the trigger is named by the audit;
and the database refuses to change or remove a record."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import audit, services, staff_audit
from apps.compliance.errors import AlreadyExcluded, InvalidLimit
from apps.compliance.models import Exclusion, Limit, LimitChange, StaffAction, StaffActionHead
from apps.compliance.tests.factories import limit
from apps.wallet import errors as wallet_errors
from apps.wallet import services as wallet
from apps.wallet.models import Account, Transaction
from tests.support import call_audit_command

pytestmark = pytest.mark.django_db

A_WEEK_LATER = "2026-03-09T12:00:00Z"


def sql(statement: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def behind_the_trigger(statement: str, params: tuple = ()) -> None:
    """Run `statement` with the append-only trigger off, as someone with the database's keys could
    (inside the test's transaction: the rollback puts everything back). The ledger's deferred
    checks still pending from the set-up run first: PostgreSQL alters no table with triggers pending."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(f"ALTER TABLE compliance_staffaction DISABLE TRIGGER {audit.TRIGGER}")
    sql(statement, params)
    sql(f"ALTER TABLE compliance_staffaction ENABLE TRIGGER {audit.TRIGGER}")


def assert_trail_verifies() -> None:
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def trail() -> list[tuple]:
    return list(StaffAction.objects.order_by("pk").values_list("actor", "action", "target_type", "target_id"))


@pytest.fixture
def staff():
    return make_staff(StaffRole.COMPLIANCE)


@pytest.fixture
def five_actions(staff, clock):
    """A staff day: a limit set and raised, a time-out, a credit and a debit, all by one staff user."""
    player = make_player()
    limit(player, "loss", "7d", 1_000, acting_user=staff, reason="affordability check")
    limit(player, "loss", "7d", 3_000, acting_user=staff, reason="player asked")
    services.start_time_out(player=player, hours=48, acting_user=staff, reason="phoned support")
    wallet.adjust_balance(player_id=player.pk, amount=2_500, reason="goodwill", acting_user=staff)
    wallet.adjust_balance(player_id=player.pk, amount=-500, reason="goodwill reversed", acting_user=staff)
    return list(StaffAction.objects.order_by("pk"))


# --- the staff paths of the services --------------------------------------------------------------


def test_a_staff_limit_change_records_the_limits_fields_before_and_after(staff, clock):
    player = make_player()
    limit(player, "loss", "7d", 1_000, acting_user=staff, reason="affordability check")
    clock.shift(dt.timedelta(hours=1))

    limit(player, "loss", "7d", 3_000, acting_user=staff, reason="player asked")

    row = Limit.objects.get(player=player)
    first, second = StaffAction.objects.order_by("pk")
    assert (first.actor, first.action, first.target_type, first.target_id) == (
        staff,
        "limit.set",
        "compliance.limit",
        str(row.pk),
    )
    assert (first.before, first.after, first.reason) == (
        {"amount": None},
        {"amount": 1_000},
        "affordability check",
    )  # a new limit: its updated_at is the set-up's own moment, unchanged
    # The increase is queued behind the default profile's (UKGC) 24-hour cooling-off and the
    # player's confirmation; the amount in force is unchanged, so it is not in the record.
    assert (second.before, second.after, second.reason) == (
        {"has_pending": False, "pending_amount": None, "pending_effective_at": None,
         "pending_needs_confirmation": False, "updated_at": "2026-03-02T12:00:00Z"},
        {"has_pending": True, "pending_amount": 3_000, "pending_effective_at": "2026-03-03T13:00:00Z",
         "pending_needs_confirmation": True, "updated_at": "2026-03-02T13:00:00Z"},
        "player asked",
    )  # fmt: skip
    assert LimitChange.objects.filter(acting_user=staff).count() == 2  # the limit's own trail is kept
    assert_trail_verifies()


def test_a_players_own_limit_change_is_not_a_staff_action(clock):
    player = make_player()

    limit(player, "loss", "7d", 1_000)
    services.start_time_out(player=player, hours=24)

    assert LimitChange.objects.count() == 1
    assert StaffAction.objects.exists() is False


def test_a_staff_time_out_and_self_exclusion_record_the_new_exclusion(staff, clock):
    player = make_player()

    time_out = services.start_time_out(player=player, hours=168, acting_user=staff, reason="phoned support")
    exclusion = services.self_exclude(player=player, period="6m", acting_user=staff, reason="asked by e-mail")

    first, second = StaffAction.objects.order_by("pk")
    assert (first.actor, first.action, first.target_type, first.target_id, first.before, first.reason) == (
        staff,
        "exclusion.start",
        "compliance.exclusion",
        str(time_out.pk),
        {},
        "phoned support",
    )
    assert first.after == {
        "player": player.pk, "kind": "time_out", "starts_at": "2026-03-02T12:00:00Z", "ends_at": A_WEEK_LATER,
        "return_requested_at": None, "acting_user": staff.pk, "reason": "phoned support",
    }  # fmt: skip
    assert (second.target_id, second.after["kind"], second.after["ends_at"]) == (
        str(exclusion.pk),
        "self_exclusion",
        "2026-09-02T12:00:00Z",
    )
    assert_trail_verifies()


def test_an_adjustment_records_the_cash_balance_and_the_ledger_transaction(staff):
    player = make_player()

    posted = wallet.adjust_balance(player_id=player.pk, amount=2_500, reason="goodwill", acting_user=staff)
    wallet.adjust_balance(player_id=player.pk, amount=-500, reason="reversed", acting_user=None)

    cash = Account.objects.get(player=player, kind="cash")
    first, second = StaffAction.objects.order_by("pk")
    assert (first.actor, first.action, first.target_type, first.target_id, first.reason) == (
        staff,
        "wallet.adjust",
        "wallet.account",
        str(cash.pk),
        "goodwill",
    )
    assert (first.before, first.after) == ({"balance": 0}, {"balance": 2_500, "transaction": posted.transaction_id})
    assert (second.actor, second.before, second.after["balance"]) == (None, {"balance": 2_500}, 2_000)
    assert_trail_verifies()


def test_a_replayed_adjustment_records_nothing_more(staff):
    player = make_player()
    first = wallet.adjust_balance(player_id=player.pk, amount=100, reason="x", acting_user=staff, external_id="k1")

    again = wallet.adjust_balance(player_id=player.pk, amount=100, reason="x", acting_user=staff, external_id="k1")

    assert (again.replayed, again.transaction_id) == (True, first.transaction_id)
    assert StaffAction.objects.count() == 1


def test_refused_staff_actions_record_nothing(staff, clock):
    player = make_player()
    services.start_time_out(player=player, hours=168, acting_user=staff, reason="phoned support")
    head = StaffActionHead.objects.get().chain_hash

    with pytest.raises(InvalidLimit):
        limit(player, "loss", "7d", 10**13, acting_user=staff, reason="typo")
    with pytest.raises(AlreadyExcluded):
        services.start_time_out(player=player, hours=24, acting_user=staff, reason="shorter")
    with pytest.raises(wallet_errors.InsufficientFunds):
        wallet.adjust_balance(player_id=player.pk, amount=-1, reason="too much", acting_user=staff)

    assert trail() == [(staff.pk, "exclusion.start", "compliance.exclusion", str(Exclusion.objects.get().pk))]
    assert StaffActionHead.objects.get().chain_hash == head


def test_an_action_that_rolls_back_leaves_no_record_and_the_head_where_it_was(staff, clock):
    player = make_player()
    limit(player, "loss", "7d", 1_000, acting_user=staff, reason="first")
    head = StaffActionHead.objects.get().chain_hash

    def lower_then_fail():
        with transaction.atomic():
            limit(player, "loss", "7d", 500, acting_user=staff, reason="second")
            written.append(StaffAction.objects.count())
            raise RuntimeError("something failed after the record")

    written = []
    with pytest.raises(RuntimeError, match="after the record"):
        lower_then_fail()

    assert written == [2]  # written in the caller's transaction ...
    assert StaffAction.objects.count() == 1  # ... and gone with it
    assert Limit.objects.get(player=player).amount == 1_000
    assert StaffActionHead.objects.get().chain_hash == head
    assert_trail_verifies()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_record_outside_a_transaction_is_refused():
    """Autocommit would commit the record apart from its change (and release the head's lock)."""
    with pytest.raises(RuntimeError, match="inside the transaction"):
        staff_audit.record_staff_action(actor=None, action="admin.change", target=("accounts.user", "1"))
    assert StaffAction.objects.exists() is False


# --- what a record holds ---------------------------------------------------------------------------


def test_secrets_are_redacted_on_both_sides_and_values_are_json_safe(staff):
    from decimal import Decimal

    with transaction.atomic():
        record = staff_audit.record_staff_action(
            actor=staff, action="admin.change", target=("games.provider", "7"),
            before={"secret": "old-key", "password": "argon2$...", "name": "A"},
            after={"secret": "new-key", "password": "argon2$!", "name": "B", "key_hash": "ab12",
                   "payload": {"token": "pam_x", "kept": 1}, "cooling_off": dt.timedelta(days=7),
                   "rate": Decimal("1.50"), "ratio": 0.5},
        )  # fmt: skip

    stored = StaffAction.objects.get(pk=record.pk)
    assert stored.before == {"secret": "[redacted]", "password": "[redacted]", "name": "A"}
    assert stored.after == {
        "secret": "[redacted]", "password": "[redacted]", "name": "B", "key_hash": "[redacted]",
        "payload": {"token": "[redacted]", "kept": 1}, "cooling_off": "P7DT00H00M00S", "rate": "1.50",
        "ratio": "0.5",
    }  # fmt: skip
    assert stored.chain_hash == staff_audit.link(staff_audit.GENESIS, stored)  # the same after the round trip


# --- the chain ---------------------------------------------------------------------------------------


def test_every_record_follows_the_one_before_and_the_head_is_the_last(five_actions):
    previous = staff_audit.GENESIS
    for record in five_actions:
        assert record.previous_hash == previous
        assert record.chain_hash == staff_audit.link(previous, record)
        previous = record.chain_hash
    assert [r.action for r in five_actions] == ["limit.set", "limit.set", "exclusion.start", "wallet.adjust",
                                                "wallet.adjust"]  # fmt: skip
    assert StaffActionHead.objects.get().chain_hash == previous
    assert_trail_verifies()


@pytest.mark.staff_trail_broken_on_purpose
def test_a_record_changed_behind_the_trigger_is_named_alone(five_actions):
    target = five_actions[2]

    behind_the_trigger("UPDATE compliance_staffaction SET reason = 'nobody called' WHERE id = %s", (target.pk,))

    assert audit.broken_links() == [
        f"staff action {target.pk}: its chain hash does not match its content (it was changed)"
    ]
    assert audit.head_mismatch() == []


@pytest.mark.staff_trail_broken_on_purpose
def test_a_change_to_before_or_after_is_named(five_actions):
    target = five_actions[3]

    behind_the_trigger(
        """UPDATE compliance_staffaction SET after = jsonb_set(after, '{balance}', '25000') WHERE id = %s""",
        (target.pk,),
    )

    assert audit.broken_links() == [
        f"staff action {target.pk}: its chain hash does not match its content (it was changed)"
    ]


@pytest.mark.staff_trail_broken_on_purpose
def test_a_record_rewritten_with_a_fresh_hash_is_caught_by_the_next_one(five_actions):
    target = five_actions[1]
    forged = StaffAction.objects.get(pk=target.pk)
    forged.reason = "nothing to see"
    forged_hash = staff_audit.link(forged.previous_hash, forged)

    behind_the_trigger("UPDATE compliance_staffaction SET reason = %s, chain_hash = %s WHERE id = %s",
                       (forged.reason, forged_hash, target.pk))  # fmt: skip

    assert audit.broken_links() == [
        f"staff action {five_actions[2].pk}: does not follow the record before it "
        "(a record before it was removed, inserted or rewritten)"
    ]


@pytest.mark.staff_trail_broken_on_purpose
def test_a_removed_record_is_named_by_the_one_after_it(five_actions):
    behind_the_trigger("DELETE FROM compliance_staffaction WHERE id = %s", (five_actions[1].pk,))

    assert audit.broken_links() == [
        f"staff action {five_actions[2].pk}: does not follow the record before it "
        "(a record before it was removed, inserted or rewritten)"
    ]


@pytest.mark.staff_trail_broken_on_purpose
def test_a_removed_last_record_is_named_by_the_head(five_actions):
    behind_the_trigger("DELETE FROM compliance_staffaction WHERE id = %s", (five_actions[-1].pk,))

    assert audit.broken_links() == []
    assert audit.head_mismatch() == [
        f"the chain head is not staff action {five_actions[-2].pk}'s: the last records were removed or the head "
        "was changed"
    ]


@pytest.mark.staff_trail_broken_on_purpose
def test_a_removed_head_is_named_and_stops_further_appends(five_actions, staff):
    """A head recreated at GENESIS would start a second chain; the unique previous hash refuses it."""
    StaffActionHead.objects.all().delete()

    assert audit.head_mismatch() == ["the chain head is missing but 5 staff actions exist"]
    with pytest.raises(IntegrityError, match="staff_action_one_successor"), transaction.atomic():
        staff_audit.record_staff_action(actor=staff, action="admin.change", target=("accounts.user", "1"))


# --- the database guards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE compliance_staffaction SET reason = 'edited' WHERE id = %s", "UPDATE"),
        ("UPDATE compliance_staffaction SET actor_id = NULL WHERE id = %s", "UPDATE"),
        ("DELETE FROM compliance_staffaction WHERE id = %s", "DELETE"),
    ],
)
def test_records_cannot_be_changed_or_removed(five_actions, statement, operation):
    target = five_actions[0]

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        sql(statement, (target.pk,))

    assert f"staff_action_append_only: {operation} on compliance_staffaction is not allowed" in str(refused.value)
    assert list(StaffAction.objects.order_by("pk")) == five_actions
    assert StaffAction.objects.get(pk=target.pk).reason == "affordability check"


def test_the_orm_cannot_change_records_either(five_actions):
    with pytest.raises(IntegrityError, match="staff_action_append_only"), transaction.atomic():
        StaffAction.objects.filter(pk=five_actions[0].pk).update(reason="edited")
    with pytest.raises(IntegrityError, match="staff_action_append_only"), transaction.atomic():
        StaffAction.objects.all().delete()
    assert StaffAction.objects.count() == 5


# --- manage.py staff_audit -----------------------------------------------------------------------------


def staff_audit_command() -> tuple[int | None, list[str]]:
    return call_audit_command("staff_audit")


def test_the_command_is_clean_on_a_trail_the_services_wrote(five_actions):
    assert staff_audit_command() == (None, [*(f"ok   {name}" for name in audit.CHECKS),
                                            "staff_audit: clean (5 staff actions)"])  # fmt: skip


@pytest.mark.staff_trail_broken_on_purpose
def test_the_command_names_a_changed_record_and_exits_1(five_actions):
    target = five_actions[0]
    behind_the_trigger("UPDATE compliance_staffaction SET reason = 'edited' WHERE id = %s", (target.pk,))

    code, lines = staff_audit_command()

    assert code == 1
    assert lines == [
        "FAIL staff actions follow their hash chain",
        f"     - staff action {target.pk}: its chain hash does not match its content (it was changed)",
        "ok   the chain head is the last staff action's",
        "ok   database guards are in place",
        "staff_audit: 1 violation(s) in 5 staff actions",
    ]


@pytest.mark.staff_trail_broken_on_purpose
def test_the_command_names_a_disabled_trigger(five_actions):
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(f"ALTER TABLE compliance_staffaction DISABLE TRIGGER {audit.TRIGGER}")

    code, lines = staff_audit_command()

    assert code == 1
    assert "     - trigger compliance_staff_action_append_only is missing or disabled" in lines
    assert lines[-1] == "staff_audit: 1 violation(s) in 5 staff actions"


def test_ledger_audit_and_staff_audit_agree_on_the_adjustments(five_actions):
    """Each wallet.adjust record names the ledger transaction that moved the money."""
    recorded = [r.after["transaction"] for r in five_actions if r.action == "wallet.adjust"]
    adjustments = Transaction.objects.filter(kind="adjustment").order_by("pk")
    assert recorded == [tx.public_id for tx in adjustments]
    assert [r.reason for r in five_actions if r.action == "wallet.adjust"] == [tx.reason for tx in adjustments]
