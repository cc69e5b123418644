"""The game RTP drift rule (docs/rtp.md): a rigged provider paying 120 % on a game declared at
96 % fires once, through the signed wallet API, however many rounds and evaluations follow; a
game within its band fires nothing; the alert has no player, names the game and band, and never
goes into a case; the rule's refusals; two evaluations at once fire once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from apps.accounts.choices import StaffRole
from apps.accounts.tests.factories import make_player, make_staff
from apps.compliance import cases, engine, game_rtp, services, signals
from apps.compliance.errors import InvalidCase, InvalidRule
from apps.compliance.models import Alert, Rule, RuleFiring
from apps.games import services as games
from apps.wallet import services as wallet
from apps.wallet.tests.test_api_wallet import SECRET, call, money_body
from apps.wallet.tests.test_game_rounds import play

pytestmark = pytest.mark.django_db

RIGGED = "rigged"
ROUNDS = 300
MIN_ROUNDS = 200


@pytest.fixture
def rule():
    """The seeded rule (enabled), judged from 200 rounds for a quicker test."""
    seeded = Rule.objects.get(code="game-rtp-drift")
    assert seeded.enabled
    assert seeded.parameters == {"min_rounds": 1000, "sigmas": 3, "window_seconds": 2592000}
    return services.save_rule(
        code=seeded.code, rule_type=seeded.type, parameters={**seeded.parameters, "min_rounds": MIN_ROUNDS},
        severity=seeded.severity, actions=seeded.actions, enabled=True, acting_user=make_staff(StaffRole.COMPLIANCE),
        reason="judge from 200 rounds",
    )  # fmt: skip


@pytest.fixture
def raised():
    sent = []

    def collect(sender, **payload):
        sent.append(payload)

    signals.alert_raised.connect(collect, dispatch_uid="game_rtp_tests.raised")
    yield sent
    signals.alert_raised.disconnect(dispatch_uid="game_rtp_tests.raised")


def monitored(provider_code: str, code: str, rtp="0.96", sigma="1"):
    provider = games.save_provider(code=provider_code, secret=SECRET)
    games.save_game(provider=provider, code=code, name=code, game_type="slots", declared_rtp=Decimal(rtp),
                    return_sigma=Decimal(sigma))  # fmt: skip
    return provider


def test_a_rigged_provider_paying_120_percent_fires_once_and_a_fair_game_never(
    client, rule, raised, django_capture_on_commit_callbacks
):
    monitored(RIGGED, "fruits")
    monitored("fair", "fruits")
    player = make_player(currency="EUR")
    wallet.adjust_balance(player_id=player.pk, amount=10_000_000, reason="test set-up", acting_user=None)

    for n in range(ROUNDS):
        with django_capture_on_commit_callbacks(execute=True):  # each call's commit, then its receivers
            bet = call(client, "bet", money_body(player, 100, tx=f"b{n}", round_id=f"r{n}", game_id="fruits"),
                       provider=RIGGED)  # fmt: skip
            won = call(client, "win", money_body(player, 120, tx=f"w{n}", round_id=f"r{n}", game_id="fruits"),
                       provider=RIGGED)  # fmt: skip
            # The fair provider's fruits: 0 and 192 in turn, 96 % exactly (its zero wins post no event).
            play(player, "provider:fair", f"f{n}", [100], 192 if n % 2 else 0, game="fruits")
        assert (bet.status_code, won.status_code) == (200, 200)

    # Judged at the 100th, 200th and 300th win of `fruits` in this process; out from the 200th
    # (enough rounds), where it fired; the 300th found the firing there.
    alert = Alert.objects.get()
    assert alert.player_id is None
    assert alert.firing.player_id is None
    assert alert.firing.subject == "rigged/fruits EUR 1"
    detail = alert.detail
    assert (detail["provider"], detail["game"], detail["currency"], detail["stake_band"], detail["rounds"]) == (
        RIGGED, "fruits", "EUR", "100-999", MIN_ROUNDS,
    )  # fmt: skip
    # 200 rounds of 100: 3 x 1 x sqrt(2,000,000) / 20,000 = 0.212132 above 0.96.
    assert (detail["observed_rtp"], detail["expected_rtp"], detail["band_high"]) == (
        "1.200000", "0.9600000000", "1.172132",
    )  # fmt: skip
    assert (alert.value, alert.threshold) == (1_200_000, 1_172_132)
    assert [(event["player_id"], event["rule"], event["rule_type"]) for event in raised] == [
        ("", "game-rtp-drift", "game_rtp_drift")
    ]
    assert RuleFiring.objects.count() == 1

    officer = make_staff(StaffRole.COMPLIANCE)
    with pytest.raises(InvalidCase):
        cases.open_case(alerts=[alert], acting_user=officer)
    client.force_login(officer)  # the alerts queue shows what the alert is about
    assert "rigged/fruits EUR 1" in client.get("/backoffice/compliance/alert/").content.decode()
    assert client.get(f"/backoffice/compliance/alert/{alert.pk}/change/").status_code == 200
    assert "rigged/fruits EUR 1" in client.get("/backoffice/compliance/rulefiring/").content.decode()


def test_a_game_not_monitored_or_with_too_few_rounds_is_not_judged(rule, monkeypatch):
    monkeypatch.setattr(game_rtp, "EVERY_MIN_EVENTS", 1)  # judge on every win
    monitored("acme", "few")
    player = make_player(currency="EUR")
    wallet.adjust_balance(player_id=player.pk, amount=1_000_000, reason="test set-up", acting_user=None)
    for n in range(20):
        play(player, "provider:acme", f"few-{n}", [100], 1_000, game="few")  # 1000 %, but 20 rounds
        play(player, "provider:acme", f"free-{n}", [100], 1_000, game="unlisted")
    for game in ("few", "unlisted"):
        firings = game_rtp.judge_game(drift_rules(), game, at=timezone.now())
        assert firings == []
    assert not Alert.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_evaluations_at_once_fire_once(rule, monkeypatch):
    """Two processes judging the same drifting game at the same moment: the firing's constraint
    (rule version, subject, window) lets one through."""
    monkeypatch.setattr(game_rtp, "EVERY_MIN_EVENTS", 10**9)  # no judgement while the rounds are played
    monitored(RIGGED, "wheel", sigma="0.1")
    player = make_player(currency="EUR")
    wallet.adjust_balance(player_id=player.pk, amount=1_000_000, reason="test set-up", acting_user=None)
    for n in range(MIN_ROUNDS):
        play(player, f"provider:{RIGGED}", f"w{n}", [100], 200, game="wheel")
    rules = drift_rules()
    at = timezone.now()
    results, barrier = [], threading.Barrier(2)

    def judge():
        try:
            barrier.wait(timeout=10)
            results.append(len(game_rtp.judge_game(rules, "wheel", at=at)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=judge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 1]
    assert Alert.objects.filter(firing__subject="rigged/wheel EUR 1").count() == 1


def test_the_rule_alerts_only_and_its_parameters_are_checked(rule):
    staff = make_staff(StaffRole.COMPLIANCE)
    base = {"code": "game-rtp-drift", "rule_type": "game_rtp_drift", "severity": "medium", "enabled": True,
            "acting_user": staff, "reason": "try"}  # fmt: skip
    params = {"min_rounds": 1000, "sigmas": 3, "window_seconds": 2592000}
    with pytest.raises(InvalidRule, match="only action is alert"):
        services.save_rule(parameters=params, actions=["alert", "lock"], **base)
    for wrong in ({"sigmas": 0}, {"sigmas": 11}, {"min_rounds": 9}, {"window_seconds": 60}):
        with pytest.raises(InvalidRule):
            services.save_rule(parameters={**params, **wrong}, actions=["alert"], **base)


def drift_rules():
    return [active for active in engine.active_rules() if active.type == "game_rtp_drift"]
