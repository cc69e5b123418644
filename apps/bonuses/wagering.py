"""Bonuses inside the wallet's money transaction (`apps.wallet.extensions`, position `BONUSES`).

At a stake (`on_stake`, after compliance's checks): a player who never had a bonus, or whose
bonuses have all ended, pays nothing (the player row the wallet's lock read says so, or the bonus
balance: bonus money exists only under an active bonus). Otherwise one statement counts the stake
towards the current bonus's wagering (weighted by game) and reads the active bonuses. Then, in
order: a bonus past its expiry ends (its money back to the pool) before the stake can spend it;
a stake above the maximum of a bonus still being wagered is refused (`LIMIT_REACHED`, reason
`bonus_max_stake`; the count rolls back with it); a bonus whose wagering this stake met converts
what is left of it to cash, after the stake (the callable returned to the wallet).

At a rollback of a stake (`on_refund`): the stake comes off the wagering it counted for.

At a withdrawal (`on_withdrawal`): an active bonus whose campaign says so is forfeited (its money
back to the pool) in the withdrawal's transaction, so a withdrawal and a bonus kept cannot both
happen; a bonus past its expiry ends as expired.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.selectors import money_text_of
from apps.bonuses import errors, selectors
from apps.bonuses.choices import BonusStatus
from apps.bonuses.endings import end_within
from apps.bonuses.selectors import ActiveBonus
from apps.common.db import prepared_cursor
from apps.games import selectors as games


def _game_type(origin: str, game_id: str) -> str:
    """The game's type in the catalogue; an origin that is not a provider's names no game."""
    provider = games.provider_of_origin(origin)
    return games.game_type(provider, game_id) if provider else ""


def on_stake(*, player: Player, wallet, amount: int, game_id: str = "", origin: str = "", **_: object):
    """The stake's bonus work (module docstring). Returns None, or the conversion to run after the
    stake is written."""
    if not wallet.holds_bonus:
        return None
    now = timezone.now()
    active = count_stake(player.pk, amount, game_id, _game_type(origin, game_id), now)
    for bonus in [bonus for bonus in active if bonus.expired(now)]:
        end_within(wallet, bonus, active, BonusStatus.EXPIRED, now=now)
    limits = [bonus.max_stake for bonus in active if bonus.max_stake and bonus.was_wagering]
    if limits and amount > min(limits):
        largest = min(limits)
        raise errors.BonusMaxStake(
            f"The largest stake while wagering this bonus is {money_text_of(player)(largest)}.",
            details={"max_stake": largest},
        )
    met = [bonus for bonus in active if bonus.wagering_met]
    if not met:
        return None

    def convert(**_: object) -> None:
        for bonus in met:
            end_within(wallet, bonus, active, BonusStatus.CONVERTED, now=now)

    return convert


def on_refund(*, player: Player, wallet, amount: int, game_id: str = "", origin: str = "", **_: object) -> None:
    """A rolled-back stake did not happen: it comes off the current bonus's wagering as it counted
    (the same weight), never below zero."""
    if wallet.holds_bonus:
        uncount_stake(player.pk, amount, game_id, _game_type(origin, game_id), timezone.now())


def on_withdrawal(*, player: Player, wallet, **_: object) -> None:
    """Forfeit the bonuses a withdrawal ends (module docstring), before the withdrawal's own move."""
    if not wallet.holds_bonus:
        return
    now = timezone.now()
    active = selectors.active_bonuses(player.pk)
    for bonus in list(active):
        if bonus.expired(now):
            end_within(wallet, bonus, active, BonusStatus.EXPIRED, now=now)
        elif bonus.forfeit_on_withdrawal and not bonus.wagering_met:
            end_within(wallet, bonus, active, BonusStatus.FORFEITED, now=now)


