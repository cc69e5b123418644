"""The back office's sportsbook: feeds, events, markets and prices, read-only (the feed writes
them; `create_feed` sets a feed up). A market's margin (overround) is shown beside its prices, and
each price in the three odds formats."""

from __future__ import annotations

from django.contrib import admin

from apps.common.admin import ReadOnlyAdmin, ReadOnlyInline
from apps.sportsbook import odds, selectors
from apps.sportsbook.models import Event, Feed, Market, Selection


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


@admin.register(Market)
class MarketAdmin(ReadOnlyAdmin):
    list_display = ("name", "market_id", "event", "status", "version", "suspended_version", "margin", "last_word_at")
    list_filter = ("status", "feed")
    search_fields = ("name", "market_id", "event__name")
    list_select_related = ("event",)
    inlines = [SelectionInline]
    readonly_fields = ("margin",)

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
