"""Recovery of rounds left unfinished by a crash (docs/studio.md, "Recovery").

- opened or bet_placed: the outcome was never shown, so the bet is undone: a `rollback` naming
  `<round_id>:bet`. A bet the wallet never saw is then recorded there as rolled back, so a late copy
  of it cannot land. The round ends rolled_back.
- outcome_drawn: the outcome stands and the money is owed: the same `win` is sent again, and the
  round ends settled.

Only rounds untouched for STALE_AFTER are taken (a live request gives up on the wallet long
before), each under the same claim a live request takes (locks.claim_round), so recovery and a
resend never carry one round on at once. Sync, with the wallet client's `call_sync`: it runs in the
outbox sweeper, in `manage.py studio_recover`, and (in a worker thread) when a player opens a new
session.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from apps.studio import locks, rounds
from apps.studio.models import UNFINISHED, Round, RoundState
from apps.studio.wallet_client import WalletUnavailable, call_sync

logger = structlog.get_logger(__name__)

STALE_AFTER = dt.timedelta(seconds=60)
BATCH = 100  # rounds per call; the next pass does the rest


def recover(*, stale_after: dt.timedelta = STALE_AFTER, player_id: str | None = None, limit: int = BATCH) -> int:
    """Complete or roll back up to `limit` unfinished rounds untouched for `stale_after` (only
    `player_id`'s, if given). Returns how many were finished."""
    now = timezone.now()
    untouched_since = now - stale_after
    stale = Round.objects.filter(state__in=UNFINISHED, updated_at__lt=untouched_since).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )
    if player_id is not None:
        stale = stale.filter(session__player_id=player_id)
    finished = 0
    for pk in list(stale.order_by("updated_at").values_list("pk", flat=True)[:limit]):
        round_, claimed = locks.claim_round(pk, lease=rounds.LEASE, untouched_since=untouched_since)
        if not claimed:
            continue
        try:
            finished += recover_round(round_)
        except WalletUnavailable:
            logger.warning("studio.recovery_wallet_unavailable", round_id=round_.round_id)
            rounds.release(round_)
        except Exception:
            rounds.release(round_)
            raise
    return finished


def recover_round(round_: Round) -> bool:
    """Finish one claimed round; False (claim released) when the wallet refused the call."""
    if round_.state == RoundState.OUTCOME_DRAWN:
        win = call_sync("win", rounds.wallet_body(round_, "win"))
        if win.ok:
            rounds.settle(round_, win)
            logger.info("studio.round_recovered", round_id=round_.round_id, state="settled")
            return True
        answer = win
    else:
        rollback = call_sync("rollback", rounds.wallet_body(round_, "rollback"))
        if rollback.ok:
            rounds.mark_rolled_back(round_, rollback)
            logger.info("studio.round_recovered", round_id=round_.round_id, state="rolled_back")
            return True
        answer = rollback
    logger.error("studio.recovery_refused", round_id=round_.round_id, status=answer.status, code=answer.code)
    rounds.release(round_)
    return False


def recover_player(player_id: str) -> int:
    """The player's own stale rounds, when they open a new session: the embedded server (`make
    run`) has no sweeper. Never fails the launch; run in a worker thread of its own, whose
    database connection it closes."""
    try:
        return recover(player_id=player_id)
    except Exception:
        logger.exception("studio.recovery_failed", player_id=player_id)
        return 0
    finally:
        connections.close_all()


def sweep() -> int:
    """The outbox sweeper's pass (apps.common.sweeps)."""
    return recover()
