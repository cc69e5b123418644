"""The checks of the money path: may this player stake, deposit, withdraw this amount now.

The wallet calls `assert_may_stake` (a bet), `deposit_credited` (a deposit the PSP has paid:
never refused), `assert_may_withdraw` (a withdrawal's reservation) and `lock_for_chargeback` after
the player's accounts are locked (`SELECT … FOR UPDATE`), through its extension point, where
`ComplianceConfig.ready()` registers them (`apps.wallet.extensions`: the wallet imports nothing
from here). Calls for one player are thereby serialised, and what is read here (usage summed from
the committed ledger) cannot change before the stake is written: of two concurrent bets, the
second sees the first. That is what keeps twenty concurrent bets from passing a limit together.
The cashier calls `assert_may_deposit` when a deposit starts, before the player pays, with the
deposits already started counted (it serialises a player's starts itself).

These are not selectors: what they find may write, in the money transaction, so that it commits
with the money or not at all: the deposit that reaches the KYC threshold puts the player on a
KYC hold (`services.hold_for_kyc`), and a bet that finds a reality check due writes its
`reality_check_due` event to the outbox.

A player whose row says `needs_compliance_checks = False` (no wager, loss or session limit, no
exclusion, KYC hold or reality check awaiting its acknowledgement) stakes on the row the lock
query already read: no query at all. A deposit's start reads the deposit limits every time.

A limit that refuses a stake or a deposit's start tells the player's sockets (a `limit_reached`
notice) as it raises: the refusal's transaction rolls back, so an event sent after commit would
never leave, and nothing that calls the gate takes a refusal back (the wallet, so the casino's
and the sportsbook's bets, the cashier and the launch let it propagate), so the refusal is final
once raised. Its receiver runs under the player's lock and must wait for nothing: the real-time
app hands the push to its server's loop (`signals.limit_reached`). A stake that uses a wager or
loss limit up exactly says so too, once it has committed.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.utils import timezone

from apps.accounts.choices import KycStatus, PlayerStatus
from apps.accounts.models import Player
from apps.accounts.selectors import money_text_of
from apps.common import events
from apps.common.db import prepared_cursor, sql_constants
from apps.common.events import send_after_commit
from apps.common.timestamps import aware_from_sql, iso_utc
from apps.compliance import services, signals
from apps.compliance.choices import STAKE_LIMIT_KINDS, LimitKind
from apps.compliance.errors import KycRequired, LimitReached, PlayerBlocked, PlayerExcluded, RealityCheckPending
from apps.compliance.models import Exclusion, limit_in_force, reality_check_awaits_ack
from apps.compliance.selectors import (
    PERIODS,
    REALITY_CHECK_ACK_URL,
    SUMMED_KINDS,
    kyc_threshold,
    total_deposits,
    used_of,
)
from apps.wallet import selectors as wallet_selectors


def assert_may_stake(*, player: Player, amount: int, **_: object) -> Callable[..., None] | None:
    """Raise unless `player` may stake `amount` (minor units) now.

    Raises PlayerBlocked (the account is not active), PlayerExcluded (a time-out or
    self-exclusion, or one that ended but whose return has not taken effect), KycRequired
    (unverified past the profile's deposit threshold), LimitReached (the stake would take a wager
    or loss limit's rolling-window usage past the limit, or the session time limit has passed),
    RealityCheckPending (a LimitReached: the last reality check is not acknowledged yet).
    A limit's refusal (not a reality check's) sends the player a `limit_reached` notice as it
    raises (`_tell_refused`).
    Costs no query unless the player's row has `needs_compliance_checks`; then one statement
    (prepared) for the protection state, the limits and their usage.
    Registers the player's due reality check (`reality_check_due`, after commit).

    Returns None, or, when the stake uses a wager or loss limit up exactly (nothing left after
    it), what tells the player so once the stake is written (the wallet's extension point calls
    it then, and the notice leaves after commit: a stake rolled back tells nothing). The launch,
    which asks for the smallest stake and writes none, drops it.
    """
    if player.status != PlayerStatus.ACTIVE:
        raise PlayerBlocked(f"The player's account is {player.status}.")
    now = timezone.now()
    used_up = None
    if player.needs_compliance_checks:
        state = _money_path_state(player.pk, now, kinds=STAKE_LIMIT_KINDS)
        _refuse_if_held(player, state, now)
        if state.reality_check_awaits_ack:
            sent = {"sent_at": iso_utc(state.reality_check_sent_at), "acknowledge": REALITY_CHECK_ACK_URL}
            raise RealityCheckPending(details={"reality_check": sent})
        session = state.limits.pop((LimitKind.SESSION, ""), None)
        started = state.session_started_at
        if session is not None and started is not None and now - started >= dt.timedelta(minutes=session):
            limit = {"kind": LimitKind.SESSION.value, "period": "", "amount": session, "remaining": 0}
            refusal = LimitReached(
                f"The session time limit of {session} minutes has been reached.", details={"limit": limit}
            )
            _tell_refused(player.pk, refusal, {**limit, "started_at": iso_utc(started)})
            raise refusal
        used_up = _refuse_over_limits(player, state, amount)
    if player.reality_check_due_at is not None and now >= player.reality_check_due_at:
        send_after_commit(
            signals.reality_check_due, player_id=str(player.pk), due_at=iso_utc(player.reality_check_due_at)
        )
    return used_up


def assert_may_deposit(*, player: Player, amount: int, pending: int = 0) -> None:
    """Raise unless `player` may start a deposit of `amount` now: the cashier's check, before the
    player is sent to pay (once the payment provider has taken the money, the wallet credits it
    whatever happened since: `deposit_credited`).

    `pending` is what the player's deposits already started but not yet credited will add: it
    counts against the deposit limits with `amount`, so two deposits started together cannot pass
    a limit together (the cashier serialises a player's starts). Raises PlayerBlocked (the
    account is not active), PlayerExcluded, KycRequired (unverified and the profile's KYC
    threshold already reached), LimitReached (with the limit's `remaining` headroom). Writes
    nothing. One statement for the protection state and the deposit limits, whatever the
    player's `needs_compliance_checks` (which a deposit limit does not set: it says whether a
    stake has anything to check, and a deposit is started far less often than a bet is placed).
    """
    if player.status != PlayerStatus.ACTIVE:
        raise PlayerBlocked(f"The player's account is {player.status}.")
    now = timezone.now()
    state = _money_path_state(player.pk, now, kinds=(LimitKind.DEPOSIT,))
    _refuse_if_held(player, state, now)
    # A start that uses a deposit limit up exactly says nothing: it is not a deposit until the
    # player pays, and may never be one; the next start's refusal tells the player.
    _refuse_over_limits(player, state, amount, pending)
    if player.kyc_status != KycStatus.VERIFIED and total_deposits(player.pk) >= kyc_threshold(player):
        raise KycRequired("Deposits are paused until the player's identity is verified.")


def deposit_credited(*, player: Player, amount: int, **_: object) -> None:
    """The wallet credits a deposit (its `DEPOSIT` moment, inside the money transaction, after the
    lock): never refused, the player has paid. For an unverified player it sums their deposits
    (two queries: the profile, the sum): the deposit that reaches the profile's KYC threshold puts
    the player on a KYC hold, written in the same transaction so it commits with the deposit;
    after that, deposits and bets are refused until the player is verified."""
    if player.kyc_status == KycStatus.VERIFIED:
        return
    deposited = total_deposits(player.pk)
    if deposited < kyc_threshold(player) <= deposited + amount:
        services.hold_for_kyc(player=player, now=timezone.now())


def assert_may_withdraw(*, player: Player, amount: int, **_: object) -> None:
    """Raise KycRequired unless the player is verified, PlayerBlocked if the account is frozen or
    closed. Exclusions, limits and a lock (no bets, no deposits) never stop a withdrawal: an
    excluded player must be able to take their money out."""
    if player.status in (PlayerStatus.FROZEN, PlayerStatus.CLOSED):
        raise PlayerBlocked(f"The player's account is {player.status}: withdrawals are stopped.")
    if player.kyc_status != KycStatus.VERIFIED:
        raise KycRequired("Withdrawals need a verified identity.")


def lock_for_chargeback(*, player: Player, amount: int, **_: object) -> None:
    """A chargeback (the wallet's `CHARGEBACK` moment, inside its transaction; or the cashier's
    record of one that came before its deposit's success, inside that transaction): the account is
    locked with it, so no bet or deposit follows, whatever the balance, and the player's open
    sockets are told why and closed."""
    services.lock_account(player=player, message="A deposit was charged back. Your account is locked: contact support.")


@dataclass
class _MoneyPathState:
    exclusion: Exclusion | None
    kyc_threshold_reached_at: dt.datetime | None
    session_started_at: dt.datetime | None
    reality_check_sent_at: dt.datetime | None
    reality_check_acknowledged_at: dt.datetime | None
    limits: dict[tuple[str, str], int]  # (kind, period) -> the amount in force now
    used: dict[tuple[str, str], int]  # (kind, period) -> the usage in its rolling window now

    @property
    def reality_check_awaits_ack(self) -> bool:
        return reality_check_awaits_ack(self.reality_check_sent_at, self.reality_check_acknowledged_at)


_MONEY_LIMITS = (LimitKind.DEPOSIT, LimitKind.WAGER, LimitKind.LOSS)
_WINDOWS = tuple(PERIODS)  # 24h, 7d, 30d: the order of the statement's usage parameters
# What the statement reads besides the usage, and the name each column is read back by.
_STATE_COLUMNS = (
    ("pp.kyc_threshold_reached_at", "kyc_threshold_reached_at"),
    ("pp.session_started_at", "session_started_at"),
    ("pp.last_reality_check_at", "reality_check_sent_at"),
    ("pp.reality_check_acknowledged_at", "reality_check_acknowledged_at"),
    ("e.kind", "exclusion_kind"),
    ("e.starts_at", "exclusion_starts_at"),
    ("e.ends_at", "exclusion_ends_at"),
    ("e.return_requested_at", "exclusion_return_requested_at"),
    ("l.kind", "limit_kind"),
    ("l.period", "limit_period"),
    ("l.amount", "limit_amount"),
    ("l.has_pending", "limit_has_pending"),
    ("l.pending_amount", "limit_pending_amount"),
    ("l.pending_effective_at", "limit_pending_effective_at"),
    ("l.pending_needs_confirmation", "limit_pending_needs_confirmation"),
)


def _usage_column(kind: str, period: str) -> str:
    """The name of the statement's usage column of one (kind, period): `wager_24h`."""
    return f"{kind}_{period}"


@cache
def _state_sql(kinds: tuple[str, ...]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The statement that reads what the money path needs of a player, and the (kind, period)
    of each usage column it ends with (named by `_usage_column`).

    One row per limit of `kinds` (or one row of NULL limit columns): the protection state, the
    exclusion, the limit, and the ledger summed over each rolling window (the wallet's
    `ledger_windows_sql`, the same on every row: a CTE computed once, and only when the player has
    a money limit of these kinds). One statement, prepared: this runs in every bet of a player
    with limits, and on this machine planning the two statements it replaced cost more than
    running them (apps.common.db). The text depends only on `kinds`, which are this module's
    constants; every value is a parameter.
    """
    money = [kind for kind in kinds if kind in _MONEY_LIMITS]
    windows = tuple((kind, period) for kind in money for period in _WINDOWS)
    usage = ""
    if windows:
        has_limit = (
            "EXISTS (SELECT 1 FROM compliance_limit m "  # noqa: S608 - constants
            f"WHERE m.player_id = %s AND m.kind IN ({sql_constants(money)}))"
        )
        ledger = wallet_selectors.ledger_windows_sql(_ledger_columns(windows), when=has_limit)
        usage = f"WITH u AS MATERIALIZED ({ledger}) "
    columns = ", ".join(f"{expression} AS {name}" for expression, name in _STATE_COLUMNS)
    # No usage row (NULL columns, read as 0) when the player has no money limit of these kinds.
    sql = (
        f"{usage}SELECT {columns}{', u.*' if windows else ''} FROM accounts_player p "  # noqa: S608
        f"{'LEFT JOIN u ON true ' if windows else ''}"
        "LEFT JOIN compliance_playerprotection pp ON pp.player_id = p.id "
        "LEFT JOIN compliance_exclusion e ON e.id = pp.exclusion_id "
        f"LEFT JOIN compliance_limit l ON l.player_id = p.id AND l.kind IN ({sql_constants(kinds)}) WHERE p.id = %s"
    )
    return sql, windows


def _ledger_columns(windows: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((_usage_column(kind, period), tuple(SUMMED_KINDS[kind])) for kind, period in windows)


@cache
def _row_type(names: tuple[str, ...]) -> type:
    """A named tuple for the rows of a statement whose columns are `names` (one type per
    statement): columns are read by name, so the statement's column order is free to change."""
    return namedtuple("StateRow", names)


def _money_path_state(player_id: int, now: dt.datetime, *, kinds: tuple[str, ...]) -> _MoneyPathState:
    """The player's exclusion, KYC hold, session start, limits of `kinds` in force and their
    usage, in one prepared statement."""
    sql, windows = _state_sql(kinds)
    params = []
    if windows:
        starts = [now - PERIODS[period] for _, period in windows]
        # The ledger's windows, then the EXISTS' player.
        params = [*wallet_selectors.ledger_windows_params(_ledger_columns(windows), player_id, starts), player_id]
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*params, player_id])
        row_type = _row_type(tuple(column[0] for column in cursor.description))
        rows = [row_type._make(values) for values in cursor.fetchall()]
    if not rows:
        return _MoneyPathState(None, None, None, None, None, {}, dict.fromkeys(windows, 0))
    head = rows[0]
    exclusion = None
    if head.exclusion_kind is not None:
        exclusion = Exclusion(kind=head.exclusion_kind, starts_at=aware_from_sql(head.exclusion_starts_at),
                              ends_at=aware_from_sql(head.exclusion_ends_at),
                              return_requested_at=aware_from_sql(head.exclusion_return_requested_at))  # fmt: skip
    limits = {}
    for row in rows:
        if row.limit_kind is None:
            continue
        in_force, _ = limit_in_force(row.limit_amount, bool(row.limit_has_pending), row.limit_pending_amount,
                                     aware_from_sql(row.limit_pending_effective_at),
                                     bool(row.limit_pending_needs_confirmation), now)  # fmt: skip
        if in_force is not None:
            limits[(row.limit_kind, row.limit_period)] = in_force
    used = {(kind, period): used_of(kind, getattr(head, _usage_column(kind, period)) or 0) for kind, period in windows}
    at = aware_from_sql
    return _MoneyPathState(exclusion, at(head.kyc_threshold_reached_at), at(head.session_started_at),
                           at(head.reality_check_sent_at), at(head.reality_check_acknowledged_at), limits,
                           used)  # fmt: skip


