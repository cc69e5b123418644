"""Rounds over the real wallet API (docs/studio.md, "Rounds", "Jurisdiction rules in play", "API"):
the studio's API and the wallet it calls are served by a live server; a front server between them
counts the studio's wallet calls."""

from __future__ import annotations

import threading

import httpx
import pytest

from apps.compliance import services as compliance_services
from apps.compliance.tests.factories import limit
from apps.studio import roulette
from apps.studio.models import Round, RoundState, Session
from apps.studio.tests.support import ledger
from apps.wallet.selectors import get_wallet_state
from apps.wallet.tests.factories import funded_player
from tests.support import call_audit_command

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def balance_of(player) -> int:
    return get_wallet_state(player.pk).balance


def test_a_slot_round_bets_draws_and_wins_over_the_wallet_api(studio):
    player = funded_player(10_000)
    key = studio.session(player)

    answer = studio.round(key, {"request_id": "spin-1", "stake": 100})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    round_ = Round.objects.get(round_id=body["round_id"])
    assert round_.state == RoundState.SETTLED
    assert len(body["outcome"]["window"]) == 3
    assert all(len(row) == 5 for row in body["outcome"]["window"])
    assert body["payout"] == sum(line["amount"] for line in body["outcome"]["lines"])
    assert body["balance"] == balance_of(player) == 10_000 - 100 + body["payout"]
    assert body["currency"] == "EUR"
    assert ledger(round_.round_id) == [("bet", -100), ("win", body["payout"])]
    assert body["session"] == {
        "net_position": body["payout"] - 100,
        "elapsed_seconds": body["session"]["elapsed_seconds"],
        "staked": 100,
        "returned": body["payout"],
        "currency": "EUR",
    }
    assert body["next_round_at"] is not None
    session = Session.objects.get(pk=round_.session_id)
    assert (session.staked, session.returned, session.last_round_at) == (100, body["payout"], round_.started_at)
    assert studio.front.calls == {"authenticate": 1, "bet": 1, "win": 1}


def test_a_roulette_round_settles_every_bet_against_the_drawn_pocket(studio):
    player = funded_player(10_000)
    key = studio.session(player, "pam-roulette")
    bets = [
        {"kind": "red", "numbers": [], "stake": 100},
        {"kind": "straight", "numbers": [17], "stake": 10},
        {"kind": "dozen", "numbers": [2], "stake": 50},
        {"kind": "column", "numbers": [3], "stake": 20},
    ]

    answer = studio.round(key, {"request_id": "r-1", "bets": bets})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    pocket = body["outcome"]["pocket"]
    assert body["outcome"]["colour"] == roulette.colour(pocket)
    expected = [
        roulette.settle(roulette.bet("red", None, 100), pocket),
        roulette.settle(roulette.bet("straight", [17], 10), pocket),
        roulette.settle(roulette.bet("dozen", 2, 50), pocket),
        roulette.settle(roulette.bet("column", 3, 20), pocket),
    ]
    assert [b["returned"] for b in body["outcome"]["bets"]] == expected
    assert body["payout"] == sum(expected)
    assert ledger(body["round_id"]) == [("bet", -180), ("win", sum(expected))]
    assert body["balance"] == balance_of(player) == 10_000 - 180 + sum(expected)


def test_a_round_resent_a_thousand_times_moves_money_once(studio):
    player = funded_player(10_000)
    key = studio.session(player)
    first = studio.round(key, {"request_id": "again", "stake": 50}).json()

    # "Connection: close": the live server's keep-alive answers wait out a delayed ACK (~40 ms).
    with httpx.Client(headers={"Connection": "close"}) as client:
        answers = [studio.round(key, {"request_id": "again", "stake": 50}, client) for _ in range(1000)]

    assert {a.status_code for a in answers} == {200}
    assert all(a.json() == first for a in answers)
    assert ledger(first["round_id"]) == [("bet", -50), ("win", first["payout"])]
    assert Round.objects.count() == 1
    assert studio.front.calls["bet"] == 1
    assert studio.front.calls["win"] == 1
    assert balance_of(player) == 10_000 - 50 + first["payout"]


def test_concurrent_duplicates_move_money_once(studio):
    player = funded_player(10_000)
    key = studio.session(player, "pam-roulette")
    body = {"request_id": "double-click", "bets": [{"kind": "even", "numbers": [], "stake": 200}]}
    start = threading.Barrier(12)
    answers: list[httpx.Response] = []

    def send() -> None:
        start.wait(timeout=30)
        answers.append(studio.round(key, body))

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == 12
    assert {a.status_code for a in answers} == {200}
    assert all(a.json() == answers[0].json() for a in answers)
    round_id = answers[0].json()["round_id"]
    assert ledger(round_id) == [("bet", -200), ("win", answers[0].json()["payout"])]
    assert studio.front.calls["bet"] == 1
    assert call_audit_command("wallet_audit")[0] is None


def test_a_request_id_reused_for_another_round_is_refused(studio):
    key = studio.session(funded_player(10_000))
    studio.round(key, {"request_id": "one", "stake": 10})

    answer = studio.round(key, {"request_id": "one", "stake": 20})

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "REQUEST_ID_REUSED"
    assert studio.front.calls["bet"] == 1


