"""contracts/payments.md: "Every movement is a wallet transaction (pushed to the player like any
other)". Each cashier and webhook movement produces one `wallet.updated` frame to the player's
group, live (through the realtime receiver) and as the ledger replays it (polling, `resume`)."""

from __future__ import annotations

import pytest

from apps.payments import services
from apps.payments.choices import EventType
from apps.payments.tests import factories as psp
from apps.realtime import receivers
from apps.realtime.groups import player_group
from apps.realtime.selectors import list_frames_since

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch) -> list[tuple[str, dict]]:
    """Every (group, message) the realtime receivers push during the test."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(receivers, "push", lambda messages: sent.extend(messages))
    return sent


def test_every_payment_movement_is_pushed_to_the_player_as_a_wallet_updated_frame(
    pushed, django_capture_on_commit_callbacks
):
    psp.a_provider()
    player = psp.verified_player(500_000)
    group = player_group(player.pk)
    with django_capture_on_commit_callbacks(execute=True):
        # Withdrawals first: one soon after a deposit would await approval (a risk rule).
        paid = psp.request_withdrawal(player, 1_000)  # withdrawal (approved)
        psp.post_webhook(psp.event(EventType.PAYOUT_SUCCEEDED, paid.public_id, 1_000))  # withdrawal_paid
        failed = psp.request_withdrawal(player, 2_000)  # withdrawal (approved)
        psp.post_webhook(psp.event(EventType.PAYOUT_FAILED, failed.public_id, 2_000))  # withdrawal_returned
        waiting = psp.request_withdrawal(player, 200_000)  # withdrawal (awaiting approval)
        services.cancel_withdrawal(player=player, withdrawal_id=waiting.public_id)  # withdrawal_returned
        deposit = psp.start_deposit(player, 5_000)
        psp.post_webhook(psp.event(EventType.DEPOSIT_SUCCEEDED, deposit.public_id, 5_000))  # deposit
        psp.post_webhook(psp.event(EventType.DEPOSIT_CHARGEBACK, deposit.public_id, 5_000))  # chargeback

    frames = [message["frame"] for to, message in pushed if to == group and message["type"] == "wallet.updated"]

    assert [(f["transaction"]["kind"], f["transaction"]["amount"], f["cash"]) for f in frames] == [
        ("withdrawal", -1_000, 499_000),
        ("withdrawal_paid", 0, 499_000),  # pending to the PSP: the playable balance does not change
        ("withdrawal", -2_000, 497_000),
        ("withdrawal_returned", 2_000, 499_000),
        ("withdrawal", -200_000, 299_000),
        ("withdrawal_returned", 200_000, 499_000),
        ("deposit", 5_000, 504_000),
        ("chargeback", -5_000, 499_000),
    ]
    # Versions follow on from the funding adjustment (version 1), one per movement.
    assert [f["version"] for f in frames] == list(range(2, 10))
    # What a client that missed them gets is the same frames (polling, `resume`).
    assert list_frames_since(player.pk, 1) == frames
    assert psp.cash(player) == 499_000
    psp.assert_audit_clean()
