"""Rounds a crash left unfinished are completed or rolled back (docs/studio.md, "Recovery"): the
faults are real lost calls and answers between the studio and the live wallet (the front server),
and a crash of the request between the bet and the draw."""

from __future__ import annotations

import datetime as dt
import io
import json

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.common import sweeps
from apps.studio import recovery, rounds, wallet_client
from apps.studio.models import Round, RoundState, Session
from apps.studio.tests.support import ledger
from apps.wallet.selectors import get_wallet_state
from apps.wallet.tests.factories import funded_player
from tests.support import call_audit_command

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def balance_of(player) -> int:
    return get_wallet_state(player.pk).balance


def age(round_: Round, seconds: int = 120) -> None:
    """As if the round had been left alone for `seconds`."""
    Round.objects.filter(pk=round_.pk).update(updated_at=timezone.now() - dt.timedelta(seconds=seconds))


def audit_is_clean() -> bool:
    return call_audit_command("wallet_audit")[0] is None


def test_a_bet_the_wallet_took_without_the_studio_hearing_is_rolled_back(studio):
    player = funded_player(1_000)
    key = studio.session(player)
    studio.front.swallow = {"bet"}

    answer = studio.round(key, {"request_id": "lost", "stake": 100})

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "ROUND_PENDING"
    round_ = Round.objects.get()
    assert round_.state == RoundState.OPENED
    assert ledger(round_.round_id) == [("bet", -100)]
    assert balance_of(player) == 900
    # A live round (just touched) is not recovery's.
    assert recovery.recover() == 0

    studio.front.swallow = set()
    age(round_)
    assert recovery.recover() == 1

    round_.refresh_from_db()
    assert round_.state == RoundState.ROLLED_BACK
    assert ledger(round_.round_id) == [("bet", -100), ("rollback", 100)]
    assert balance_of(player) == 1_000
    assert Session.objects.get().staked == 0
    resend = studio.round(key, {"request_id": "lost", "stake": 100})
    assert resend.status_code == 409
    assert resend.json()["error"]["code"] == "ROUND_ROLLED_BACK"
    assert resend.json()["balance"] == 1_000
    assert audit_is_clean()


def test_a_bet_the_wallet_never_saw_is_rolled_back_so_a_late_copy_cannot_land(studio):
    player = funded_player(1_000)
    key = studio.session(player)
    studio.front.drop = {"bet"}
    assert studio.round(key, {"request_id": "dropped", "stake": 100}).status_code == 503
    round_ = Round.objects.select_related("session").get()
    studio.front.drop = set()
    age(round_)

    call_command("studio_recover", stdout=io.StringIO())

    round_.refresh_from_db()
    assert round_.state == RoundState.ROLLED_BACK
    assert ledger(round_.round_id) == [("rollback", 0)]
    # The bet's copy that was still on its way arrives now: refused, nothing moves.
    raw = json.dumps(rounds.wallet_body(round_, "bet"), separators=(",", ":")).encode()
    late = httpx.post(
        f"{studio.url}/api/wallet/v1/bet",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Provider": settings.STUDIO_PROVIDER_CODE,
            "X-Signature": wallet_client.signature(settings.STUDIO_PROVIDER_SECRET, "bet", raw),
        },
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "TRANSACTION_ROLLED_BACK"
    assert balance_of(player) == 1_000
    assert audit_is_clean()


def test_a_win_left_unsent_is_sent_again_and_the_round_settled(studio):
    player = funded_player(1_000)
    key = studio.session(player, "pam-roulette")
    studio.front.swallow = {"win"}
    bets = {"request_id": "win-lost", "bets": [{"kind": "straight", "numbers": [n], "stake": 10} for n in range(37)]}

    assert studio.round(key, bets).status_code == 503

    round_ = Round.objects.get()
    assert round_.state == RoundState.OUTCOME_DRAWN
    assert round_.payout == 360  # one straight of the 37 wins, whatever the pocket
    studio.front.swallow = set()
    age(round_)
    assert sweeps.run_all()["studio.recover_rounds"] == 1

    round_.refresh_from_db()
    assert round_.state == RoundState.SETTLED
    assert ledger(round_.round_id) == [("bet", -370), ("win", 360)]
    assert balance_of(player) == 990
    session = Session.objects.get()
    assert (session.staked, session.returned) == (370, 360)
    resend = studio.round(key, bets)
    assert resend.status_code == 200
    assert resend.json()["outcome"] == round_.outcome
    assert resend.json()["balance"] == 990
    assert audit_is_clean()


def test_a_request_that_crashed_after_the_bet_is_rolled_back_when_the_player_comes_back(studio, monkeypatch):
    player = funded_player(1_000)
    key = studio.session(player)

    def crash(round_):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(rounds, "draw_outcome", crash)
    assert studio.round(key, {"request_id": "crash", "stake": 100}).status_code == 500
    round_ = Round.objects.get()
    assert round_.state == RoundState.BET_PLACED
    assert balance_of(player) == 900
    monkeypatch.undo()
    age(round_)

    page = studio.launch(player)  # a new session: embedded `make run` has no sweeper

    assert page.status_code == 200
    round_.refresh_from_db()
    assert round_.state == RoundState.ROLLED_BACK
    assert ledger(round_.round_id) == [("bet", -100), ("rollback", 100)]
    assert 'data-balance="1000"' in page.text
    assert audit_is_clean()


def test_a_resend_carries_an_unfinished_round_on(studio):
    player = funded_player(1_000)
    key = studio.session(player)
    studio.front.drop = {"win"}
    assert studio.round(key, {"request_id": "again", "stake": 100}).status_code == 503
    studio.front.drop = set()

    answer = studio.round(key, {"request_id": "again", "stake": 100})

    assert answer.status_code == 200
    round_ = Round.objects.get()
    assert round_.state == RoundState.SETTLED
    assert answer.json()["outcome"] == round_.outcome
    assert ledger(round_.round_id) == [("bet", -100), ("win", round_.payout)]


def test_recovery_leaves_rounds_that_another_holds_or_that_are_fresh(studio):
    player = funded_player(1_000)
    key = studio.session(player)
    studio.front.drop = {"bet"}
    studio.round(key, {"request_id": "a", "stake": 100})
    studio.front.drop = set()
    round_ = Round.objects.get()
    age(round_)
    Round.objects.filter(pk=round_.pk).update(claimed_until=timezone.now() + dt.timedelta(seconds=60))

    assert recovery.recover() == 0
    assert recovery.recover(stale_after=dt.timedelta(seconds=300)) == 0
    Round.objects.filter(pk=round_.pk).update(claimed_until=None)
    assert recovery.recover(player_id="someone-else") == 0
    assert recovery.recover(player_id=str(player.pk)) == 1
