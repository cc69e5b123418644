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
events and the platform's row of its currency) are locked in primary-key order and grown in one
statement (`lock_and_take_exposure`; on SQLite a `SELECT … ORDER BY id` and an `UPDATE`): every
transaction takes them in primary-key order, so two bets on shared markets queue on the first row they share instead of
deadlocking, and a bet on other markets waits only for the platform's row. The release of a
pending bet and a settlement take the same locks in the same order (the player's accounts, then
its exposure rows). Nothing locks exposure rows and then a player's accounts, and no feed or
breaker lock is ever taken after them, so no cycle can form.

The platform's row is the one every bet of a currency shares: sportsbook bets in one currency
are serialised on it from their lock to their commit. That is the price of a platform cap that is
never breached, and why the exposure comes last in the transaction: the row is held for one round
trip and the commit, not for the stake's write and the bet's rows too.

Settlement. Settlers share the bets to settle by claiming them (`claim_bets_to_settle`): one
`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` that gives each claimed bet a lease, so
two settlers running at once take different bets without waiting for each other, and a settler
that dies leaves its bets to the next one once the lease has run out. The lease only shares the
work: what makes a bet settle once is the settlement's own transaction. A winning bet's is the
wallet's (the player's accounts first), which then updates the bet's row only if no other
settlement came first, and locks the exposure rows last, just before its commit, so that bets on
one market hold the market's and the platform's rows for as short a time as possible. Losing bets
are settled in bulk in a transaction that locks their rows (`lock_bets`, primary-key order) and
then the exposure rows. Both take bets before exposure rows, as the release of a pending bet does
(player's accounts, bet, exposure), and nothing takes a player's accounts after a bet's row, so
no cycle can form.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from django.db import connection

from apps.common.db import prepared_cursor
from apps.sportsbook.choices import SETTLED_BET_STATUSES, BetStatus, MarketStatus
from apps.sportsbook.models import Bet, Breaker, BreakerRequest, Exposure, Feed, StakeFactor
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


# The exposure rows of a bet locked in primary-key order (a materialised `SELECT … ORDER BY id FOR
# UPDATE`, as `lock_and_move_exposure`), grown by its liability and, for its market rows when
# `windows`, the liability throttle's window moved as throttle.take moves it (advance to `now`,
# then add): the row's window while it lasts; the next one, the current amount becoming the
# previous, once it has ended; a fresh one from `now` once the next has ended too. The caller's
# writes (`writes`: CTEs, the last named `written`, one row) come first in the statement; each
# answered row is `written`'s columns, then the exposure row as it was before.
_TAKE_EXPOSURE = (
    "locked AS MATERIALIZED (SELECT e.id, e.scope, e.target_id, e.amount, e.cap, e.window_started_at, "
    "e.window_amount, e.previous_window_amount, (e.scope = 'market' AND %(windows)s) AS w, "
    "floor(EXTRACT(EPOCH FROM (%(now)s - e.window_started_at)) * 1000000)::bigint AS elapsed "
    "FROM sportsbook_exposure e WHERE e.currency_id = %(currency)s AND ({keys}) ORDER BY e.id FOR UPDATE OF e), "
    "moved AS (UPDATE sportsbook_exposure x SET amount = x.amount + %(liability)s, "
    "window_started_at = CASE WHEN NOT l.w THEN l.window_started_at "
    "WHEN l.window_started_at IS NULL OR l.elapsed >= 2 * %(length)s THEN %(now)s "
    "WHEN l.elapsed < %(length)s THEN l.window_started_at "
    "ELSE l.window_started_at + %(length)s * interval '1 microsecond' END, "
    "window_amount = CASE WHEN NOT l.w THEN l.window_amount "
    "WHEN l.window_started_at IS NOT NULL AND l.elapsed < %(length)s THEN l.window_amount + %(liability)s "
    "ELSE %(liability)s END, "
    "previous_window_amount = CASE WHEN NOT l.w THEN l.previous_window_amount "
    "WHEN l.window_started_at IS NULL OR l.elapsed >= 2 * %(length)s THEN 0 "
    "WHEN l.elapsed < %(length)s THEN l.previous_window_amount ELSE l.window_amount END "
    "FROM locked l WHERE x.id = l.id) "
    "SELECT written.*, l.id, l.scope, l.target_id, l.amount, l.cap, l.window_started_at, l.window_amount, "
    "l.previous_window_amount FROM locked l CROSS JOIN written ORDER BY l.id"
)


@functools.cache
def _take_exposure_sql(writes: str, keys: int) -> str:
    # Each key spelled out, one text per number of keys: the unique index's look-ups, where a
    # list of keys (an array, a join) is planned as a scan of every row of the currency, rows
    # that every bet of the currency updates and that each scan must then step through.
    where = " OR ".join(f"(e.scope = %(scope{i})s AND e.target_id = %(target{i})s::bigint)" for i in range(keys))
    return f"WITH {writes}, {_TAKE_EXPOSURE.format(keys=where)}"


def lock_and_take_exposure(
    currency: str, keys: list[ExposureKey], liability: int, *, now: dt.datetime, length_us: int, windows: bool,
    writes: str, params: dict[str, object],
) -> tuple[tuple, dict[ExposureKey, tuple[int, int, int | None, Window]]]:  # fmt: skip
    """Write the caller's rows (`writes`, a constant text of data-modifying CTEs whose last, named
    `written`, answers one row; `params` their values), then lock the exposure rows of `keys` in
    `currency` in primary-key order and add `liability` to each, moving the throttle's window of
    its market rows to `now` with it when `windows` (throttle.py, `length_us` its length), in one
    prepared statement (PostgreSQL only): a bet and its exposure, one round trip.

    Returns `written`'s row and the exposure rows as they were before, as `lock_exposure_windows`
    does; the caller checks its caps on them and raises to refuse, which rolls the update back
    with its transaction. ExposureNotOpen when a row is missing (bet intake: see
    `lock_exposure_windows`)."""
    params = {
        **params, **{f"scope{i}": scope for i, (scope, _) in enumerate(keys)},
        **{f"target{i}": target for i, (_, target) in enumerate(keys)},
        "currency": currency, "liability": liability, "now": now, "length": length_us, "windows": windows,
    }  # fmt: skip
    with prepared_cursor() as cursor:
        cursor.execute(_take_exposure_sql(writes, len(keys)), params)
        rows = cursor.fetchall()
    if len(rows) < len(set(keys)):
        raise ExposureNotOpen
    width = len(rows[0]) - 8
    return rows[0][:width], {
        (scope, target): (pk, amount, cap, Window(started_at, window_amount, previous))
        for pk, scope, target, amount, cap, started_at, window_amount, previous in (row[width:] for row in rows)
    }


def lock_and_move_exposure(currency: str, deltas: dict[ExposureKey, int]) -> None:
    """Lock the exposure rows of `deltas`' keys in `currency` in primary-key order, as
    `lock_exposure` does, and add to each its delta, in one statement (a settlement, or a pending
    bet's rejection, taking bets off them: the rows exist, the bets having counted on them). On PostgreSQL the locks are
    taken by a materialised `SELECT … ORDER BY id FOR UPDATE` before the update touches a row."""
    deltas = {key: delta for key, delta in deltas.items() if delta}
    if not deltas:
        return
    if connection.vendor != "postgresql":
        found = lock_exposure(currency, list(deltas))
        with connection.cursor() as cursor:
            for key, delta in deltas.items():
                cursor.execute("UPDATE sportsbook_exposure SET amount = amount + %s WHERE id = %s",
                               [delta, found[key][0]])  # fmt: skip
        return
    keys = list(deltas)
    params = [[scope for scope, _ in keys], [target for _, target in keys], list(deltas.values()), currency]
    with prepared_cursor() as cursor:
        cursor.execute(_MOVE_EXPOSURE, params)


# `lock_and_move_exposure`'s statement: the keys and deltas as arrays, so that its text never
# varies and it is prepared once per connection (a settlement runs it once per batch).
_MOVE_EXPOSURE = (
    "WITH k AS (SELECT * FROM unnest(%b::varchar[], %b::bigint[], %b::bigint[]) AS k (scope, target_id, delta)), "
    "locked AS MATERIALIZED (SELECT e.id, k.delta FROM sportsbook_exposure e JOIN k ON e.scope = k.scope "
    "AND e.target_id = k.target_id WHERE e.currency_id = %s ORDER BY e.id FOR UPDATE OF e) "
    "UPDATE sportsbook_exposure x SET amount = x.amount + locked.delta FROM locked WHERE x.id = locked.id"
)


def lock_exposure_row(pk: int) -> Exposure:
    """One exposure row, locked (staff changing its cap): taken alone, so it cannot take part in
    a cycle with the bets' locks."""
    return Exposure.objects.select_for_update().get(pk=pk)


# --- settlement ----------------------------------------------------------------------------------


def _json_has(column: str, value: str) -> str:
    """SQL: whether the JSON list `column` holds the string `value`."""
    if connection.vendor == "postgresql":
        return f"jsonb_exists({column}, {value})"
    return f"EXISTS (SELECT 1 FROM json_each({column}) j WHERE j.value = {value})"  # noqa: S608 - column names


def _due_sql(*, market: bool) -> str:
    """SQL, over the bet `c`: whether it is due for settlement. Accepted, with every leg's market
    resulted or a leg lost already (an accumulator is lost at once); or, with `market` (the
    settlement of one market), settled before on results older than one of its markets' now (a
    resettlement). Without `market` only accepted bets are looked at (the partial index)."""
    on_market = " AND c.id IN (SELECT x.bet_id FROM sportsbook_betleg x WHERE x.market_id = %s)"
    legs = "FROM sportsbook_betleg l JOIN sportsbook_market m ON m.id = l.market_id"
    won_or_void = f"{_json_has('m.winners', 's.selection_id')} OR {_json_has('m.void', 's.selection_id')}"
    settled = f"'{MarketStatus.SETTLED}'"
    accepted = (
        f"(c.status = '{BetStatus.ACCEPTED}'"
        f" AND (NOT EXISTS (SELECT 1 {legs} WHERE l.bet_id = c.id AND m.status <> {settled})"
        f" OR EXISTS (SELECT 1 {legs} JOIN sportsbook_selection s ON s.id = l.selection_id"
        f" WHERE l.bet_id = c.id AND m.status = {settled} AND NOT ({won_or_void}))))"
    )
    if not market:
        return accepted
    done = ", ".join(f"'{status}'" for status in SETTLED_BET_STATUSES)
    newer = "m.settled_at > c.outcome_at"
    resettle = f"(c.status IN ({done}) AND EXISTS (SELECT 1 {legs} WHERE l.bet_id = c.id AND {newer}))"
    return f"({accepted} OR {resettle}){on_market}"


def claim_bets_to_settle(
    *, market_pk: int | None, limit: int, now: dt.datetime, lease: dt.timedelta, after_id: int = 0
) -> list[int]:
    """Claim at most `limit` bets due for settlement (on the market `market_pk`, or any accepted
    bet when None) that no other settler holds, lowest id above `after_id` first: each gets a
    lease until `now + lease` (committed at once: the caller is in autocommit). Rows another
    settler is claiming at this moment are skipped (`SKIP LOCKED`), not waited for. Returns their
    ids. A settler going through a market passes the highest id it claimed, so that each claim
    starts where the last one ended instead of looking at every bet of the market again."""
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    due = _due_sql(market=market_pk is not None)
    sql = (
        "UPDATE sportsbook_bet SET settle_lease_until = %s WHERE id IN (SELECT c.id FROM sportsbook_bet c "  # noqa: S608 - constants only
        f"WHERE c.id > %s AND (c.settle_lease_until IS NULL OR c.settle_lease_until < %s) AND {due} "
        f"ORDER BY c.id LIMIT %s{lock}) RETURNING id"
    )
    params = [now + lease, after_id, now, *([market_pk] if market_pk is not None else []), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(pk for (pk,) in cursor.fetchall())


def bets_left_to_settle(market_pk: int) -> bool:
    """Whether any bet on the market is still due for settlement, claimed by a settler or not
    (the claim's own rule, without a lock): a market is done only when none is."""
    sql = f"SELECT EXISTS (SELECT 1 FROM sportsbook_bet c WHERE {_due_sql(market=True)})"  # noqa: S608 - constants
    with connection.cursor() as cursor:
        cursor.execute(sql, [market_pk])
        return bool(cursor.fetchone()[0])


def lock_bets(pks: list[int]) -> dict[int, tuple[str, int]]:
    """Lock the bets `pks` in primary-key order until the end of the caller's transaction:
    {pk: (status, settlement count)}, as they are once locked."""
    if connection.vendor != "postgresql":
        rows = Bet.objects.filter(pk__in=pks).order_by("pk").values_list("pk", "status", "settlement_count")
        return {pk: (status, count) for pk, status, count in rows}
    # Plain SQL, prepared: a settlement's batch of losers runs it with hundreds of ids.
    with prepared_cursor() as cursor:
        cursor.execute(_LOCK_BETS, [list(pks)])
        return {pk: (status, count) for pk, status, count in cursor.fetchall()}


_LOCK_BETS = "SELECT id, status, settlement_count FROM sportsbook_bet WHERE id = ANY(%b) ORDER BY id FOR UPDATE"
