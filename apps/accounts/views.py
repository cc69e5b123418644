"""The site's account pages: login and logout, registration (`/register/`) and the player's
account (`/account/`: profile, KYC status, change of password). The wallet pages are the
real-time app's, the responsible-gambling page compliance's. Thin: parse, call, render."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts import errors, selectors, services, signup
from apps.accounts.forms import SiteLoginForm
from apps.accounts.registration_throttle import RegistrationThrottle
from apps.common.errors import PamError
from apps.common.money import parse_minor


class SiteLoginView(auth_views.LoginView):
    """The site's login form. Django's AuthenticationForm passes the request to authenticate(),
    so the login throttle sees the client's address; a refused attempt re-renders the form with
    when to try again, answered 429 with Retry-After (LoginThrottleMiddleware)."""

    template_name = "accounts/login.html"
    authentication_form = SiteLoginForm
    next_page = "site-home"
    redirect_authenticated_user = True


class SiteLogoutView(auth_views.LogoutView):
    """POST only (Django 5), with the CSRF token of the page's logout form."""

    next_page = "site-login"


DEFAULT_CURRENCY = "EUR"  # selected first in the sign-up form
# The fields of the form, in order, with what the registration serializer calls them.
_NOT_SHOWN_AGAIN = ("password", "csrfmiddlewaretoken")
_REGISTRATION_FIELDS = ("username", "email", "password", "date_of_birth", "country", "currency")


def _registration_input(post, brand: str, exponent: int | None) -> tuple[dict, dict[str, str]]:
    """The serializer's input from the posted form, and the errors of the deposit-limit fields
    (an amount typed in the currency's major units)."""
    data = {name: post.get(name, "").strip() if name != "password" else post.get(name, "")
            for name in _REGISTRATION_FIELDS}  # fmt: skip
    data["country"] = data["country"].upper()
    data["brand"] = brand
    field_errors: dict[str, str] = {}
    amount_text = post.get("deposit_limit_amount", "").strip()
    if amount_text:
        try:
            amount = parse_minor(amount_text, 2 if exponent is None else exponent)
        except ValueError:
            field_errors["deposit_limit_amount"] = "Enter an amount such as 250 or 250.00."
        else:
            data["deposit_limits"] = [{"period": post.get("deposit_limit_period", ""), "amount": amount}]
    return data, field_errors


@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    """Sign-up for the site's brand (`SITE_BRAND`, or `?brand=`): where the brand's jurisdiction
    asks for it, the form offers a deposit limit, set with the account in one transaction
    (`signup.register`). A registered player is logged in and sent to the wallet."""
    if request.user.is_authenticated:
        return redirect("site-home")
    brand = request.GET.get("brand") or settings.SITE_BRAND
    try:
        options = signup.registration_options(brand)
    except errors.UnknownBrand:
        return render(request, "accounts/register.html", {"unknown_brand": brand}, status=404)
    currencies = selectors.list_active_currencies()
    context = {"options": options, "currencies": currencies, "values": {"currency": DEFAULT_CURRENCY}, "errors": {},
               "message": ""}  # fmt: skip
    if request.method == "GET":
        return render(request, "accounts/register.html", context)

    throttle = RegistrationThrottle()
    if not throttle.allow_request(request, None):
        wait = math.ceil(throttle.wait() or 1)
        minutes = math.ceil(wait / 60)
        context["message"] = f"Too many accounts were registered from your address. Try again in {minutes} minutes."
        context["code"] = "TOO_MANY_REQUESTS"
        response = render(request, "accounts/register.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    currency = next((c for c in currencies if c.code == request.POST.get("currency")), None)
    data, field_errors = _registration_input(request.POST, brand, currency.exponent if currency else None)
    context["values"] = {
        key: value for key, value in request.POST.items() if key not in ("password", "csrfmiddlewaretoken")
    }
    serializer = signup.RegistrationSerializer(data=data)
    if not serializer.is_valid() or field_errors:
        for name, problems in serializer.errors.items():
            field_errors.setdefault("deposit_limit_amount" if name == "deposit_limits" else name, _first(problems))
        context["errors"] = field_errors
        return render(request, "accounts/register.html", context, status=400)
    try:
        player = signup.register(serializer.validated_data)
    except PamError as refusal:
        context["message"] = refusal.message
        context["code"] = refusal.code
        return render(request, "accounts/register.html", context, status=refusal.status)
    login(request, player.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect("site-home")


def _first(problems) -> str:
    """The first message of a DRF error list (or of a nested one, for the deposit limits)."""
    while isinstance(problems, list | dict):
        problems = next(iter(problems.values())) if isinstance(problems, dict) else (problems or [""])[0]
    return str(problems)


@login_required(login_url="site-login")
@require_http_methods(["GET", "POST"])
def account_view(request: HttpRequest) -> HttpResponse:
    """The player's profile and KYC status, and the change of password (POST): the current
    password is checked, every bearer token revoked, and this session kept logged in (the
    player's other sessions end)."""
    player = selectors.get_player_for_request(request)
    if player is None:
        return render(request, "site/not_a_player.html")
    context = {"player": player, "message": "", "changed": False}
    status = 200
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("new_password_again", ""):
            context["message"], status = "The two new passwords differ.", 400
        else:
            try:
                services.change_password(
                    user=player.user, current_password=request.POST.get("current_password", ""),
                    new_password=new_password,
                )  # fmt: skip
            except (errors.InvalidCredentials, errors.WeakPassword) as refusal:
                context["message"], status = refusal.message, 400
            else:
                update_session_auth_hash(request, player.user)
                context["changed"] = True
    return render(request, "accounts/account.html", context, status=status)