def _refuse_if_held(player: Player, state: _MoneyPathState, now: dt.datetime) -> None:
    if state.exclusion is not None and state.exclusion.blocks_at(now):
        raise PlayerExcluded(_exclusion_message(state.exclusion, now))
    if state.kyc_threshold_reached_at is not None and player.kyc_status != KycStatus.VERIFIED:
        raise KycRequired("Play and deposits are paused until the player's identity is verified.")


def _exclusion_message(exclusion: Exclusion, now: dt.datetime) -> str:
    what = exclusion.get_kind_display()
    if now < exclusion.ends_at:
        return f"{what} until {iso_utc(exclusion.ends_at)}."
    if exclusion.return_requested_at is None:
        return f"The {what.lower()} has ended; the player may ask to return."
    return f"The {what.lower()} has ended; the account reopens at {iso_utc(exclusion.returns_at())}."


def _refuse_over_limits(
    player: Player, state: _MoneyPathState, amount: int, pending: int = 0
) -> Callable[..., None] | None:
    """Every limit is checked against its own window, so where limits overlap (a 24-hour one
    inside a 7-day one, a wager and a loss limit) the lowest headroom decides. `pending` (the
    deposits started and not yet credited) counts as used: the headroom said is what is left
    for `amount`. A refusal tells the player (`_tell_refused`) and raises LimitReached; otherwise
    returns, when `amount` uses that limit up exactly, the call that tells the player so once the
    stake is written (`_tell_used_up`)."""
    if not state.limits:
        return None
    used = {window: taken + pending for window, taken in state.used.items()} if pending else state.used
    (kind, period), limit = min(state.limits.items(), key=lambda item: item[1] - used[item[0]])
    after = used[(kind, period)] + amount
    if after > limit:
        left = max(limit - used[(kind, period)], 0)
        money = money_text_of(player)
        under_way = f", after {money(pending)} in deposits under way" if pending else ""
        details = {"kind": kind, "period": period, "amount": limit, "remaining": left}
        refusal = LimitReached(
            f"This would pass the {period} {kind} limit of {money(limit)} ({money(left)} left{under_way}).",
            details={"limit": details},
        )
        _tell_refused(player.pk, refusal, details)
        raise refusal
    if after < limit:
        return None
    message = f"The {period} {kind} limit of {money_text_of(player)(limit)} is used up (nothing left)."
    return _tell_used_up(player.pk, kind, period, limit, message)


def _tell_refused(player_id: int, refusal: LimitReached, data: dict) -> None:
    """Send `limit_reached` for `refusal` at once (its transaction is about to roll back). Never
    raises (a failing receiver is logged), so the refusal's answer is the same whatever the
    backplane does."""
    events.send_robust(
        signals.limit_reached, {"player_id": str(player_id), "message": refusal.message, "data": dict(data)}
    )


def _tell_used_up(player_id: int, kind: str, period: str, limit: int, message: str) -> Callable[..., None]:
    """The stake's after-write call (wallet extensions) for a limit it leaves nothing of: a
    `limit_reached` notice through the outbox, so it leaves once the stake commits, after the
    stake's own frame, and never for a stake rolled back (another participant's refusal, the
    balance)."""

    def tell(**_: object) -> None:
        send_after_commit(
            signals.player_notice, player_id=str(player_id), kind="limit_reached", message=message,
            data={"kind": kind, "period": period, "amount": limit, "remaining": 0},
        )  # fmt: skip

    return tell
