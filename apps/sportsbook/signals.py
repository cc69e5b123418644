"""The sportsbook's domain events, sent after commit through the outbox (apps.common.events)."""

from apps.common.events import DomainSignal

# Markets whose prices or status changed (a version bump), or whose feed went stale or came back
# (`delayed`): `feed` (its code) and `markets`, each market's whole state as the odds socket's
# `market.updated` frame carries it (selectors.market_states). A batch of the feed, or a pass of
# the watchdog, sends one event for all the markets it changed. Receivers: realtime's push to the
# odds sockets, which drop a state at or below the version they hold, so a repeat after a crash
# is harmless.
markets_changed = DomainSignal("sportsbook.markets_changed")
