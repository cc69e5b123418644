"""The back office's sportsbook: feeds, events, markets and prices, read-only (the feed writes
them; `create_feed` sets a feed up). A market's margin (overround) is shown beside its prices, and
each price in the three odds formats. The circuit breakers are switched through requests that a
second staff member approves (breakers.py); a market the liability throttle suspended is resumed
here by a staff member with a reason. The players' bets, read-only. The exposure per target
with its own cap, and the players' stake factors, set through the services with a reason (staff
actions `sportsbook.exposure_cap`, `sportsbook.stake_factor`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Case, Prefetch, When
from django.utils.html import format_html_join

from apps.common.admin import ReadOnlyAdmin, ReadOnlyInline, ThroughServiceAdmin
from apps.sportsbook import breakers, odds, selectors, services
from apps.sportsbook.choices import BreakerRequestStatus
from apps.sportsbook.models import (
    Bet,
    BetSettlement,
    Breaker,
    BreakerRequest,
    Event,
    Exposure,
    Feed,
    Market,
    Selection,
    StakeFactor,
)


@admin.register(Feed)
class FeedAdmin(ReadOnlyAdmin):
    list_display = ("code", "last_seq", "last_message_at", "created_at")
    search_fields = ("code",)
    # The secret keys every signature: set with `create_feed`, never shown.
    fields = ("code", "last_seq", "last_message_at", "created_at")


class MarketInline(ReadOnlyInline):
    model = Market
    fields = ("market_id", "name", "status", "version", "suspended_version", "last_word_at")
    show_change_link = True


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("name", "event_id", "sport", "starts_at", "status", "in_play_delay_s", "feed")
    list_filter = ("status", "sport", "feed")
    search_fields = ("name", "event_id")
    date_hierarchy = "starts_at"
    inlines = [MarketInline]


class PriceFormats:
    """The columns of a price in the fractional and American formats."""

    @admin.display(description="fractional")
    def fractional(self, selection: Selection) -> str:
        return odds.fractional_string(selection.price)

    @admin.display(description="American")
    def american(self, selection: Selection) -> str:
        return odds.american_string(selection.price)


class SelectionInline(PriceFormats, ReadOnlyInline):
    model = Selection
    fields = ("selection_id", "name", "price", "fractional", "american")


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to resume a market")


@admin.register(Market)
class MarketAdmin(ReadOnlyAdmin):
    """Read-only, but for one action: a market the liability throttle suspended is resumed by a
    staff member holding `sportsbook.resume_throttled_market`, with a reason
    (`services.resume_throttled_market`, which records the staff action)."""

    list_display = ("name", "market_id", "event", "status", "version", "suspended_version", "throttle_suspended",
                    "margin", "last_word_at")  # fmt: skip
    list_filter = ("status", "throttle_suspended", "feed")
    search_fields = ("name", "market_id", "event__name")
    list_select_related = ("event",)
    inlines = [SelectionInline]
    readonly_fields = ("margin",)
    action_form = ReasonActionForm
    actions = ("resume_throttled",)
    actions_recorded_by_services = ("resume_throttled",)

    def has_resume_throttled_permission(self, request) -> bool:
        return request.user.has_perm("sportsbook.resume_throttled_market")

    @admin.action(
        description="Resume the selected markets the liability throttle suspended (give a reason)",
        permissions=["resume_throttled"],
    )
    def resume_throttled(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Resuming a market needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda row: services.resume_throttled_market(
            market_pk=row.pk, reason=reason, acting_user=request.user), label=str)  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("selections")

    @admin.display(description="margin")
    def margin(self, market: Market) -> str:
        """The overround of its prices, sum(1/price) - 1, in per cent."""
        margin = selectors.market_margin(market)
        return "-" if margin is None else odds.as_percent(margin)


@admin.register(Selection)
class SelectionAdmin(PriceFormats, ReadOnlyAdmin):
    list_display = ("name", "selection_id", "market", "price", "fractional", "american")
    search_fields = ("name", "selection_id", "market__name")
    list_select_related = ("market__event",)


# --- circuit breakers ---------------------------------------------------------------------------------


@admin.register(Breaker)
class BreakerAdmin(ReadOnlyAdmin):
    """The three breakers with their state, their last change and the request awaiting a decision.
    Turning one on or off is a request (the Breaker requests page's add form, with a reason) that another staff
    member approves there."""

    list_display = ("name", "state", "changed_at", "changed_by_or_system", "reason", "pending")
    fields = ("name", "is_on", "changed_at", "changed_by", "reason", "request")

    def get_queryset(self, request):
        pending = BreakerRequest.objects.filter(status=BreakerRequestStatus.PENDING).select_related("requested_by")
        return (
            super()
            .get_queryset(request)
            .select_related("changed_by")
            .prefetch_related(Prefetch("requests", queryset=pending, to_attr="pending_requests"))
        )

    @admin.display(description="state")
    def state(self, breaker: Breaker) -> str:
        return "ON" if breaker.is_on else "off"

    @admin.display(description="changed by")
    def changed_by_or_system(self, breaker: Breaker) -> str:
        if breaker.changed_at is None:
            return "-"
        return breaker.changed_by.get_username() if breaker.changed_by_id else "the system (automatic trigger)"

    @admin.display(description="awaiting a decision")
    def pending(self, breaker: Breaker) -> str:
        waiting = getattr(breaker, "pending_requests", [])
        if not waiting:
            return "-"
        request = waiting[0]
        return f"{'on' if request.turn_on else 'off'}, asked by {request.requested_by.get_username()}"


class BreakerRequestForm(forms.ModelForm):
    class Meta:
        model = BreakerRequest
        fields = ("breaker", "turn_on", "reason")
        labels = {"turn_on": "turn it on (unticked: off)"}


class BreakerActionForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to reject")


@admin.register(BreakerRequest)
class BreakerRequestAdmin(ThroughServiceAdmin):
    """A request is added through `breakers.request_change` (the form's reason is the request's);
    approve and reject are actions that call the services, which check the four eyes under the
    request's lock and record the staff action themselves. Requests are never edited or deleted."""

    form = BreakerRequestForm
    list_display = ("id", "breaker", "turn_on", "reason", "status", "requested_by", "requested_at", "decided_by",
                    "decided_at", "decision_reason")  # fmt: skip
    list_filter = ("status", "breaker")
    list_select_related = ("requested_by", "decided_by")
    action_form = BreakerActionForm
    actions = ("approve", "reject")
    actions_recorded_by_services = ("approve", "reject")

    def get_ordering(self, request):
        # What awaits a decision first, then the newest.
        return (Case(When(status=BreakerRequestStatus.PENDING, then=0), default=1), "-requested_at", "-id")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def call_service(self, request, obj, data, formsets):
        return breakers.request_change(
            breaker=data["breaker"].name, turn_on=data["turn_on"], reason=data["reason"], acting_user=request.user
        )

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("sportsbook.approve_breakerrequest")

    @admin.action(description="Approve the selected requests (switches the breaker)", permissions=["approve"])
    def approve(self, request, queryset) -> None:
        self.decide_each(request, queryset, lambda row: breakers.approve_change(request_id=row.pk,
                         acting_user=request.user), label=_request_label)  # fmt: skip

    @admin.action(description="Reject the selected requests (give a reason)", permissions=["approve"])
    def reject(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A rejection needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda row: breakers.reject_change(
            request_id=row.pk, acting_user=request.user, reason=reason), label=_request_label)  # fmt: skip


def _request_label(row: BreakerRequest) -> str:
    return f"request {row.pk} ({row.breaker_id} {'on' if row.turn_on else 'off'})"


# --- bets, exposure and stake factors ----------------------------------------------------------


class BetSettlementInline(ReadOnlyInline):
    """Each settlement of the bet, in order: what it paid, the difference it moved and by which
    ledger transaction, and the legs' results it was computed from."""

    model = BetSettlement
    fields = ("n", "status", "payout", "difference", "transaction", "legs_results", "market_settled_at", "settled_at")
    ordering = ("n",)

    @admin.display(description="legs' results")
    def legs_results(self, row: BetSettlement) -> str:
        return format_html_join(
            "", "<p>{} {}: {}</p>",
            ((leg["market_id"], leg["selection_id"],
              f"won (dead heat of {leg['winners']})" if leg.get("winners", 1) > 1 else leg["result"])
             for leg in row.outcome),
        )  # fmt: skip


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "player", "status", "stake", "potential_payout", "payout", "currency", "placed_at",
                    "settled_at", "reject_reason")  # fmt: skip
    list_filter = ("status", "reject_reason")
    search_fields = ("public_id", "player__user__username")
    list_select_related = ("player__user",)
    fields = (
        "public_id", "player", "status", "reject_reason", "stake", "potential_payout", "payout", "currency",
        "accept_price_changes", "legs_taken", "stake_transaction", "placed_at", "release_at", "decided_at",
        "settled_at", "settlement_count", "outcome_at",
    )  # fmt: skip
    readonly_fields = ("legs_taken",)
    inlines = (BetSettlementInline,)

    @admin.display(description="legs")
    def legs_taken(self, bet: Bet) -> str:
        """Each leg: the selection, the price taken (and the one the slip named), the version seen."""
        legs = bet.legs.select_related("selection__market__event").order_by("position")
        return format_html_join(
            "", "<p>{}: {} @ {} (slip {}, version {})</p>",
            ((leg.selection.market.event.name, leg.selection.name, leg.price, leg.seen_price, leg.market_version)
             for leg in legs),
        )  # fmt: skip


