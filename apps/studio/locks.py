"""The studio's row locks (and nowhere else: STYLE.md). Each is taken inside a short transaction
that never waits on the wallet: a round is carried on under a claim (`claimed_until`), not under
a lock held across HTTP calls.

Order: a session before a round. `lock_session` locks only the session (starting a round inserts
its row), `claim_round` only the round (`of`), and `rounds.settle`, the one transaction that writes
both, updates the session before the round. So no two transactions ever wait on each other in
opposite orders.

The crash room's locks (`latest_crash_round`, `current_crash_chain`, `crash_chain`) are taken
in transactions of their own, which touch no session or round of the slot and roulette.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.studio.models import UNFINISHED, CrashChain, CrashRound, Round, Session


def lock_session(session_id: int) -> Session:
    """The session, locked until the caller's transaction ends: rounds of one session start one at
    a time, so the shortest cycle holds against concurrent requests. Call inside `atomic`."""
    return Session.objects.select_for_update().get(pk=session_id)


def claim_round(
    round_pk: int, *, lease: dt.timedelta, untouched_since: dt.datetime | None = None
) -> tuple[Round, bool]:
    """Claim the round for the caller for `lease`: (the round, True) when it is unfinished and no
    one else holds it (and, with `untouched_since`, it has not been touched since then); else
    (the round as it stands, False). Only the holder of the claim calls the wallet for a round,
    so a duplicate request waits for the answer instead of sending a second bet. Only the round's
    row is locked (`of`): `start` locks the session first, and the two must not cross."""
    with transaction.atomic():
        found = Round.objects.select_for_update(of=("self",)).select_related("session").get(pk=round_pk)
        now = timezone.now()
        free = found.claimed_until is None or found.claimed_until <= now
        fresh = untouched_since is not None and found.updated_at >= untouched_since
        if found.state not in UNFINISHED or not free or fresh:
            return found, False
        found.claimed_until = now + lease
        found.save(update_fields=["claimed_until"])
        return found, True


def latest_crash_round() -> CrashRound | None:
    """The crash room's latest round, locked: whoever opens the next round holds it, so two runners
    that both believe they lead (one paused past its lease) cannot open two rounds at once."""
    return CrashRound.objects.select_for_update().order_by("-number").first()


def current_crash_chain() -> CrashChain | None:
    """The chain in play (the newest), locked while its next index is taken."""
    return CrashChain.objects.select_for_update().order_by("-pk").first()


def crash_chain(pk: int) -> CrashChain:
    return CrashChain.objects.select_for_update().get(pk=pk)
