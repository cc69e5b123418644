"""The site's login and logout pages (the player's page itself is the real-time app's)."""

from django.contrib.auth import views as auth_views

from apps.accounts.forms import SiteLoginForm


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