# How much of a stake counts towards a bonus's wagering: the weight of the game's code, else of
# its type, else the campaign's default, in percent, the product floored. Correlated on the
# bonus's campaign, so the stake's statement needs no read before it.
_WEIGHT = (
    "COALESCE((SELECT w.percent FROM bonuses_gameweight w WHERE w.campaign_id = bonuses_bonus.campaign_id "
    "AND w.game_code = %s), (SELECT w.percent FROM bonuses_gameweight w WHERE w.campaign_id = "
    "bonuses_bonus.campaign_id AND w.game_type = %s), (SELECT c.default_weight_percent FROM bonuses_campaign c "
    "WHERE c.id = bonuses_bonus.campaign_id))"
)
# The bonus a stake counts for: the oldest active one, not expired, whose wagering is not met.
_CURRENT = (
    "SELECT id FROM bonuses_bonus WHERE player_id = %s AND status = %s AND (expires_at IS NULL OR expires_at > %s) "
    "AND wagering_done < wagering_required ORDER BY id LIMIT 1"
)
# The counted bonus comes back as an ActiveBonus, its campaign's terms read by correlated
# subqueries (SQLite's RETURNING may not name a joined table), with the number of the player's
# active bonuses: when it is the only one, that is the whole read.
_OF_CAMPAIGN = "(SELECT c.{column} FROM bonuses_campaign c WHERE c.id = bonuses_bonus.campaign_id)"
_RETURNING = (
    f"RETURNING id, public_id, player_id, {_OF_CAMPAIGN.format(column='code')}, currency_id, amount, expires_at, "  # noqa: S608
    f"wagering_done, wagering_required, 1, {_OF_CAMPAIGN.format(column='max_stake')}, "
    f"{_OF_CAMPAIGN.format(column='forfeit_on_withdrawal')}, "
    "(SELECT COUNT(*) FROM bonuses_bonus o WHERE o.player_id = bonuses_bonus.player_id AND o.status = %s)"
)
_COUNT = (
    f"UPDATE bonuses_bonus SET wagering_done = wagering_done + CAST(%s AS BIGINT) * {_WEIGHT} / 100 "  # noqa: S608
    f"WHERE id = ({_CURRENT}) {_RETURNING}"
)
# A refund takes off what the stake counted (integer division truncates both ways alike), never
# below zero: the weight is written twice, so the stake's own statement does without the clamp.
_TAKEN_OFF = f"wagering_done - CAST(%s AS BIGINT) * {_WEIGHT} / 100"
_UNCOUNT = (
    f"UPDATE bonuses_bonus SET wagering_done = CASE WHEN {_TAKEN_OFF} < 0 THEN 0 ELSE {_TAKEN_OFF} END "  # noqa: S608
    f"WHERE id = ({_CURRENT})"
)


def count_stake(player_id: int, amount: int, game_code: str, game_type: str, now: dt.datetime) -> list[ActiveBonus]:
    """Inside a stake's money transaction: count the stake towards the wagering of the player's
    current bonus (above) and return every active bonus, oldest first, as after the count. One
    statement (prepared) when the current bonus is the player's only active one, the usual case;
    a read of them all besides otherwise (none current: past its expiry or met; several at once).
    The caller's refusal rolls the count back."""
    status = BonusStatus.ACTIVE.value
    at = connection.ops.adapt_datetimefield_value(now)
    with prepared_cursor() as cursor:
        cursor.execute(_COUNT, [amount, game_code or None, game_type or None, player_id, status, at, status])
        counted = cursor.fetchall()
    current = selectors.active_rows([row[:-1] for row in counted])
    if current and counted[0][-1] == 1:
        return current
    active = selectors.active_bonuses(player_id)
    for bonus in active:
        bonus.was_wagering = bonus.was_wagering or bool(current and bonus.pk == current[0].pk)
    return active


def uncount_stake(player_id: int, amount: int, game_code: str, game_type: str, now: dt.datetime) -> None:
    """Inside a rollback's money transaction: take a refunded stake off the current bonus's
    wagering as it counted (the same weight), never below zero."""
    weight = [amount, game_code or None, game_type or None]
    params = [*weight, *weight, player_id, BonusStatus.ACTIVE.value, connection.ops.adapt_datetimefield_value(now)]
    with prepared_cursor() as cursor:
        cursor.execute(_UNCOUNT, params)
