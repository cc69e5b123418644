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

python -m bench.sportsbook_setup caps THREADS BETS_EACH PLAYER_ID …
    an event of its own (`bench-caps`, three markets) and THREADS threads, each with its own
    database connection and player, placing BETS_EACH random singles and doubles on it through
    `services.place_bet` against caps of this process that grow with the run (per bet of it, 4.00
    of liability on a selection, 9.00 on a market, 20.00 on the event), as
    tests/concurrency/test_sportsbook_bets.py does with 1,000 bets. Prints one JSON object: bets
    taken and refused, errors, the event's exposure rows above their cap, and whether the stored
    exposure equals its recomputation from the bets.

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

from django.db import models  # noqa: E402
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


CAPS_MARKETS = ("bench-caps-m1", "bench-caps-m2", "bench-caps-m3")


def caps(threads: int, bets_each: int, player_ids: list[int]) -> dict:
    import random
    import threading
    from decimal import Decimal

    from django.conf import settings
    from django.db import connection

    from apps.sportsbook import intake, selectors
    from apps.sportsbook.errors import StakeTooHigh
    from apps.sportsbook.models import Exposure, Feed, Market
    from apps.wallet import errors as wallet_errors

    feed = Feed.objects.get(code=FEED)
    starts = (timezone.now() + dt.timedelta(days=1)).isoformat()
    seq = feed.last_seq
    messages = [{"seq": seq + 1, "type": "event", "event_id": "bench-caps", "name": "Caps v Caps", "sport": "football",
                 "starts_at": starts, "in_play_delay_s": 0}]  # fmt: skip
    for n, market in enumerate(CAPS_MARKETS):
        messages.append({"seq": seq + 2 + n, "type": "market", "event_id": "bench-caps", "market_id": market,
                         "name": market, "selections": [
                             {"selection_id": f"{market}-{side}", "name": side, "price": price}
                             for side, price in (("home", "3.10"), ("draw", "3.20"), ("away", "2.40"))]})  # fmt: skip
    services.apply_feed_batch(feed_id=feed.pk, batch=parse_batch(json.dumps({"messages": messages}).encode()))
    # Small caps in this process only (the servers keep theirs); the platform's stays far above
    # what the run stakes, since the bench's other bets count on it too.
    # The caps grow with the run: per bet of it, 4.00 of liability on a selection, 9.00 on a market,
    # 20.00 on the event (about what a bet takes on average), so that bets are taken for much of
    # the run and every cap is met before its end.
    bets = threads * bets_each
    settings.SPORTSBOOK_LIMITS = {**settings.SPORTSBOOK_LIMITS, "selection": 4 * bets, "market": 9 * bets,
                                  "event": 20 * bets, "bet_liability": 200, "max_payout": 1_000}  # fmt: skip
    # The liability throttle off, as in the test: bets racing against the caps would otherwise
    # take these small markets over its limit within the minute, and the markets it suspends
    # would refuse the rest before the caps are reached.
    settings.SPORTSBOOK_THROTTLE = {**settings.SPORTSBOOK_THROTTLE, "limit": 0, "cap_share": "0"}
    legs_of = {market: [(f"{market}-{side}", price) for side, price in (("home", "3.10"), ("draw", "3.20"),
                                                                        ("away", "2.40"))]
               for market in CAPS_MARKETS}  # fmt: skip
    players = list(Player.objects.filter(pk__in=player_ids)[:threads])
    totals = {"taken": 0, "refused": 0, "errors": []}
    lock = threading.Lock()

    def bettor(player, seed: int) -> None:
        rng = random.Random(seed)
        taken = refused = 0
        try:
            for n in range(bets_each):
                markets = rng.sample(CAPS_MARKETS, rng.choice((1, 1, 1, 2)))
                legs = [intake.LegRequest(selection, Decimal(price), 1)
                        for selection, price in (rng.choice(legs_of[market]) for market in markets)]  # fmt: skip
                try:
                    services.place_bet(player=player, idempotency_key=f"caps-{seed}-{n}",
                                       stake=rng.randint(100, 5_000), currency="EUR", legs=legs,
                                       accept_price_changes="none")  # fmt: skip
                    taken += 1
                except (StakeTooHigh, wallet_errors.InsufficientFunds):
                    refused += 1
        except Exception as exc:  # reported, not raised: the run counts them
            with lock:
                totals["errors"].append(repr(exc))
        finally:
            connection.close()
        with lock:
            totals["taken"] += taken
            totals["refused"] += refused

    workers = [threading.Thread(target=bettor, args=(player, seed)) for seed, player in enumerate(players)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=1800)
    limits = intake.limits_of("EUR")
    markets = list(Market.objects.filter(market_id__in=CAPS_MARKETS).values_list("pk", flat=True))
    selections = list(Selection.objects.filter(market_id__in=markets).values_list("pk", flat=True))
    event = Market.objects.filter(pk__in=markets).values_list("event_id", flat=True).first()
    rows = Exposure.objects.filter(currency_id="EUR").filter(
        models.Q(scope="selection", target_id__in=selections) | models.Q(scope="market", target_id__in=markets)
        | models.Q(scope="event", target_id=event)
    )  # fmt: skip
    breaches = [f"{row.scope} {row.target_id}: {row.amount}" for row in rows if row.amount > limits[row.scope]]
    return {**totals, "breaches": breaches, "exposure_recomputed": selectors.stored_exposure() ==
            selectors.recompute_exposure(), "alive": sum(worker.is_alive() for worker in workers)}  # fmt: skip


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "markets":
        print(json.dumps(markets(int(args[0]), int(args[1]), [int(a) for a in args[2:]])))
    elif command == "caps":
        print(json.dumps(caps(int(args[0]), int(args[1]), [int(a) for a in args[2:]])))
    elif command == "bets":
        print(bets(int(args[0]), args[1], [int(a) for a in args[2:]]))
    else:
        raise SystemExit(f"unknown command {command!r}")
