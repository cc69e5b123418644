"""The sandbox PSP's hosted payment page (`/sandbox-psp/`): what a real PSP's checkout page
does, served by PAM itself. A card form with the test cards (adapters/sandbox.py); on submit the
payment's webhook is handed to the delivery worker and the player is sent back to the site."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.common.money import format_minor
from apps.payments import selectors
from apps.payments.adapters import adapter_for
from apps.payments.adapters.sandbox import TEST_CARDS, SandboxAdapter, return_url
from apps.payments.choices import DepositStatus


class CardForm(forms.Form):
    card_number = forms.CharField(max_length=23)
    expiry = forms.CharField(max_length=7, required=False)
    cvc = forms.CharField(max_length=4, required=False)

    def clean_card_number(self) -> str:
        digits = "".join(self.cleaned_data["card_number"].split())
        if digits not in TEST_CARDS:
            raise forms.ValidationError("Use one of the sandbox's test cards.")
        return digits


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, deposit_id: str) -> HttpResponse:
    if not settings.PSP_SANDBOX_ENABLED:
        raise Http404("The sandbox PSP is off.")
    intent = selectors.get_deposit(deposit_id)
    adapter = adapter_for(intent.provider) if intent is not None else None
    if not isinstance(adapter, SandboxAdapter):
        raise Http404("No such payment.")
    form = CardForm(request.POST or None)
    amount = format_minor(intent.amount, intent.currency.exponent)
    if intent.status != DepositStatus.PENDING:
        context = {"intent": intent, "amount": amount, "done": True}
        return render(request, "payments/sandbox_checkout.html", context, status=409)
    if request.method == "POST" and form.is_valid():
        adapter.pay_with_card(intent, form.cleaned_data["card_number"], base_url=request.build_absolute_uri("/"))
        return redirect(return_url(intent.public_id))
    cards = [(" ".join(number[i : i + 4] for i in range(0, 16, 4)), what) for number, what in TEST_CARDS.items()]
    context = {"intent": intent, "amount": amount, "form": form, "cards": cards}
    return render(request, "payments/sandbox_checkout.html", context)
