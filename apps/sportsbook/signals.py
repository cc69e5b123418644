"""The sportsbook's domain events, sent after commit through the outbox (apps.common.events)."""

from apps.common.events import DomainSignal

# Markets whose prices or status changed (a version bump), or whose feed went stale or came back
# (`delayed`): `feed` (its code) and `markets`, each market's whole state as the odds socket's
# `market.updated` frame carries it (selectors.market_states). A batch of the feed, or a pass of
# the watchdog, sends one event for all the markets it changed. Receivers: realtime's push to the
# odds sockets, which drop a state at or below the version they hold, so a repeat after a crash
# is harmless.
markets_changed = DomainSignal("sportsbook.markets_changed")

# Bets settled or resettled (settlement.py): `bets`, each {player_id, bet_id, status, payout,
# currency, settlement (its number, from 1)}, sent in the settlement's transaction (a winning
# bet's: beside its win's `transaction_posted`, after it; a batch of losing bets: one event).
# Receivers: realtime's `bet_settled` notice to each player. A repeat after a crash repeats a
# notice naming the same bet and settlement: harmless.
bets_settled = DomainSignal("sportsbook.bets_settled")

# Markets whose liability throttle a bet crossed (intake.take_bet): `markets`, their pks, and
# `crossed_at`, the bet's time, sent in the bet's money transaction. Receiver: the sportsbook's
# own suspension (receivers.py), which leaves a market the throttle suspended at or after
# `crossed_at` as it is: a repeat after a crash never suspends again what a staff member reopened.
markets_throttled = DomainSignal("sportsbook.markets_throttled")
