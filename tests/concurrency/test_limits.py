"""Player-protection limits under real concurrency: real threads, each with its own PostgreSQL
connection, released together by a barrier (helpers shared with test_parallel_bets).

The guarantee comes from where compliance reads: inside the wallet's money transaction, after the
player's accounts are locked, so each bet sums usage that includes every one committed before it.
Twenty at once against a limit never pass it together, and a refused call moves nothing. (Deposit
limits are checked when a deposit starts, at the cashier: the payments app's tests race those.)
"""

from __future__ import annotations

import pytest

from apps.compliance import services as compliance
from apps.compliance.errors import LimitReached
from apps.wallet import selectors
from apps.wallet.choices import TransactionKind
from apps.wallet.models import Transaction
from tests.concurrency.test_parallel_bets import assert_audit_clean, bet_call, funded_player, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def split(outcomes):
    accepted = [o.result for o in outcomes if o.error is None]
    refused = [o.error for o in outcomes if o.error is not None]
    assert [e for e in refused if not isinstance(e, LimitReached)] == []
    return accepted, refused


def test_twenty_bets_at_once_against_a_wager_limit_never_pass_it_together():
    player = funded_player(100_000)
    compliance.set_limit(player=player, kind="wager", period="24h", amount=1_000)

    accepted, refused = split(run_at_once([bet_call(player.pk, 150, f"wager-{n}") for n in range(20)]))

    assert (len(accepted), len(refused)) == (6, 14)  # 6 x 150 = 900; a seventh would make 1,050
    state = selectors.get_wallet_state(player.pk)
    assert (state.cash, state.version) == (100_000 - 900, 1 + 6)
    assert Transaction.objects.filter(player=player, kind=TransactionKind.BET).count() == 6
    assert_audit_clean()


def test_twenty_bets_at_once_against_a_loss_limit_of_several_windows():
    player = funded_player(100_000)
    compliance.set_limit(player=player, kind="loss", period="24h", amount=5_000)
    compliance.set_limit(player=player, kind="loss", period="30d", amount=700)  # the lowest applies

    accepted, refused = split(run_at_once([bet_call(player.pk, 100, f"loss-{n}") for n in range(20)]))

    assert (len(accepted), len(refused)) == (7, 13)
    assert selectors.get_wallet_state(player.pk).cash == 100_000 - 700
    assert_audit_clean()
