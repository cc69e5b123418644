"""The sportsbook benchmark's set-up, run with the bench environment after `bench.seed` (which
made the players and funded them through the wallet):

python -m bench.sportsbook_setup markets EVENTS MARKETS PLAYER_ID …
    a feed (`bench-sportsbook`) and EVENTS pre-match events with MARKETS three-way markets each,
    sent through the feed endpoint's own path (`feed.parse_batch`, `services.apply_feed_batch`);
    a bearer token for each player named. Prints one JSON object: {"feed", "secret", "tokens":
    [...], "legs": [{"selection_id", "price", "market_version"}, …]} (every selection on sale).

python -m bench.sportsbook_setup bets COUNT MARKET_ID PLAYER_ID …
    COUNT singles of 1.00 on the selections of MARKET_ID in turn, by the players named in turn,
    through `services.place_bet` (the stake, the exposure and the bet in one transaction, as the
    API places them); prints how many were accepted.

The events start tomorrow: pre-match, so a bet is taken at once (no in-play delay), as most
sportsbook bets are.
"""

import datetime as dt
import json
import os
import secrets
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from apps.accounts.models import Player  # noqa: E402
from apps.accounts.services import issue_token  # noqa: E402
from apps.sportsbook import services  # noqa: E402
from apps.sportsbook.feed import parse_batch  # noqa: E402
from apps.sportsbook.models import Selection  # noqa: E402

FEED = "bench-sportsbook"
PRICES = ("2.10", "3.40", "3.60")


def feed_messages(events: int, markets: int) -> list[dict]:
    starts = (timezone.now() + dt.timedelta(days=1)).isoformat()
    messages, seq = [], 0
    for e in range(events):
        seq += 1
        messages.append({"seq": seq, "type": "event", "event_id": f"bench-e{e}", "name": f"Bench {e} v Bench {e + 1}",
                         "sport": "football", "starts_at": starts, "in_play_delay_s": 5})  # fmt: skip
        for m in range(markets):
            seq += 1
            selections = [{"selection_id": f"bench-e{e}-m{m}-{side}", "name": side, "price": price}
                          for side, price in zip(("home", "draw", "away"), PRICES, strict=True)]  # fmt: skip
            messages.append({"seq": seq, "type": "market", "event_id": f"bench-e{e}", "market_id": f"bench-e{e}-m{m}",
                             "name": f"Match result {m}", "selections": selections})  # fmt: skip
    return messages


def markets(events: int, market_count: int, player_ids: list[int]) -> dict:
    secret = secrets.token_hex(32)
    feed = services.save_feed(code=FEED, secret=secret)
    body = json.dumps({"messages": feed_messages(events, market_count)}).encode()
    services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(body))
    legs = [
        {"selection_id": s.selection_id, "price": f"{s.price:.2f}", "market_version": s.market.version}
        for s in Selection.objects.filter(market__event__feed=feed).select_related("market").order_by("pk")
    ]
    tokens = [issue_token(player.user) for player in Player.objects.filter(pk__in=player_ids).select_related("user")]
    return {"feed": FEED, "secret": secret, "tokens": tokens, "legs": legs}


def bets(count: int, market_id: str, player_ids: list[int]) -> int:
    from decimal import Decimal

    from apps.sportsbook.intake import LegRequest

    legs = [LegRequest(s.selection_id, Decimal(s.price), s.market.version)
            for s in Selection.objects.filter(market__market_id=market_id).select_related("market")]  # fmt: skip
    players = list(Player.objects.filter(pk__in=player_ids))
    accepted = 0
    for n in range(count):
        placed = services.place_bet(
            player=players[n % len(players)], idempotency_key=f"settle-{market_id}-{n}-{secrets.token_hex(4)}",
            stake=100, currency="EUR", legs=[legs[n % len(legs)]], accept_price_changes="none",
        )  # fmt: skip
        accepted += placed.bet.status == "accepted"
    return accepted


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "markets":
        print(json.dumps(markets(int(args[0]), int(args[1]), [int(a) for a in args[2:]])))
    elif command == "bets":
        print(bets(int(args[0]), args[1], [int(a) for a in args[2:]]))
    else:
        raise SystemExit(f"unknown command {command!r}")
