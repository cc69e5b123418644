"""Compliance's receivers: the login starts a play session; a change of a player's standing by
staff refreshes the checks in its transaction; the after-commit events of this app do their side
effects; every wallet event, and every failed deposit of the cashier, goes through the
behaviour-rule engine; a player's login and a deposit's instrument are indexed as identity marks
(identity.py). Each of those is idempotent
per event (a re-delivery by the outbox sweeper after a crash changes nothing): see each
docstring for why. The notices and closed sockets the player
sees are the real-time app's receivers of these events."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from apps.accounts import selectors as accounts
from apps.accounts.errors import NotAPlayer
from apps.accounts.signals import player_logged_in, player_standing_changed
from apps.common.events import once_per_event
from apps.compliance import engine, identity, services, signals
from apps.compliance.choices import MarkKind
from apps.payments.signals import deposit_failed, deposit_instrument_seen
from apps.wallet.signals import transaction_posted


@receiver(user_logged_in, dispatch_uid="compliance.start_play_session")
def start_play_session(sender, request, user, **kwargs) -> None:
    """Every login of a player (site session or API token) starts a play session."""
    try:
        player = accounts.get_player_for_user(user)
    except NotAPlayer:
        return
    session = getattr(request, "session", None)
    services.start_play_session(player=player, session_key=(session.session_key or "") if session else "")


@receiver(signals.player_excluded, dispatch_uid="compliance.end_sessions_of_excluded")
@once_per_event("compliance.end_sessions_of_excluded")
def end_sessions_of_excluded(sender, player_id: str, kind: str, ends_at: str, **kwargs) -> None:
    """Log the excluded player out everywhere (a second run would find nothing left to end)."""
    what = "time-out" if kind == "time_out" else "self-exclusion"
    services.end_player_sessions(
        player_id=int(player_id),
        message=f"Your {what} has started and lasts until {ends_at}. You have been logged out.",
        data={"reason": kind, "until": ends_at},
    )


@receiver(signals.reality_check_due, dispatch_uid="compliance.send_reality_check")
@once_per_event("compliance.send_reality_check")
def send_reality_check(sender, player_id: str, due_at: str, **kwargs) -> None:
    """One check per due time: the conditional update on `due_at` also stops a second bet's event."""
    services.send_due_reality_check(player_id=int(player_id), due_at=dt.datetime.fromisoformat(due_at))


@receiver(player_standing_changed, dispatch_uid="compliance.refresh_checks_on_standing")
def refresh_checks_on_standing(sender, player_id: int, changed: frozenset[str], **kwargs) -> None:
    """Inside the transaction that changed the player's status or KYC (staff, in the back office):
    after a change of KYC, whether the money path still needs to read the player's protection
    state (a verified player's KYC hold no longer refuses anything). The status is read by the
    money path itself; an account closed for play has its sockets closed after commit. Raising
    rolls the change back with it."""
    if "kyc_status" in changed:
        services.refresh_checks(player_id)
    if "status" in changed:
        services.status_changed_on_player_page(player_id)


@receiver(transaction_posted, dispatch_uid="compliance.evaluate_rules")
def evaluate_rules(sender, event_id: int | None = None, **event) -> None:
    """After a money movement commits: the player's windowed counters and the enabled behaviour
    rules that apply (engine.py, docs/rules.md). Once per event (a receipt in the transaction of
    the counts and actions); an event no enabled rule counts costs nothing. Raising leaves the
    event to the outbox sweeper, which delivers it again."""
    engine.on_transaction_posted(event_id, event)


@receiver(deposit_failed, dispatch_uid="compliance.evaluate_failed_deposit")
def evaluate_failed_deposit(sender, event_id: int | None = None, **event) -> None:
    """After a deposit failed (payments decided it): the player's run of failed deposits, when a
    failed-deposits rule is enabled (card testing: engine.py, docs/rules.md). Once per event, as
    the wallet's events; with no such rule enabled it costs nothing."""
    engine.on_deposit_failed(event_id, event)


@receiver(player_logged_in, dispatch_uid="compliance.index_login_marks")
@once_per_event("compliance.index_login_marks")
def index_login_marks(sender, player_id: str, at: str, network: str, device_hash: str, event_id: int | None = None,
                      **kwargs) -> None:  # fmt: skip
    """A login's device and network as identity marks, and the shared-identity rules on them, in
    the transaction of the event's receipt: a re-delivered event changes nothing."""
    identity.record_marks(
        player_id=int(player_id), at=dt.datetime.fromisoformat(at),
        marks=identity.login_marks(network=network, device_hash=device_hash), event_id=event_id,
    )  # fmt: skip


@receiver(deposit_instrument_seen, dispatch_uid="compliance.index_instrument_mark")
@once_per_event("compliance.index_instrument_mark")
def index_instrument_mark(sender, player_id: str, at: str, fingerprint: str, event_id: int | None = None,
                          **kwargs) -> None:  # fmt: skip
    """A deposit's instrument as an identity mark, and the shared-identity rules on it (once per
    event, as above)."""
    identity.record_marks(player_id=int(player_id), at=dt.datetime.fromisoformat(at),
                          marks=[(MarkKind.INSTRUMENT, fingerprint)], event_id=event_id)  # fmt: skip
