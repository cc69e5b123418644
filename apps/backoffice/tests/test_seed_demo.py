"""`seed_demo` (run by `make run`): one staff user per role, players with money and a history, and
the sportsbook's demo book with bets, idempotently: a second run moves no money and keeps the
logins."""

import json

import pytest
from django.core.management import call_command

from apps.accounts.models import Player, User
from apps.bonuses import selectors as bonuses_selectors
from apps.games.models import Provider
from apps.payments.models import DepositIntent, PaymentProvider, WebhookEvent, Withdrawal
from apps.wallet import selectors as wallet
from apps.wallet.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# 300.00 + 200.00 deposited; stakes 55.00 in all, wins 49.00.
EXPECTED_BALANCE = 50_000 - 5_500 + 4_900
# The sportsbook's demo bets (apps/sportsbook/demo.py), standing: alice 10.00 and 5.00, bob 20.00.
SPORTSBOOK_STAKES = {"alice": [1_000, 500], "bob": [2_000], "carol": []}


def test_seed_demo_is_idempotent_and_prints_working_logins(settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    first = Transaction.objects.count()
    call_command("seed_demo")

    assert Transaction.objects.count() == first  # the second run replayed, moved nothing
    logins = json.loads((tmp_path / "demo-logins.json").read_text())
    printed = capsys.readouterr().out
    for role in ("support", "compliance", "finance", "admin"):
        user = User.objects.get(username=role)
        assert user.is_staff
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(logins[role])
        assert logins[role] in printed
    assert User.objects.get(username="admin").is_superuser
    assert sorted(Player.objects.values_list("user__username", flat=True)) == ["alice", "bob", "carol"]
    assert User.objects.get(username="alice").check_password(logins["alice"])
    assert logins["demo-games-secret"] not in printed
    assert "python manage.py enrol_staff_otp USERNAME" in printed  # how a demo staff member gets a code
    assert Provider.objects.get(code="demo-games").enabled


def test_seeded_players_have_money_and_a_history(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")

    # carol also has the demo gift (20.00 SEK) and two spins of 5.00 on it, paid from her cash
    # first; bob a sportsbook bet
    gift = {"bob": (0, 0), "carol": (2 * 500, 2_000)}
    for player in Player.objects.exclude(user__username="alice"):
        spent, bonus = gift[player.user.username]
        stakes = SPORTSBOOK_STAKES[player.user.username]
        spent += sum(stakes)
        state = wallet.get_wallet_state(player.pk)
        assert (state.cash, state.bonus) == (EXPECTED_BALANCE - spent, bonus)
        history = wallet.list_transactions_page(player.pk, page_size=100)
        kinds = [row.kind for row in history.rows]
        assert kinds.count("deposit") == 2
        assert kinds.count("bet") == 7 + (2 if bonus else 0) + len(stakes)
        assert kinds.count("win") == 3  # the zero wins moved nothing and are not shown
        assert history.rows[0].balance_after == EXPECTED_BALANCE - spent + bonus


def test_the_demo_deposits_came_through_the_sandbox_cashier_each_with_its_webhook_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    deposits = DepositIntent.objects.order_by("player__user__username", "created_at")
    assert [(d.player.user.username, d.provider.code, d.amount, d.currency_id, d.status) for d in deposits] == [
        ("alice", "sandbox", 30_000, "EUR", "succeeded"), ("alice", "sandbox", 20_000, "EUR", "succeeded"),
        ("alice", "sandbox", 150_000, "EUR", "succeeded"),
        ("bob", "sandbox", 30_000, "GBP", "succeeded"), ("bob", "sandbox", 20_000, "GBP", "succeeded"),
        ("carol", "sandbox", 30_000, "SEK", "succeeded"), ("carol", "sandbox", 20_000, "SEK", "succeeded"),
    ]  # fmt: skip
    webhooks = WebhookEvent.objects.values_list("type", "reference", "verdict")
    assert sorted(webhooks) == sorted(("deposit.succeeded", d.public_id, "applied") for d in deposits)
    credits = Transaction.objects.filter(kind="deposit").values_list("external_id", flat=True)
    assert sorted(credits) == sorted(f"deposit:{d.public_id}" for d in deposits)


def test_carol_wagers_the_demo_gift_across_the_slot_and_the_roulette(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    carol = Player.objects.get(user__username="carol")
    rows, _ = bonuses_selectors.list_bonuses(carol)
    assert [(r.campaign.code, r.status, r.amount, r.remaining, r.wagering_required, r.wagering_done) for r in rows] == [
        ("DEMO-GIFT", "active", 2_000, 2_000, 20_000, 1_000)  # every game counts in full for the gift
    ]


def test_alice_is_verified_with_a_withdrawal_awaiting_approval_and_the_sandbox_psp_exists(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")

    alice = Player.objects.get(user__username="alice")
    assert alice.kyc_status == "verified"
    assert [(w.amount, w.status) for w in Withdrawal.objects.filter(player=alice)] == [(120_000, "awaiting_approval")]
    state = wallet.get_wallet_state(alice.pk)
    # the withdrawal is out of the playable balance, and her sportsbook stakes
    assert state.cash == EXPECTED_BALANCE + 150_000 - 120_000 - sum(SPORTSBOOK_STAKES["alice"])
    assert PaymentProvider.objects.get(code="sandbox").enabled
    assert not Withdrawal.objects.exclude(player=alice).exists()


def test_the_demo_has_a_rule_on_an_alert_from_it_and_a_case_assigned_to_compliance(settings, tmp_path):
    from apps.compliance import audit
    from apps.compliance.models import Alert, Case, Rule

    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")  # a second run changes nothing: no second version, alert or case

    rule = Rule.objects.get(code="deposit-threshold-24h")
    assert (rule.enabled, rule.version) == (True, 2)
    alice = Player.objects.get(user__username="alice")
    alert = Alert.objects.get()
    assert (alert.player, alert.rule_version.version, alert.value) == (alice, 2, 200_000)
    case = Case.objects.get()
    assert (case.player, case.assignee.username, case.status) == (alice, "compliance", "investigating")
    assert list(case.alerts.all()) == [alert]
    assert case.comments.count() == 1
    assert audit.run_audit() == {name: [] for name in audit.CHECKS}


def test_the_demo_sportsbook_has_live_and_upcoming_events_on_sale_and_bets_of_alice_and_bob(settings, tmp_path, capsys):
    from apps.sportsbook import selectors as sportsbook
    from apps.sportsbook.models import Bet, Feed, Market

    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")  # the book again: no version moves, no second bet

    secret = json.loads((tmp_path / "demo-logins.json").read_text())["demo-feed-secret"]
    feed = Feed.objects.get()
    assert (feed.code, feed.secret) == ("demo", secret)
    assert secret not in capsys.readouterr().out
    events = sportsbook.list_events(statuses=["live", "upcoming"])
    assert [(e.event_id, e.status) for e in events] == [
        ("demo-live", "live"), ("demo-1", "upcoming"), ("demo-2", "upcoming"), ("demo-3", "upcoming")
    ]  # fmt: skip
    both = ["Match odds (90 minutes)", "Total goals over/under 2.5 (90 minutes)"]
    assert all([m.name for m in e.markets.all()] == both for e in events)
    assert set(Market.objects.values_list("status", "version")) == {("open", 1)}
    stakes = sorted(Bet.objects.values_list("player__user__username", "status", "stake"))
    assert stakes == [("alice", "accepted", 500), ("alice", "accepted", 1_000), ("bob", "accepted", 2_000)]
    assert sportsbook.recompute_exposure() == sportsbook.stored_exposure()
