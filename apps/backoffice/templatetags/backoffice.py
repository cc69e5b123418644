"""Template filters of the back office's own pages."""

from django import template

from apps.common.money import ISO_4217, format_minor

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Minor units shown with the currency's exponent: `{{ 1250|money:"EUR" }}` is "12.50 EUR"."""
    if amount is None:
        return "—"
    exponent = ISO_4217.get(currency, ("", 2))[1]
    return f"{format_minor(amount, exponent)} {currency}"
