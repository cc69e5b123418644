"""The ledger in the back office: read-only views, and balance adjustments through the service.

Transactions and entries are never added, edited or deleted here (the database would refuse
anyway); a correction is a new transaction, made by `services.adjust_balance`.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.accounts.models import Player
from apps.common.admin import LargeTableAdmin, ReadOnlyAdmin, ReadOnlyInline, staff_page
from apps.common.errors import PamError
from apps.wallet import selectors, services
from apps.wallet.choices import AdjustmentReason, AdjustmentStatus
from apps.wallet.models import Account, AdjustmentAwaitingApproval, AdjustmentRequest, Entry, Transaction


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

    @staff_page("wallet.adjust_balance")
    def adjust_balance_view(self, request, player_id: int):
        """A form that calls services.request_adjustment: posted at once below the currency's
        four-eyes threshold, else a request that another staff member approves. The hidden key
        makes a double submit harmless."""
        if not request.user.has_perm("wallet.adjust_balance"):
            raise PermissionDenied
        player = get_object_or_404(Player.objects.select_related("user", "currency"), pk=player_id)
        form = AdjustmentForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                adjustment = services.request_adjustment(
                    player_id=player.pk, amount=data["amount"], reason_code=data["reason_code"],
                    reason=data["reason"], acting_user=request.user, idempotency_key=data["idempotency_key"],
                )  # fmt: skip
            except PamError as exc:
                form.add_error(None, f"{exc.code}: {exc.message}")
            else:
                if adjustment.transaction_id is not None:
                    self.message_user(request, f"Adjusted: transaction {adjustment.transaction_id}.", messages.SUCCESS)
                    return redirect(reverse("admin:wallet_transaction_change", args=[adjustment.transaction_id]))
                self.message_user(
                    request, f"Adjustment {adjustment.pk} awaits another staff member's approval.", messages.WARNING
                )
                return redirect(reverse("admin:wallet_adjustmentawaitingapproval_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {player.user.username}",
            "player": player,
            "state": selectors.get_wallet_state(player.pk),
            "threshold": services.four_eyes_threshold(player.currency_id),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wallet/adjust_balance.html", context)


class AdjustmentForm(forms.Form):
    amount = forms.IntegerField(help_text="signed, in minor units: 1250 credits 12.50 EUR, -500 debits 5.00")
    reason_code = forms.ChoiceField(choices=AdjustmentReason.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0 or abs(amount) > 10**12:
            raise forms.ValidationError("Between -10^12 and 10^12, not 0.")
        return amount


class DecisionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to reject")


class _AdjustmentDecisions(ReadOnlyAdmin):
    """Read-only rows; approve and reject are actions that call the services, which check the four
    eyes under the request's lock and record the staff action themselves."""

    list_display = ("id", "requested_at", "player", "amount", "currency", "reason_code", "reason", "status",
                    "requested_by", "decided_by", "decided_at", "transaction")  # fmt: skip
    search_fields = ("=id", "=player__id", "player__user__username")
    list_select_related = ("player__user", "requested_by", "decided_by", "currency", "transaction")
    action_form = DecisionForm
    actions = ("approve", "reject")
    actions_recorded_by_services = ("approve", "reject")
    show_full_result_count = False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("wallet.approve_adjustment")

    @admin.action(description="Approve the selected adjustments (posts them)", permissions=["approve"])
    def approve(self, request, queryset) -> None:
        self.decide_each(request, queryset, lambda row: services.approve_adjustment(request_id=row.pk,
                         acting_user=request.user), label=_label)  # fmt: skip

    @admin.action(description="Reject the selected adjustments (give a reason)", permissions=["approve"])
    def reject(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A rejection needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda row: services.reject_adjustment(
            request_id=row.pk, acting_user=request.user, reason=reason), label=_label)  # fmt: skip


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(_AdjustmentDecisions):
    list_filter = ("status", "reason_code", "needs_approval", "currency")
    date_hierarchy = "requested_at"


@admin.register(AdjustmentAwaitingApproval)
class AdjustmentApprovalQueueAdmin(_AdjustmentDecisions):
    ordering = ("requested_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=AdjustmentStatus.PENDING)


def _label(row: AdjustmentRequest) -> str:
    return f"adjustment {row.pk}"
