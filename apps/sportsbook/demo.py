"""The sportsbook's demo book, which `seed_demo` (`make run`) seeds: a feed `demo`, plainly named
fictional fixtures with match odds and total goals, three upcoming and one in play (a 5 s in-play
delay), and a few accepted pre-match bets of the demo players.

Everything goes through the sportsbook's own paths: the book is a feed batch applied by
`services.apply_feed_batch` (the feed endpoint's path without the signature: the operator seeding
the demo is the sender), the bets are placed by `services.place_bet` (the stake through the
wallet, the exposure with it).

Idempotent. The book is sent again on each run, numbered from the feed's next `seq`: the same
prices change no market's version, the upcoming kick-offs follow the day of the run, and a market
PAM's watchdog suspended while the demo feed was silent (no server running) reopens, as after any
feed's fresh prices. The bets have fixed Idempotency-Keys and are placed at the book's first
prices and versions, so a second run replays them and moves nothing.

`make run` has no feed process: the embedded server sends the demo feed's heartbeat itself
(SPORTSBOOK_DEMO_FEED, `services.beat_demo_feed`), so the live event is not suspended by the
watchdog; its prices move only when something posts to the feed (its secret is in
`demo-logins.json`) or `feed_replay` replays a file into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from apps.accounts.models import Player
from apps.sportsbook import feed as messages
from apps.sportsbook import odds, services
from apps.sportsbook.choices import PriceChanges
from apps.sportsbook.intake import LegRequest
from apps.sportsbook.models import Feed

DEMO_FEED = "demo"
SPORT = "football"
LIVE_DELAY_S = 5
LIVE_FOR = dt.timedelta(minutes=35)  # the live match's kick-off, before the run
MATCH_ODDS = ("1x2", "Match odds (90 minutes)")
TOTALS = ("ou25", "Total goals over/under 2.5 (90 minutes)")
# (event id, home, away, kick-off as (days after the run's day, UTC hour) or None: in play now,
#  match odds home / draw / away, totals over / under). Margins of 4 to 6 %, as a book's.
FIXTURES = [
    ("demo-live", "Kingsport", "Lakeside", None, ("1.85", "3.50", "4.60"), ("2.20", "1.70")),
    ("demo-1", "Harbour City", "Riverside", (1, 18), ("2.10", "3.40", "3.60"), ("1.95", "1.90")),
    ("demo-2", "Northgate", "Southport Athletic", (1, 20), ("2.75", "3.20", "2.60"), ("2.05", "1.80")),
    ("demo-3", "Westfield Rovers", "Eastbrook", (2, 15), ("1.65", "3.90", "5.25"), ("1.80", "2.05")),
]
# (player, Idempotency-Key, stake in minor units of the player's currency, legs as
# (selection id, price)): each at the book's first prices, version 1.
BETS = [
    ("alice", "demo-alice-bet-1", 1_000, [("demo-1-1x2-home", "2.10")]),
    ("alice", "demo-alice-bet-2", 500, [("demo-2-1x2-draw", "3.20"), ("demo-3-ou25-over", "1.80")]),
    ("bob", "demo-bob-bet-1", 2_000, [("demo-3-1x2-home", "1.65")]),
]


def seed(*, secret: str, players: Mapping[str, Player], now: dt.datetime | None = None) -> Feed:
    """Create the demo feed (or give it `secret`), send its book, place the demo bets of the
    `players` named in BETS (by username); returns the feed."""
    now = timezone.now() if now is None else now
    feed = services.save_feed(code=DEMO_FEED, secret=secret)
    services.apply_feed_batch(feed_id=feed.pk, batch=book(first_seq=feed.last_seq + 1, now=now))
    for username, key, stake, legs in BETS:
        player = players.get(username)
        if player is None:
            continue
        services.place_bet(
            player=player, idempotency_key=key, stake=stake, currency=player.currency_id,
            legs=[LegRequest(selection_id, odds.parse_decimal(price), 1) for selection_id, price in legs],
            accept_price_changes=PriceChanges.NONE,
        )  # fmt: skip
    feed.refresh_from_db()
    return feed


def book(*, first_seq: int, now: dt.datetime) -> list[messages.Message]:
    """The demo's feed messages, numbered from `first_seq`: each event, its two markets, and the
    live one's kick-off."""
    batch: list[messages.Message] = []

    def seq() -> int:
        return first_seq + len(batch)

    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for event_id, home, away, kick_off, match_odds, totals in FIXTURES:
        starts_at = now - LIVE_FOR if kick_off is None else today + dt.timedelta(days=kick_off[0], hours=kick_off[1])
        batch.append(messages.EventMessage(seq(), event_id, f"{home} v {away}", SPORT, starts_at, LIVE_DELAY_S))
        for (code, name), selections in (
            (MATCH_ODDS, zip(("home", "draw", "away"), (home, "Draw", away), match_odds, strict=True)),
            (TOTALS, zip(("over", "under"), ("Over 2.5 goals", "Under 2.5 goals"), totals, strict=True)),
        ):
            market_id = f"{event_id}-{code}"
            prices = tuple(
                messages.SelectionPrice(f"{market_id}-{key}", shown, odds.parse_decimal(price))
                for key, shown, price in selections
            )
            batch.append(messages.MarketMessage(seq(), event_id, market_id, name, prices))
        if kick_off is None:
            batch.append(messages.LiveMessage(seq(), event_id))
    return batch
