"""The sportsbook's circuit breakers: operator switches with four eyes, and automatic triggers.

Three breakers (`BreakerName`), each off or on:

- `suspend_in_play`: every in-play market is suspended at once (version + 1, published), and no
  feed reopens an in-play market while it is on (services.py holds them). Turned off, a market it
  suspended reopens with its feed's next prices or `resume`, as after the staleness watchdog.
- `cached_prices`: every unsettled market's prices are served `delayed` on the odds socket, and
  bet intake refuses in-play legs (their cached prices are not taken; pre-match ones are).
- `pre_match_only`: in-play markets take no bets (`state().in_play_closed`, read by bet intake)
  and their prices are served `delayed`.

A staff member asks for a change with a reason (`request_change`) and another one, holding
`sportsbook.approve_breakerrequest`, approves (`approve_change`: the change and its effects happen
then) or rejects it (`reject_change`); the requester never decides their own request (the service
refuses, and a CHECK in the table). Each step is a staff action in the trail. The automatic
triggers (`check_triggers`, a tick beside the watchdog's; `check_throttle_trigger`, after each
suspension by bet intake's liability throttle) turn a breaker on at once as the system (the
trail's `system_actor` "breakers", the breaker row without a person); turning it off always takes
the approval path.

Lock order (locks.py): a request's row, then the breaker's, then the feeds in primary-key order,
and the staff trail's head last.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.common import staff_trail
from apps.sportsbook import locks, selectors, services
from apps.sportsbook.choices import BreakerName, BreakerRequestStatus, EventStatus, MarketStatus
from apps.sportsbook.errors import (
    BreakerFourEyesRequired,
    BreakerRequestNotPending,
    BreakerRequestPending,
    BreakerUnchanged,
    InvalidBreakerRequest,
    UnknownBreakerRequest,
)
from apps.sportsbook.models import Breaker, BreakerRequest, Feed, Market

logger = structlog.get_logger(__name__)

# The trail's name for the automatic triggers.
SYSTEM_ACTOR = "breakers"
# The staff trail's action codes.
BREAKER_REQUEST = "sportsbook.breaker.request"
BREAKER_APPROVE = "sportsbook.breaker.approve"
BREAKER_REJECT = "sportsbook.breaker.reject"
BREAKER_TRIP = "sportsbook.breaker.trip"

BreakerState = selectors.BreakerState


def state() -> BreakerState:
    """Which breakers are on: one query (selectors.get_breaker_state). Bet intake reads it with
    each slip, before the money transaction, and refuses in-play legs while any breaker is on
    (`intake.in_play_refused`: `in_play_closed` or `prices_delayed`); also `is_on(name)`."""
    return selectors.get_breaker_state()


def is_on(name: str) -> bool:
    """Whether the breaker `name` is on: one query."""
    return Breaker.objects.filter(name=name, is_on=True).exists()


# --- the automatic path -----------------------------------------------------------------------------


@transaction.atomic
def trip(breaker: str, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Turn `breaker` on at once, as the system, with `reason`; its effects happen in the same
    transaction (suspend_in_play suspends every in-play market; every state it changes is
    published after commit). Returns False, changing nothing, if it is on already.

    For bet intake's liability throttle among others: call it outside the money transaction (it
    locks feeds, which a stake must not wait for). Raises InvalidBreakerRequest for an unknown
    breaker or an empty reason."""
    reason = _checked(breaker, reason)
    now = timezone.now() if now is None else now
    row = locks.lock_breaker(breaker)
    if row.is_on:
        return False
    _switch(row, on=True, now=now, acting_user=None, reason=reason, request=None)
    staff_trail.record_staff_action(
        actor=None, system_actor=SYSTEM_ACTOR, action=BREAKER_TRIP, target=row,
        before={"is_on": False}, after={"is_on": True}, reason=reason,
    )  # fmt: skip
    logger.warning("sportsbook.breaker_tripped", breaker=breaker, reason=reason)
    return True


