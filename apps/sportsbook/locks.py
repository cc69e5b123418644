"""The only module of the sportsbook that takes row locks.

Feeds. Every write of a feed's events, markets and selections happens under the lock of the
feed's row (`SELECT … FOR UPDATE`), taken first in the transaction: a feed's batches apply one
after the other, in the order their locks are granted, so two deliveries of one batch cannot both
see the same `last_seq` and both apply it, and a market's `version` grows by exactly one per
change. Feeds never wait for each other. Code that will write a feed's markets outside a batch
(the staleness watchdog) takes the feed's lock first, then its markets' rows in primary-key order,
so nothing can deadlock.

Circuit breakers. A breaker's change (`breakers.py`) locks the breaker's row first, then the feeds
whose markets it suspends, in primary-key order; an approval locks its request's row before the
breaker's. A feed's batch never locks a breaker: it reads the breakers' state under its feed's
lock, and a breaker tripped meanwhile waits for that lock and then suspends what the batch opened.
Bet intake only reads the breakers' state, before the money transaction, and locks none of them.

Exposure. A bet's stake and its exposure commit in the wallet's money transaction, which has
locked the player's accounts first (apps/wallet/locks.py). Last in that transaction, after the
stake's write and the bet's rows, the exposure rows the bet touches (its selections, markets,
events and the platform's row of its currency) are locked in one `SELECT … ORDER BY id FOR
UPDATE` (`lock_exposure_windows`) and grown in one `UPDATE`: every transaction takes them in
primary-key order, so two bets on shared markets queue on the first row they share instead of
deadlocking, and a bet on other markets waits only for the platform's row. The release of a
pending bet and a settlement take the same locks in the same order (the player's accounts, then
its exposure rows). Nothing locks exposure rows and then a player's accounts, and no feed or
breaker lock is ever taken after them, so no cycle can form.

The platform's row is the one every bet of a currency shares: sportsbook bets in one currency
are serialised on it from their lock to their commit. That is the price of a platform cap that is
never breached, and why the exposure comes last in the transaction: the row is held for two round
trips and the commit, not for the stake's write and the bet's rows too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from apps.sportsbook.models import Breaker, BreakerRequest, Exposure, Feed, StakeFactor
from apps.sportsbook.throttle import Window

# (scope, target id)
ExposureKey = tuple[str, int]


def lock_feed(pk: int) -> Feed:
    """The feed, locked until the end of the caller's transaction."""
    return Feed.objects.select_for_update().get(pk=pk)


def lock_feeds(pks: Iterable[int]) -> None:
    """The feeds, locked in primary-key order until the end of the caller's transaction."""
    list(Feed.objects.select_for_update().filter(pk__in=sorted(set(pks))).order_by("pk").values_list("pk"))


def lock_breaker(name: str) -> Breaker:
    """The breaker `name` (created off the first time), locked until the end of the caller's
    transaction."""
    Breaker.objects.get_or_create(name=name)
    return Breaker.objects.select_for_update().get(name=name)


def lock_breaker_request(pk: int) -> BreakerRequest | None:
    """The breaker request, locked until the end of the caller's transaction (None: no such one)."""
    return BreakerRequest.objects.select_for_update().filter(pk=pk).first()


def lock_stake_factor(player_id: int) -> StakeFactor | None:
    """The player's stake factor row, locked until the end of the caller's transaction (None: the
    player has none yet). Only staff changes take it; a bet reads the factor without a lock."""
    return StakeFactor.objects.select_for_update().filter(player_id=player_id).first()


class ExposureNotOpen(Exception):
    """A bet's exposure rows do not all exist yet: the caller rolls back, opens them
    (`open_exposure`, in a transaction of its own) and tries again."""


def _keys_sql(keys: list[ExposureKey]) -> tuple[str, list]:
    """`(scope, target_id) IN (VALUES …)` for `keys`, with its parameters (PostgreSQL and SQLite)."""
    return f"(scope, target_id) IN (VALUES {', '.join(['(%s, %s)'] * len(keys))})", [v for key in keys for v in key]


def _select_exposure(currency: str, keys: list[ExposureKey]) -> list[tuple]:
    where, params = _keys_sql(keys)
    sql = (
        "SELECT id, scope, target_id, amount, cap, window_started_at, window_amount, "  # noqa: S608 - placeholders only
        f"previous_window_amount FROM sportsbook_exposure WHERE currency_id = %s AND {where} ORDER BY id"
    )
    if connection.vendor == "postgresql":
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [currency, *params])
        return cursor.fetchall()


def open_exposure(currency: str, keys: list[ExposureKey]) -> None:
    """Create the exposure rows of `keys` that do not exist yet, in a statement of their own,
    committed before the money transaction begins (the caller is in autocommit): see
    `lock_exposure`. Sorted, so that two first bets on the same new targets insert them in one
    order."""
    Exposure.objects.bulk_create(
        [Exposure(scope=scope, target_id=target, currency_id=currency) for scope, target in sorted(set(keys))],
        ignore_conflicts=True,
    )


def lock_exposure(currency: str, keys: list[ExposureKey]) -> dict[ExposureKey, tuple[int, int, int | None]]:
    """Lock the exposure rows of `keys` in `currency`: {(scope, target id): (row id, amount, cap or
    None)}. Inside a money transaction only; one statement (`lock_exposure_windows`)."""
    return {key: row[:3] for key, row in lock_exposure_windows(currency, keys).items()}


def lock_exposure_windows(
    currency: str, keys: list[ExposureKey], *, open_missing: bool = True
) -> dict[ExposureKey, tuple[int, int, int | None, Window]]:
    """`lock_exposure`, each row with its liability throttle's window (throttle.py) too: the
    same one statement.

    The rows must exist before the transaction (`open_exposure`). Created inside it, a new row
    would be held from its insert on, out of primary-key order, and two first bets on the same new
    targets deadlocked (the concurrency test found it). So a missing row raises ExposureNotOpen
    with `open_missing=False` (bet intake: its service opens the rows and places the slip again,
    which only the first bets on new targets pay); otherwise (a release or a settlement, whose
    bet opened them) it is opened here as a last resort, sorted, and locked again."""
    rows = _select_exposure(currency, keys)
    if len(rows) < len(set(keys)):
        if not open_missing:
            raise ExposureNotOpen
        open_exposure(currency, keys)
        rows = _select_exposure(currency, keys)
    return {
        (scope, target): (pk, amount, cap, Window(started_at, window_amount, previous))
        for pk, scope, target, amount, cap, started_at, window_amount, previous in rows
    }


def lock_exposure_row(pk: int) -> Exposure:
    """One exposure row, locked (staff changing its cap): taken alone, so it cannot take part in
    a cycle with the bets' locks."""
    return Exposure.objects.select_for_update().get(pk=pk)