class ExposureForm(forms.ModelForm):
    reason = forms.CharField(widget=forms.Textarea, help_text="kept in the staff trail with the change")

    class Meta:
        model = Exposure
        fields = ("scope", "target_id", "currency", "cap")


@admin.register(Exposure)
class ExposureAdmin(ThroughServiceAdmin):
    """What the standing bets on each target would cost the book; a target's own cap (minor units;
    empty: the settings' default for its scope) is set here, through `services.set_exposure_cap`."""

    form = ExposureForm
    list_display = ("scope", "target_id", "currency", "amount", "cap")
    list_filter = ("scope", "currency")
    search_fields = ("target_id",)

    def get_readonly_fields(self, request, obj=None):
        return ("scope", "target_id", "currency", "amount") if obj else ("amount",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def call_service(self, request, obj, data, formsets):
        return services.set_exposure_cap(
            scope=obj.scope, target_id=obj.target_id, currency=obj.currency_id, cap=data["cap"],
            reason=data["reason"], acting_user=request.user,
        )  # fmt: skip


@admin.register(StakeFactor)
class StakeFactorAdmin(ThroughServiceAdmin):
    """A player's stake factor: the per-bet liability times it (1.00 for a player without one),
    set through `services.set_stake_factor` with its reason."""

    list_display = ("player", "factor", "updated_at")
    search_fields = ("player__user__username",)
    raw_id_fields = ("player",)
    fields = ("player", "factor", "reason")

    def get_readonly_fields(self, request, obj=None):
        return ("player",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def call_service(self, request, obj, data, formsets):
        return services.set_stake_factor(
            player=obj.player, factor=data["factor"], reason=data["reason"], acting_user=request.user
        )
