"""Login throttling that one person cannot turn against everyone.

Two limits, both kept in the cache (Redis when served, so every process shares them):

- The (username, address) pair. Its first LOGIN_FAILURE_LIMIT failures are free; each failure
  from then on makes the pair wait before its next attempt: LOGIN_DELAY_SECONDS, doubling with
  every further failure, capped at LOGIN_MAX_DELAY_SECONDS. A correct password clears the pair.
  The failures are forgotten LOGIN_FAILURE_WINDOW_SECONDS after the last one. Throttling the pair,
  never the username alone or the address alone, is what keeps a typo-prone neighbour behind the
  same NAT or proxy from locking everyone out, and a stranger from locking a player out.
- The address, against credential stuffing (many usernames from one address): at most
  LOGIN_ADDRESS_FAILURE_LIMIT unsuccessful attempts per LOGIN_ADDRESS_WINDOW_SECONDS window; past
  it, the address waits for the next window. Far above the pair's limit, so it only slows what no
  crowd of honest players behind one address would do.

A refusal is a LoginLocked carrying `retry_after`, in whole seconds; the password is not checked.

Concurrency. Attempts on one pair run one at a time: an attempt holds the pair's lock (an atomic
`add`, SET NX on Redis) while it reads the pair, checks the password and records the outcome, and
a second attempt meanwhile is refused for a second instead of waiting. Without it, a burst of
parallel attempts would all read "no failures yet" and each get a free guess. The address counter
is counted before the password is checked, with an atomic increment, and given back on success.

Time is `time.time()`, not the cache's expiry: the cache's timeouts only drop state that is over.

Addresses: `client_address` (apps.common.addresses, re-exported here) is the peer (REMOTE_ADDR),
unless the peer is one of TRUSTED_PROXIES; then X-Forwarded-For is read from the right, skipping
the trusted proxies, and the first address that is not one is the client. An IPv6 client counts
as its /64, what one subscriber is given.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from apps.accounts.errors import LoginLocked
from apps.common.addresses import client_address

# Every cache key of the throttle starts with this (the cache adds its own KEY_PREFIX).
KEY_NAMESPACE = "login-throttle"
# How long an attempt may hold its pair's lock: far above a password check, so it never expires
# under a live attempt, short enough that a process that died holding it blocks the pair briefly.
LOCK_SECONDS = 30
# What a second attempt on a pair whose first attempt is still running is told.
BUSY_RETRY_AFTER = 1


def address_unit(address: str) -> str:
    """The unit that is throttled: an IPv4 address, or an IPv6 address's /64 (what one subscriber
    is given, so also what identifies one network for the shared-identity rule)."""
    return _address_key(address)


def _address_key(address: str) -> str:
    """The unit that is throttled: an IPv4 address, or an IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _digest(*parts: str) -> str:
    # Hashed: usernames are free text, and cache keys must stay short and printable.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class PairState:
    """What the cache keeps for a (username, address) pair with failures."""

    failures: int = 0
    last_failure_at: float = 0.0

    def retry_at(self) -> float:
        """When the pair may try again; in the past when it may try now."""
        if self.failures < settings.LOGIN_FAILURE_LIMIT:
            return 0.0
        return self.last_failure_at + delay_after(self.failures)


def delay_after(failures: int) -> int:
    """The wait, in seconds, after the pair's `failures`-th failure (0 while attempts are free):
    LOGIN_DELAY_SECONDS at the limit, doubling with each further failure, capped."""
    over = failures - settings.LOGIN_FAILURE_LIMIT
    if over < 0:
        return 0
    # The exponent is bounded so that a long run of failures cannot overflow the float.
    return int(min(settings.LOGIN_DELAY_SECONDS * 2 ** min(over, 32), settings.LOGIN_MAX_DELAY_SECONDS))


class LoginAttempt:
    """One attempt inside `login_attempt`: the caller reports how it ended, once."""

    def __init__(self, *, pair_key: str, address_key: str, state: PairState) -> None:
        self._pair_key = pair_key
        self._address_key = address_key
        self._state = state

    def succeeded(self) -> None:
        """The password was right: the pair starts afresh and the address gets its attempt back."""
        cache.delete(self._pair_key)
        _give_back(self._address_key)

    def failed(self) -> None:
        """The password was wrong (or the account cannot log in): one more failure for the pair."""
        now = time.time()
        failures = self._state.failures + 1
        cache.set(
            self._pair_key,
            {"failures": failures, "last_failure_at": now},
            timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS,
        )


@contextmanager
def login_attempt(request: HttpRequest, username: str) -> Iterator[LoginAttempt]:
    """Admit one login attempt of `username` from the request's client address, or raise
    LoginLocked with the seconds to wait. The caller checks the password inside the block and
    calls `succeeded()` or `failed()`; an attempt that ends with neither counts against the
    address only (it never reached a verdict)."""
    address = _address_key(client_address(request))
    pair_key = f"{KEY_NAMESPACE}:pair:{_digest(username.casefold(), address)}"
    lock_key = f"{pair_key}:lock"
    token = secrets.token_hex(8)
    if not cache.add(lock_key, token, timeout=LOCK_SECONDS):
        raise LoginLocked(retry_after=BUSY_RETRY_AFTER)
    try:
        now = time.time()
        state = _read_pair(pair_key, now)
        retry_at = state.retry_at()
        if retry_at > now:
            raise LoginLocked(retry_after=_seconds_until(retry_at, now))
        address_key = _count_address_attempt(address, now)
        yield LoginAttempt(pair_key=pair_key, address_key=address_key, state=state)
    finally:
        # Compared first, so that an attempt that outlived its lock never frees another's.
        if cache.get(lock_key) == token:
            cache.delete(lock_key)


def _read_pair(pair_key: str, now: float) -> PairState:
    stored = cache.get(pair_key)
    if not stored:
        return PairState()
    state = PairState(failures=stored["failures"], last_failure_at=stored["last_failure_at"])
    if now - state.last_failure_at >= settings.LOGIN_FAILURE_WINDOW_SECONDS:
        return PairState()  # forgotten; the cache may not have dropped it yet
    return state


def _count_address_attempt(address: str, now: float) -> str:
    """Count an attempt against the address's current window, or raise LoginLocked until the
    next window once the address is past its ceiling. Returns the counter's key."""
    window = settings.LOGIN_ADDRESS_WINDOW_SECONDS
    index = int(now // window)
    key = f"{KEY_NAMESPACE}:address:{_digest(address)}:{index}"
    # The counter lives two windows, so it is never incremented as it expires (which would leave
    # a counter without a timeout).
    cache.add(key, 0, timeout=2 * window)
    attempts = cache.incr(key)
    if attempts > settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        # The window is fixed, so counting refused attempts too never lengthens the wait.
        raise LoginLocked(retry_after=_seconds_until((index + 1) * window, now))
    return key


def _give_back(address_key: str) -> None:
    # A window whose counter is gone is over: nothing to give back.
    with suppress(ValueError):
        cache.decr(address_key)


def _seconds_until(moment: float, now: float) -> int:
    return max(1, math.ceil(moment - now))
