"""Wallet test data, built through the services so every row is one the product could have made."""

from __future__ import annotations

import uuid

from django.db.models import Sum

from apps.accounts.choices import BonusState
from apps.accounts.models import Player
from apps.accounts.services import set_bonus_state
from apps.accounts.tests.factories import make_player
from apps.common.idempotency import ExternalRef, fingerprint
from apps.wallet import selectors, services
from apps.wallet.choices import BONUS_POOL, TransactionKind
from apps.wallet.models import Account, Entry, Transaction

ORIGIN = "provider:test"


def a_ref(origin: str = ORIGIN, *, external_id: str | None = None, body: dict | None = None) -> ExternalRef:
    """A fresh idempotency key: a unique external id (unless given) and the fingerprint of `body`.

    The same `external_id` with another `body` is the same id with a different request.
    """
    external_id = external_id or f"tx-{uuid.uuid4().hex}"
    return ExternalRef(origin, external_id, fingerprint("test", {"external_id": external_id, **(body or {})}))


def funded_player(amount: int, currency: str = "EUR", **overrides) -> Player:
    """A new player with `amount` minor units of cash, credited by an operator adjustment."""
    player = make_player(currency=currency, **overrides)
    if amount:
        services.adjust_balance(player_id=player.pk, amount=amount, reason="test funding", acting_user=None)
    return player


def grant_bonus(player: Player, amount: int, ref: ExternalRef | None = None) -> services.Posted:
    """Put `amount` into the player's bonus account, from the bonus pool, and mark the player as
    holding an active bonus (as the bonuses app's grant does)."""
    set_bonus_state(player_id=player.pk, state=BonusState.ACTIVE)
    return services.credit(
        player_id=player.pk,
        currency=player.currency_id,
        amount=amount,
        kind=TransactionKind.BONUS,
        ref=ref or a_ref("bonus:test"),
        counter=BONUS_POOL,
        to_bonus=True,
    )


def bet(player: Player, amount: int, ref: ExternalRef | None = None, round_id: str = "round-1") -> services.Posted:
    return services.place_bet(
        player_id=player.pk,
        currency=player.currency_id,
        amount=amount,
        ref=ref or a_ref(),
        round_id=round_id,
        game_id="game-1",
    )


def win(player: Player, amount: int, ref: ExternalRef | None = None, round_id: str = "round-1") -> services.Posted:
    return services.settle_win(
        player_id=player.pk,
        currency=player.currency_id,
        amount=amount,
        ref=ref or a_ref(),
        round_id=round_id,
        game_id="game-1",
    )


def rollback(
    player: Player, bet_external_id: str, ref: ExternalRef | None = None, round_id: str = "round-1"
) -> services.Posted:
    return services.rollback_bet(
        player_id=player.pk,
        currency=player.currency_id,
        rolled_back_external_id=bet_external_id,
        ref=ref or a_ref(),
        round_id=round_id,
        game_id="game-1",
    )


def wallet(player: Player) -> tuple[int, int, int]:
    """(cash, bonus, wallet version) as committed."""
    state = selectors.get_wallet_state(player.pk)
    return state.cash, state.bonus, state.version


def system_balance(code: str, currency: str = "EUR") -> int:
    """A system account's balance: the sum of its entries (its stored column stays 0)."""
    total = Entry.objects.filter(account__player__isnull=True, account__code=code, account__currency_id=currency)
    return total.aggregate(total=Sum("amount"))["total"] or 0


def entries_of(transaction_id: int | str) -> list[tuple[str, int, int | None, int | None]]:
    """(account, amount, balance_after, account_version) of each entry, in order; a player account
    is named by its kind ("cash", "bonus"), a system account by its code ("house")."""
    return [
        (entry.account.code or entry.account.kind, entry.amount, entry.balance_after, entry.account_version)
        for entry in Entry.objects.filter(transaction_id=transaction_id).select_related("account").order_by("pk")
    ]


def ledger_rows() -> tuple[list, list, list]:
    """Every transaction id, entry id and account (id, balance, version): equal before and after
    a call that wrote nothing."""
    return (
        list(Transaction.objects.order_by("pk").values_list("pk", flat=True)),
        list(Entry.objects.order_by("pk").values_list("pk", flat=True)),
        list(Account.objects.order_by("pk").values_list("pk", "balance", "version")),
    )


def bet_paths(captured) -> tuple[bool, bool]:
    """Whether the wallet's bet function ran among the statements `captured` (a
    CaptureQueriesContext), and whether the Python path's lock of the accounts did."""
    sql = [query["sql"] for query in captured.captured_queries]
    return any("wallet_place_bet" in text for text in sql), any("FOR UPDATE OF a" in text for text in sql)
