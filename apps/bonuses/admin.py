"""The back office's bonuses: campaigns edited through `services.save_campaign` (validation, and
one `bonus.campaign_save` staff action with the form's reason, weights included); opt-ins and
bonuses read-only (grants and their progress are the money path's, never typed in here), but for
the bonuses' cancellation by staff through `services.cancel_bonus`, with a reason. The campaigns'
cost report (`selectors.campaign_costs`, from the ledger) is a page linked from the campaign
list, and its CSV."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from apps.bonuses import selectors, services
from apps.bonuses.models import Bonus, Campaign, GameWeight, OptIn
from apps.common.admin import ReadOnlyAdmin, ThroughServiceAdmin, staff_page
from apps.common.money import ISO_4217, format_minor


class CampaignForm(forms.ModelForm):
    reason = forms.CharField(widget=forms.Textarea, help_text="kept in the staff trail with the change")

    class Meta:
        model = Campaign
        fields = ("code", *services.CAMPAIGN_FIELDS)


class GameWeightInline(admin.TabularInline):
    model = GameWeight
    fields = ("game_type", "game_code", "percent")
    extra = 1


@admin.register(Campaign)
class CampaignAdmin(ThroughServiceAdmin):
    """A save here (the campaign and its game weights at once) is `services.save_campaign` by the
    staff user; a refusal is shown on the form's page and nothing is written. The code of a saved
    campaign is fixed; campaigns are never deleted (disable them: bonuses point at them)."""

    form = CampaignForm
    inlines = [GameWeightInline]
    list_display = ("code", "name", "kind", "trigger", "enabled", "brand", "currency", "requires_opt_in",
                    "starts_at", "ends_at", "updated_at")  # fmt: skip
    list_filter = ("enabled", "kind", "trigger")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "updated_at") if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        cost = self.admin_site.admin_view(self.cost_view)
        cost_csv = self.admin_site.admin_view(self.cost_csv_view)
        return [
            path("cost/", cost, name="bonuses_campaign_cost"),
            path("cost.csv", cost_csv, name="bonuses_campaign_cost_csv"),
            *super().get_urls(),
        ]

    @staff_page("view")
    def cost_view(self, request):
        """The cost report, read-only: each campaign's sums in minor units and as amounts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [
            {"cost": cost, "amounts": [format_minor(getattr(cost, column), _exponent(cost.currency))
                                       for column, _ in selectors.COST_COLUMNS]}
            for cost in selectors.campaign_costs()
        ]  # fmt: skip
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Bonus cost by campaign",
            "rows": rows, "columns": [column for column, _ in selectors.COST_COLUMNS],
        }  # fmt: skip
        return TemplateResponse(request, "admin/bonuses/campaign_cost.html", context)

    @staff_page("view")
    def cost_csv_view(self, request):
        """The same report as CSV, in minor units."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        writer = csv.writer(_Echo())
        lines = (
            writer.writerow(row) for row in [selectors.COST_HEADER, *(c.as_row() for c in selectors.campaign_costs())]
        )
        response = StreamingHttpResponse(lines, content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="bonus-cost.csv"'
        return response

    def call_service(self, request, obj, data, formsets):
        weights = [
            services.Weight(game_type=row["game_type"], game_code=row["game_code"], percent=row["percent"])
            for formset in formsets for row in formset.cleaned_data
            if row and not row.get("DELETE")
        ]  # fmt: skip
        return services.save_campaign(
            code=obj.code, acting_user=request.user, reason=data["reason"], weights=weights,
            **{name: data[name] for name in services.CAMPAIGN_FIELDS},
        )  # fmt: skip


@admin.register(OptIn)
class OptInAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "player", "campaign")
    search_fields = ("=player__id", "player__user__username", "campaign__code")
    list_select_related = ("player__user", "campaign")


class CancelForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to cancel a bonus: kept in the staff trail")


@admin.register(Bonus)
class BonusAdmin(ReadOnlyAdmin):
    """Read-only, with one action: cancel the selected active bonuses (their money back to the
    pool, a `bonus.cancel` staff action each, recorded by the service), for staff who may change
    campaigns."""

    action_form = CancelForm
    actions = ("cancel_bonuses",)
    actions_recorded_by_services = ("cancel_bonuses",)

    def has_cancel_bonus_permission(self, request) -> bool:
        return request.user.has_perm("bonuses.change_campaign")

    @admin.action(description="Cancel the selected bonuses (give a reason)", permissions=["cancel_bonus"])
    def cancel_bonuses(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A cancellation needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda bonus: services.cancel_bonus(
            bonus, acting_user=request.user, reason=reason), label=str)  # fmt: skip

    list_display = ("public_id", "player", "campaign", "status", "amount", "remaining", "wagering_required",
                    "wagering_done", "currency", "granted_at", "expires_at", "ended_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("=public_id", "=player__id", "player__user__username", "campaign__code")
    list_select_related = ("player__user", "campaign")


def _exponent(currency: str) -> int:
    """The currency's minor-unit exponent (ISO 4217, the Currency table's seed)."""
    return ISO_4217.get(currency, ("", 2))[1]


class _Echo:
    """A file-like object whose write returns what it is given: csv.writer then yields each row's text."""

    def write(self, value: str) -> str:
        return value
