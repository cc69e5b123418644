"""Payments in the back office: providers and brand settings (audited edits), deposits and
webhook records (read-only), withdrawals, and the approval queue whose approve and reject actions
call the services (four eyes, staff trail)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import models

from apps.common.admin import AuditedAdmin, ReadOnlyAdmin
from apps.payments import services
from apps.payments.choices import WithdrawalStatus
from apps.payments.models import (
    BrandPaymentSettings,
    DepositIntent,
    PaymentProvider,
    WebhookEvent,
    Withdrawal,
    WithdrawalAwaitingApproval,
)


class ProviderForm(forms.ModelForm):
    webhook_secret = forms.CharField(widget=forms.PasswordInput(render_value=True), help_text="keys the webhooks' HMAC")

    class Meta:
        model = PaymentProvider
        fields = ("code", "name", "adapter", "webhook_secret", "min_deposit", "max_deposit", "enabled")


@admin.register(PaymentProvider)
class PaymentProviderAdmin(AuditedAdmin):
    form = ProviderForm
    list_display = ("code", "name", "adapter", "min_deposit", "max_deposit", "enabled")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its deposits and withdrawals refer to it: disable it instead


@admin.register(BrandPaymentSettings)
class BrandPaymentSettingsAdmin(AuditedAdmin):
    list_display = ("brand", "auto_approve_up_to")


@admin.register(DepositIntent)
class DepositIntentAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "created_at", "player", "provider", "amount", "credited_amount", "currency", "status",
                    "early_reversal", "reversal_event", "flagged_for_staff", "flag_reason")  # fmt: skip
    list_filter = ("status", "early_reversal", "flagged_for_staff", "provider")
    search_fields = ("public_id", "player__user__username")
    list_select_related = ("player__user", "provider")
    # The scheme a scheme-less address would be read with (the PSP's hosted page is an absolute
    # address, so none is): Django 6's default, which Django 5 warns of until it is named.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_at", "provider", "event_id", "type", "reference", "verdict", "reason")
    list_filter = ("verdict", "type", "provider")
    search_fields = ("event_id", "reference")


class DecisionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to reject")


class _WithdrawalDecisions(ReadOnlyAdmin):
    """Read-only rows; approve and reject are actions that call the services, which record the
    staff action themselves."""

    list_display = ("public_id", "created_at", "player", "provider", "amount", "currency", "status", "risk_flags",
                    "requested_by", "approved_by", "reason", "flagged_for_staff", "flag_reason")  # fmt: skip
    search_fields = ("public_id", "player__user__username")
    list_select_related = ("player__user", "provider", "requested_by", "approved_by")
    action_form = DecisionForm
    actions = ("approve", "reject")
    actions_recorded_by_services = ("approve", "reject")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("payments.approve_withdrawal")

    @admin.action(description="Approve the selected withdrawals", permissions=["approve"])
    def approve(self, request, queryset) -> None:
        self.decide_each(request, queryset, lambda w: services.approve_withdrawal(withdrawal_id=w.pk,
                         acting_user=request.user), label=_public_id)  # fmt: skip

    @admin.action(description="Reject the selected withdrawals (give a reason)", permissions=["approve"])
    def reject(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A rejection needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda w: services.reject_withdrawal(
            withdrawal_id=w.pk, acting_user=request.user, reason=reason), label=_public_id)  # fmt: skip


@admin.register(Withdrawal)
class WithdrawalAdmin(_WithdrawalDecisions):
    list_filter = ("status", "flagged_for_staff", "provider")


@admin.register(WithdrawalAwaitingApproval)
class WithdrawalApprovalQueueAdmin(_WithdrawalDecisions):
    # A queue: the longest-waiting first.
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=WithdrawalStatus.AWAITING_APPROVAL)


def _public_id(withdrawal: Withdrawal) -> str:
    return withdrawal.public_id
