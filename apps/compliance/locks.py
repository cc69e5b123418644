"""The only module of compliance that takes row locks.

Each compliance write locks one row of the player's own, so that two changes for one player are
serialised: a limit row (two changes of the same limit cannot both read the old amount) or the
player's protection row (two time-outs at once cannot both pass the never-shorten check). A
write that takes more than one takes them in one order: the protection row, then a limit row,
then (through accounts' services) the player row, as a behaviour rule with both the
`require_kyc` and `limit` actions does (`engine.py`); the rule engine's run rows of the player
come before all of those (a run is moved, then the rules it fires act). A
compliance write never locks the wallet's rows, and the wallet's money transaction never locks
these (it only reads them), so the two apps' locks cannot deadlock with each other.

The staff-action trail has one chain for everyone, so its appends are serialised on one row, the
chain's head. That lock is always the last one a transaction takes (a staff action is recorded
once its change is written, and nothing locks after recording), so no transaction holding it ever
waits for another lock: it cannot be part of a deadlock, only make staff actions queue briefly.
"""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import Player
from apps.compliance.models import Case, Limit, PlayerProtection, Rule, RuleRun, StaffActionHead


def lock_or_create_limit(player: Player, kind: str, period: str, now: dt.datetime) -> Limit:
    """The player's limit of this kind and period, created (empty) on first use, locked."""
    limit, _ = Limit.objects.select_for_update().get_or_create(
        player=player, kind=kind, period=period, defaults={"updated_at": now}
    )
    return limit


def lock_limit(player: Player, kind: str, period: str) -> Limit | None:
    """The player's limit of this kind and period, locked, or None."""
    return Limit.objects.select_for_update().filter(player=player, kind=kind, period=period).first()


def lock_protection(player: Player) -> PlayerProtection:
    """The player's protection row (with its current exclusion), created on first use, locked."""
    PlayerProtection.objects.get_or_create(player=player)
    return PlayerProtection.objects.select_for_update(of=("self",)).select_related("exclusion").get(player=player)


def lock_rule(code: str) -> Rule | None:
    """The behaviour rule named `code`, locked (two staff saving one rule write two versions one
    after the other, never the same version twice), or None."""
    return Rule.objects.select_for_update().filter(code=code).first()


def lock_rule_runs(player_id: int, keys: list[str], started_at: int) -> list[RuleRun]:
    """The player's runs named `keys` (created empty on first use, at `started_at`), locked in key
    order: two events of one player moving the same run queue on its row, so a run counts each
    event once and in order. A concurrent first event's insert waits for this one's and does
    nothing (ignore_conflicts), then queues for the lock."""
    RuleRun.objects.bulk_create(
        [RuleRun(player_id=player_id, key=key, started_at=started_at, last_at=started_at) for key in sorted(keys)],
        ignore_conflicts=True,
    )
    return list(RuleRun.objects.select_for_update().filter(player_id=player_id, key__in=keys).order_by("key"))


def lock_case(case_id: int) -> Case:
    """The case, locked: two staff changing one case (a comment while another resolves it) are
    serialised, so nothing is added to a case after it was resolved. Raises Case.DoesNotExist."""
    return Case.objects.select_for_update().get(pk=case_id)


def lock_staff_action_head(genesis: str) -> StaffActionHead:
    """The head of the staff-action chain, created at `genesis` on first use, locked until the
    caller's transaction ends. Two first appends at once: one inserts, the other's insert waits
    for it and does nothing (ignore_conflicts), then queues for the lock."""
    head = StaffActionHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        StaffActionHead.objects.bulk_create([StaffActionHead(pk=1, chain_hash=genesis)], ignore_conflicts=True)
        head = StaffActionHead.objects.select_for_update().get(pk=1)
    return head