def check_triggers(*, now: dt.datetime | None = None) -> list[str]:
    """The automatic triggers (docs/sportsbook.md, "Circuit breakers"); returns the breakers
    tripped. One query on the feeds' table while no feed is stale (the tick's usual look):

    - `cached_prices`: at least SPORTSBOOK_BREAKER_STALE_FEEDS feeds stale at once (that went
      stale since the breaker's last change);
    - `pre_match_only` / `suspend_in_play`: more than SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS /
      SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS in-play markets suspended by the watchdog (and still
      so) on feeds it found stale within the last SPORTSBOOK_BREAKER_WINDOW_SECONDS, and since
      the breaker's last change.

    Each looks only at what happened since the breaker's last change: an approved off is not
    undone at once by what the approver weighed.

    A threshold of 0 turns its trigger off."""
    now = timezone.now() if now is None else now
    stale = list(Feed.objects.filter(stale_since__isnull=False).values_list("pk", "code", "stale_since"))
    if not stale:
        return []
    breakers = {row.name: row for row in Breaker.objects.all()}
    tripped = []
    feeds_needed = settings.SPORTSBOOK_BREAKER_STALE_FEEDS
    if feeds_needed and not _on(breakers, BreakerName.CACHED_PRICES):
        since = _changed_at(breakers, BreakerName.CACHED_PRICES)
        codes = sorted(code for _, code, stale_since in stale if since is None or stale_since >= since)
        if len(codes) >= feeds_needed and trip(
            BreakerName.CACHED_PRICES, f"{len(codes)} feeds stale at once ({', '.join(codes)})", now=now
        ):
            tripped.append(BreakerName.CACHED_PRICES)
    window_start = now - dt.timedelta(seconds=settings.SPORTSBOOK_BREAKER_WINDOW_SECONDS)
    for name, limit in (
        (BreakerName.PRE_MATCH_ONLY, settings.SPORTSBOOK_BREAKER_PRE_MATCH_SUSPENSIONS),
        (BreakerName.SUSPEND_IN_PLAY, settings.SPORTSBOOK_BREAKER_IN_PLAY_SUSPENSIONS),
    ):
        if not limit or _on(breakers, name):
            continue
        changed_at = _changed_at(breakers, name)
        since = max(window_start, changed_at) if changed_at is not None else window_start
        recent = [pk for pk, _, stale_since in stale if stale_since >= since]
        if not recent:
            continue
        suspended = Market.objects.filter(feed_id__in=recent, watchdog_suspended=True).count()
        if suspended > limit:
            reason = (f"the watchdog suspended {suspended} in-play markets within "
                      f"{settings.SPORTSBOOK_BREAKER_WINDOW_SECONDS:g} s (more than {limit})")  # fmt: skip
            if trip(name, reason, now=now):
                tripped.append(name)
    return tripped


def check_throttle_trigger(*, now: dt.datetime | None = None) -> bool:
    """The liability throttle's trigger, looked at after each of its suspensions (not on the tick:
    nothing changes between them): `pre_match_only` trips when the throttle holds more than
    SPORTSBOOK_BREAKER_THROTTLED_MARKETS in-play markets that it suspended within
    SPORTSBOOK_BREAKER_WINDOW_SECONDS and since the breaker's last change. Returns whether it
    tripped. A threshold of 0 turns it off."""
    limit = settings.SPORTSBOOK_BREAKER_THROTTLED_MARKETS
    if not limit:
        return False
    now = timezone.now() if now is None else now
    row = Breaker.objects.filter(name=BreakerName.PRE_MATCH_ONLY).first()
    if row is not None and row.is_on:
        return False
    since = now - dt.timedelta(seconds=settings.SPORTSBOOK_BREAKER_WINDOW_SECONDS)
    if row is not None and row.changed_at is not None:
        since = max(since, row.changed_at)
    held = Market.objects.filter(
        throttle_suspended=True, status=MarketStatus.SUSPENDED, event__status=EventStatus.LIVE, throttled_at__gte=since
    ).count()
    if held <= limit:
        return False
    reason = (f"the liability throttle suspended {held} in-play markets within "
              f"{settings.SPORTSBOOK_BREAKER_WINDOW_SECONDS:g} s (more than {limit})")  # fmt: skip
    return trip(BreakerName.PRE_MATCH_ONLY, reason, now=now)


