"""The bonuses benchmark's set-up and check, run with the bench environment after `bench.seed`:

python -m bench.bonuses_setup grant PROVIDER PLAYER_ID …   the bench game catalogued as a slot of
                                             PROVIDER, the campaign `BENCH100` saved through the
                                             bonuses service, and granted through `services.grant`
                                             to each player named, matching the player's seed
                                             deposit; prints how many bonuses were granted
python -m bench.bonuses_setup report         the bench bonuses after the run, one line
                                             "name=value" each (`report` reads them back)

The campaign is made so that nothing ends a bonus during a run: a match of 100 % up to 100.00
wagered 30 times (300,000 bets of the bench's 1 minor unit each before one converts), at most
50.00 a stake while wagering (the bench stakes 1), no expiry, no forfeiture. Slots count 100 %,
every other game 50 %: a bench stake of 1 on a game the wagering did not find a slot counts 0
(floored), so the report tells whether the type's weight applied.
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pam.settings")
django.setup()

from django.db.models import Count, Max, Sum  # noqa: E402

from apps.accounts.choices import BonusState  # noqa: E402
from apps.accounts.models import Currency, Player  # noqa: E402
from apps.bonuses import services  # noqa: E402
from apps.bonuses.models import Bonus  # noqa: E402
from apps.games.choices import GameType  # noqa: E402
from apps.games.models import Provider  # noqa: E402
from apps.games.services import save_game  # noqa: E402
from apps.wallet.models import Transaction  # noqa: E402
from bench.seed import FUNDS  # noqa: E402

CODE = "BENCH100"
GAME = "bench-slot"  # the game every bench bet names (bench.wallet.bet_requests)
CAMPAIGN = {
    "name": "Bench: 100 % deposit match", "kind": "deposit_match", "enabled": True, "match_percent": 100,
    "cap": 10_000, "trigger": "any_deposit", "min_deposit": 1, "wagering_multiple": 30, "max_stake": 5_000,
    "default_weight_percent": 50, "one_per_player": True, "requires_opt_in": False,
}  # fmt: skip
WEIGHTS = [services.Weight(percent=100, game_type=GameType.SLOTS)]


def grant(provider: str, player_ids: list[int]) -> int:
    save_game(provider=Provider.objects.get(code=provider), code=GAME, name="Bench slot", game_type=GameType.SLOTS)
    campaign = services.save_campaign(code=CODE, acting_user=None, reason="bench: bonus players",
                                      weights=WEIGHTS, currency=Currency.objects.get(code="EUR"),
                                      **CAMPAIGN)  # fmt: skip
    # The deposit each grant matches: the player's seed deposit (bench.seed), as the deposit's
    # own event would have granted it had the campaign been open then.
    deposits = dict(
        Transaction.objects.filter(origin="bench-seed", player_id__in=player_ids).values_list("player_id", "id")
    )
    for player in Player.objects.filter(pk__in=player_ids):
        services.grant(player, campaign, trigger_ref=str(deposits[player.pk]), deposit_amount=FUNDS)
    return Bonus.objects.filter(campaign=campaign).count()


def report() -> dict[str, int]:
    bonuses = Bonus.objects.filter(campaign__code=CODE)
    totals = bonuses.aggregate(done=Sum("wagering_done", default=0), most=Max("wagering_done", default=0),
                               required=Max("wagering_required", default=0))  # fmt: skip
    by_status = dict(bonuses.values_list("status").annotate(n=Count("id")))
    return {
        "granted": bonuses.count(),
        "active": by_status.get("active", 0),
        "ended": sum(n for status, n in by_status.items() if status != "active"),
        "wagering_done": totals["done"],
        "most_wagered": totals["most"],
        "wagering_required": totals["required"],
        "players_active_state": Player.objects.filter(bonus_state=BonusState.ACTIVE).count(),
    }


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "grant":
        print(grant(sys.argv[2], [int(pk) for pk in sys.argv[3:]]))
    elif command == "report":
        print("\n".join(f"{name}={value}" for name, value in report().items()))
