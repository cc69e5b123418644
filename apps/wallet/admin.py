"""The ledger in the back office: read-only views, and balance adjustments through the service.

Transactions and entries are never added, edited or deleted here (the database would refuse
anyway); a correction is a new transaction, made by `services.adjust_balance`.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.accounts.models import Player
from apps.common.admin import LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline
from apps.common.errors import PamError
from apps.wallet import selectors, services
from apps.wallet.models import Account, Entry, Transaction


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account", "amount", "balance_after", "account_version")


def _bigint(term: str) -> int | None:
    """The term as an id, if it is one (a bigint: a larger number would fail the look-up)."""
    return int(term) if term.isdigit() and int(term) < 2**63 else None


@admin.register(Transaction)
class TransactionAdmin(LargeTableAdmin):
    """Newest first along the primary key; the kind filter reads `transaction_kind_idx` (bets and
    wins, nearly every row, are found at once along the primary key); a search is exact, each
    of its parts an index look-up. A player's own transactions are on their page."""

    list_display = ("id", "created_at", "kind", "player", "amount", "currency", "balance_after", "wallet_version",
                    "origin", "external_id", "game_id")  # fmt: skip
    list_filter = ("kind",)
    search_fields = ("=id", "=external_id", "=round_id")
    search_help_text = "A transaction id, or a provider's transaction or round id, exactly."
    list_select_related = ("player__user", "currency")
    inlines = [EntryInline]

    def search(self, term: str) -> Q | None:
        found = Q(external_id=term) | Q(round_id=term)
        pk = _bigint(term)
        return found | Q(pk=pk) if pk is not None else found


@admin.register(Entry)
class EntryAdmin(LargeTableAdmin):
    """Newest first along the primary key; a search gives a transaction's entries (its id) or an
    account's statement (`account:<id>`, along `wallet_entry_account_idx`)."""

    list_display = ("id", "transaction", "account", "amount", "currency", "balance_after", "account_version")
    search_fields = ("=transaction__id", "=account__id")
    search_help_text = "A transaction id (its entries), or account:<id> (the account's entries, newest first)."
    list_select_related = ("transaction", "account", "currency")

    def search(self, term: str) -> Q | None:
        prefix, _, value = term.rpartition(":")
        pk = _bigint(value.strip())
        if pk is None or prefix.strip().lower() not in ("", "account"):
            return None
        return Q(account_id=pk) if prefix.strip() else Q(transaction_id=pk)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "kind", "currency", "current_balance", "version", "adjust")
    list_filter = ("kind", "currency")
    search_fields = ("=id", "=player__id", "player__user__username", "code")
    list_select_related = ("player__user",)

    @admin.display(description="owner")
    def owner(self, account: Account) -> str:
        return account.player.user.username if account.player_id else account.code

    @admin.display(description="balance")
    def current_balance(self, account: Account) -> int:
        if account.player_id:
            return account.balance
        # System accounts are never updated per movement: their balance is the sum of entries.
        return account.entries.aggregate(total=Sum("amount"))["total"] or 0

    @admin.display(description="")
    def adjust(self, account: Account) -> str:
        if account.kind != "cash":
            return ""
        return format_html('<a href="{}">adjust…</a>', reverse("admin:wallet_adjust_balance", args=[account.player_id]))

    def get_urls(self):
        view = self.admin_site.admin_view(self.adjust_balance_view)
        return [path("adjust/<int:player_id>/", view, name="wallet_adjust_balance"), *super().get_urls()]

    def adjust_balance_view(self, request, player_id: int):
        """A form that calls services.adjust_balance; the hidden key makes a double submit harmless."""
        if not request.user.has_perm("wallet.adjust_balance"):
            raise PermissionDenied
        player = get_object_or_404(Player.objects.select_related("user", "currency"), pk=player_id)
        form = AdjustmentForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                posted = services.adjust_balance(
                    player_id=player.pk,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    acting_user=request.user,
                    external_id=f"admin:{form.cleaned_data['idempotency_key']}",
                )
            except PamError as exc:
                form.add_error(None, f"{exc.code}: {exc.message}")
            else:
                self.message_user(
                    request, f"Adjusted; balance {posted.balance} {posted.currency}, version {posted.version}.",
                    messages.SUCCESS,
                )  # fmt: skip
                return redirect(reverse("admin:wallet_transaction_change", args=[posted.transaction_id]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {player.user.username}",
            "player": player,
            "state": selectors.get_wallet_state(player.pk),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wallet/adjust_balance.html", context)


class AdjustmentForm(forms.Form):
    amount = forms.IntegerField(help_text="signed, in minor units: 1250 credits 12.50 EUR, -500 debits 5.00")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0 or abs(amount) > 10**12:
            raise forms.ValidationError("Between -10^12 and 10^12, not 0.")
        return amount