def _on(breakers: dict[str, Breaker], name: str) -> bool:
    return name in breakers and breakers[name].is_on


def _changed_at(breakers: dict[str, Breaker], name: str) -> dt.datetime | None:
    return breakers[name].changed_at if name in breakers else None


# --- the operators' path: four eyes -----------------------------------------------------------------


def request_change(*, breaker: str, turn_on: bool, reason: str, acting_user: User) -> BreakerRequest:
    """A staff member's request to turn `breaker` on or off, with a reason: `pending` until another
    staff member decides it, nothing changed meanwhile (a `sportsbook.breaker.request` staff
    action). Raises InvalidBreakerRequest (unknown breaker, no reason), BreakerUnchanged (it is in
    that state already), BreakerRequestPending (a change of it awaits a decision)."""
    reason = _checked(breaker, reason)
    with transaction.atomic():
        row = locks.lock_breaker(breaker)
        if row.is_on == turn_on:
            raise BreakerUnchanged(f"The breaker {breaker} is {'on' if turn_on else 'off'} already.")
        if BreakerRequest.objects.filter(breaker=row, status=BreakerRequestStatus.PENDING).exists():
            raise BreakerRequestPending
        request = BreakerRequest.objects.create(
            breaker=row, turn_on=turn_on, reason=reason, requested_by=acting_user, requested_at=timezone.now()
        )
        staff_trail.record_staff_action(
            actor=acting_user, action=BREAKER_REQUEST, target=request,
            after={"breaker": breaker, "turn_on": turn_on, "status": request.status}, reason=reason,
        )  # fmt: skip
    return request


def approve_change(*, request_id: int, acting_user: User) -> BreakerRequest:
    """Another staff member's approval: the breaker is switched, by the approver with the
    request's reason, and its effects happen in the same transaction (a
    `sportsbook.breaker.approve` staff action). If the breaker reached that state meanwhile (an
    automatic trip), the approval records the decision and changes nothing else. Approving again
    as the same approver returns the request. Raises UnknownBreakerRequest,
    BreakerFourEyesRequired (the requester), BreakerRequestNotPending."""
    with transaction.atomic():
        request = _locked_request(request_id)
        if request.status == BreakerRequestStatus.APPROVED and request.decided_by_id == acting_user.pk:
            return request
        _check_decision(request, acting_user)
        now = timezone.now()
        row = locks.lock_breaker(request.breaker_id)
        was_on = row.is_on
        request.status, request.decided_by, request.decided_at = BreakerRequestStatus.APPROVED, acting_user, now
        request.save(update_fields=["status", "decided_by", "decided_at"])
        _switch(row, on=request.turn_on, now=now, acting_user=acting_user, reason=request.reason, request=request)
        staff_trail.record_staff_action(
            actor=acting_user, action=BREAKER_APPROVE, target=request,
            before={"status": BreakerRequestStatus.PENDING, "breaker_on": was_on},
            after={"status": request.status, "breaker_on": row.is_on}, reason=request.reason,
        )  # fmt: skip
    return request