def test_a_round_that_starts_too_soon_is_refused_before_any_wallet_call(studio):
    player = funded_player(10_000)
    key = studio.session(player, min_cycle_ms=60_000)
    first = studio.round(key, {"request_id": "a", "stake": 100})
    assert first.status_code == 200
    calls = dict(studio.front.calls)

    answer = studio.round(key, {"request_id": "b", "stake": 100})

    assert answer.status_code == 429
    body = answer.json()
    assert body["error"]["code"] == "SPIN_TOO_SOON"
    assert 0 < body["error"]["retry_after_ms"] <= 60_000
    assert body["next_round_at"] == first.json()["next_round_at"]
    assert int(answer.headers["Retry-After"]) >= 1
    assert body["session"]["staked"] == 100
    assert studio.front.calls == calls
    assert not Round.objects.filter(request_id="b").exists()
    # The first round's resend is still its stored answer, not a new round.
    assert studio.round(key, {"request_id": "a", "stake": 100}).json() == first.json()


def test_autoplay_where_it_is_forbidden_is_refused_before_any_wallet_call(studio):
    key = studio.session(funded_player(10_000), autoplay=False)
    calls = dict(studio.front.calls)

    answer = studio.round(key, {"request_id": "auto", "stake": 100, "autoplay": True})

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "AUTOPLAY_FORBIDDEN"
    assert studio.front.calls == calls
    assert not Round.objects.exists()
    assert studio.round(key, {"request_id": "manual", "stake": 100, "autoplay": False}).status_code == 200


def test_autoplay_where_it_is_allowed_plays(studio):
    key = studio.session(funded_player(10_000), autoplay=True)
    answer = studio.round(key, {"request_id": "auto", "stake": 100, "autoplay": True})
    assert answer.status_code == 200
    assert Round.objects.get().autoplay is True


@pytest.mark.parametrize(
    ("game", "body"),
    [
        ("pam-slot", {"request_id": "x", "stake": 0}),
        ("pam-slot", {"request_id": "x", "stake": 15}),  # not a whole number per line
        ("pam-slot", {"request_id": "x", "stake": 10.0}),
        ("pam-slot", {"request_id": "x", "stake": True}),
        ("pam-roulette", {"request_id": "x", "bets": []}),
        ("pam-roulette", {"request_id": "x", "bets": [{"kind": "split", "numbers": [3, 4], "stake": 10}]}),
        ("pam-roulette", {"request_id": "x", "bets": [{"kind": "red", "numbers": [1], "stake": 10}]}),
        ("pam-roulette", {"request_id": "x", "bets": [{"kind": "dozen", "numbers": [4], "stake": 10}]}),
        ("pam-roulette", {"request_id": "x", "bets": [{"kind": "red", "numbers": [], "stake": -5}]}),
        ("pam-roulette", {"request_id": "x", "bets": [{"kind": "snake", "numbers": [], "stake": 5}]}),
    ],
)
def test_invalid_bets_are_refused_and_move_nothing(studio, game, body):
    key = studio.session(funded_player(10_000), game)

    answer = studio.round(key, body)

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "INVALID_BET"
    assert "session" in answer.json()
    assert studio.front.calls["bet"] == 0
    assert not Round.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"stake": 100},
        {"request_id": "", "stake": 100},
        {"request_id": "x", "stake": 100, "autoplay": "yes"},
    ],
)
def test_malformed_requests_are_refused(studio, body):
    key = studio.session(funded_player(10_000))
    answer = studio.round(key, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    assert not Round.objects.exists()


def test_an_unknown_session_and_a_get_are_refused(studio):
    answer = studio.round("ss_nope", {"request_id": "x", "stake": 100})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "SESSION_NOT_FOUND"
    key = studio.session(funded_player(100))
    assert httpx.get(f"{studio.url}/studio/api/sessions/{key}/rounds").status_code == 405


def test_a_bet_the_wallet_refuses_ends_the_round_refused(studio):
    player = funded_player(50)
    key = studio.session(player)

    answer = studio.round(key, {"request_id": "broke", "stake": 100})

    assert answer.status_code == 402
    body = answer.json()
    assert body["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert body["balance"] == 50
    round_ = Round.objects.get()
    assert (round_.state, round_.refusal_code) == (RoundState.REFUSED, "INSUFFICIENT_FUNDS")
    assert ledger(round_.round_id) == []
    assert studio.front.calls["win"] == 0
    # A resend is the stored answer: the wallet is not asked again.
    assert studio.round(key, {"request_id": "broke", "stake": 100}).json() == body
    assert studio.front.calls["bet"] == 1
    assert Session.objects.get().staked == 0


def test_a_bet_over_a_limit_is_refused_with_the_wallets_reason(studio):
    player = funded_player(10_000)
    limit(player, "wager", "24h", 150)
    key = studio.session(player)
    assert studio.round(key, {"request_id": "1", "stake": 100}).status_code == 200

    answer = studio.round(key, {"request_id": "2", "stake": 100})

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "LIMIT_REACHED"
    assert error["reason"]
    assert Round.objects.get(request_id="2").state == RoundState.REFUSED
    assert Session.objects.get().staked == 100


def test_a_bet_while_on_a_time_out_is_refused_player_blocked(studio):
    player = funded_player(10_000)
    key = studio.session(player)
    compliance_services.start_time_out(player=player, hours=24)

    answer = studio.round(key, {"request_id": "1", "stake": 100})

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "PLAYER_BLOCKED"
    round_ = Round.objects.get()
    assert (round_.state, round_.refusal_code) == (RoundState.REFUSED, "PLAYER_BLOCKED")
    assert ledger(round_.round_id) == []


def test_concurrent_rounds_cannot_beat_the_cycle(studio):
    player = funded_player(10_000)
    key = studio.session(player, min_cycle_ms=60_000)
    start = threading.Barrier(8)
    answers: list[httpx.Response] = []

    def send(n: int) -> None:
        start.wait(timeout=30)
        answers.append(studio.round(key, {"request_id": f"fast-{n}", "stake": 10}))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(a.status_code for a in answers) == [200] + [429] * 7
    assert Round.objects.count() == 1
    assert studio.front.calls["bet"] == 1
