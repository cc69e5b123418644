"""The login forms of the site and the back office, with the throttle's refusal as their error."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm


class ThrottleAwareLoginForm:
    """A refused attempt (ThrottledModelBackend) says when to try again instead of "wrong
    password", which was never checked."""

    def get_invalid_login_error(self):
        refusal = getattr(self.request, "login_refusal", None)
        if refusal is None:
            return super().get_invalid_login_error()
        return forms.ValidationError(refusal.message, code="too_many_attempts")


class SiteLoginForm(ThrottleAwareLoginForm, AuthenticationForm):
    pass


class StaffLoginForm(ThrottleAwareLoginForm, AdminAuthenticationForm):
    pass