def reject_change(*, request_id: int, acting_user: User, reason: str) -> BreakerRequest:
    """Another staff member's rejection, with a reason: `rejected`, the breaker unchanged (a
    `sportsbook.breaker.reject` staff action). Raises UnknownBreakerRequest,
    InvalidBreakerRequest (no reason), BreakerFourEyesRequired (the requester),
    BreakerRequestNotPending."""
    reason = reason.strip()
    if not reason:
        raise InvalidBreakerRequest("A rejection needs a reason.")
    with transaction.atomic():
        request = _locked_request(request_id)
        _check_decision(request, acting_user)
        request.status, request.decided_by = BreakerRequestStatus.REJECTED, acting_user
        request.decided_at, request.decision_reason = timezone.now(), reason
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        staff_trail.record_staff_action(
            actor=acting_user, action=BREAKER_REJECT, target=request,
            before={"status": BreakerRequestStatus.PENDING}, after={"status": request.status}, reason=reason,
        )  # fmt: skip
    return request


def _checked(breaker: str, reason: str) -> str:
    if breaker not in BreakerName.values:
        raise InvalidBreakerRequest(f"Unknown breaker {breaker!r}: one of {', '.join(BreakerName.values)}.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidBreakerRequest("A breaker's change needs a reason.")
    return reason


def _locked_request(request_id: int) -> BreakerRequest:
    request = locks.lock_breaker_request(request_id)
    if request is None:
        raise UnknownBreakerRequest
    return request


def _check_decision(request: BreakerRequest, acting_user: User) -> None:
    # Four eyes first: the requester is told why, whatever became of the request.
    if request.requested_by_id == acting_user.pk:
        raise BreakerFourEyesRequired
    if request.status != BreakerRequestStatus.PENDING:
        raise BreakerRequestNotPending(f"This request is {request.status}, not pending.")


# --- the effects ------------------------------------------------------------------------------------


def _switch(
    row: Breaker, *, on: bool, now: dt.datetime, acting_user: User | None, reason: str, request: BreakerRequest | None
) -> None:
    """Write the breaker's new state (locked by the caller) and, if it flipped, its effects."""
    flipped = row.is_on != on
    row.is_on, row.changed_at, row.changed_by, row.reason, row.request = on, now, acting_user, reason, request
    row.save()
    if flipped:
        _apply_effects(row.name, on=on)


def _apply_effects(name: str, *, on: bool) -> None:
    """What a breaker's flip does to the markets, under the locks of every feed (taken after the
    breaker's, in primary-key order; feeds are few): a batch that committed before is seen here,
    and one after reads the breaker as it is now. Every market whose shown state changes is
    published after commit."""
    if name == BreakerName.SUSPEND_IN_PLAY and not on:
        # Nothing moves. Each market it suspended reopens with its feed's next prices or `resume`
        # (services._apply_market), as after the watchdog: the feed never knew of it.
        return
    locks.lock_feeds(Feed.objects.values_list("pk", flat=True))
    if name == BreakerName.SUSPEND_IN_PLAY:
        markets = list(Market.objects.filter(status=MarketStatus.OPEN, event__status=EventStatus.LIVE).order_by("pk"))
        for market in markets:
            services.hold_market(market)
        Market.objects.bulk_update(markets, ["status", "version", "suspended_version", "breaker_suspended",
                                             "watchdog_suspended"])  # fmt: skip
        logger.warning("sportsbook.breaker_suspended_in_play", markets=len(markets))
        shown = Market.objects.filter(pk__in=[market.pk for market in markets])
    else:
        # cached_prices: every unsettled market's `delayed` flips; pre_match_only: the in-play ones'.
        shown = Market.objects.exclude(status=MarketStatus.SETTLED)
        if name == BreakerName.PRE_MATCH_ONLY:
            shown = shown.filter(event__status=EventStatus.LIVE)
    by_feed: dict[int, list[int]] = defaultdict(list)
    for feed_id, pk in shown.order_by("pk").values_list("feed_id", "pk"):
        by_feed[feed_id].append(pk)
    for feed in Feed.objects.filter(pk__in=list(by_feed)).order_by("pk"):
        services.publish_markets(feed, by_feed[feed.pk])
