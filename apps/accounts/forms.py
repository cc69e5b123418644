"""The login forms of the site and the back office, with the throttle's refusal as their error;
the back office's also asks for the one-time code (docs/backoffice.md)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts import errors, selectors, services
from apps.accounts.choices import StaffLoginOutcome
from apps.accounts.receivers import STAFF_LOGIN_ATTEMPT


class ThrottleAwareLoginForm:
    """A refused attempt (ThrottledModelBackend) says when to try again instead of "wrong
    password", which was never checked."""

    def get_invalid_login_error(self):
        refusal = getattr(self.request, "login_refusal", None)
        if refusal is None:
            return super().get_invalid_login_error()
        return forms.ValidationError(refusal.message, code="too_many_attempts")


class SiteLoginForm(ThrottleAwareLoginForm, AuthenticationForm):
    """The site's login. A staff member who must give a one-time code is sent to the back
    office's sign-in: the site's session is the back office's too, and this form asks no code."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_staff and selectors.staff_must_give_code(user):
            services.record_staff_login(request=self.request, outcome=StaffLoginOutcome.BAD_OTP,
                                        username=user.get_username(), user=user)  # fmt: skip
            raise forms.ValidationError(
                "Staff members with two-factor sign-in sign in at the back office, with their one-time code.",
                code="staff_sign_in_elsewhere",
            )


class StaffLoginForm(ThrottleAwareLoginForm, AdminAuthenticationForm):
    """The back office's sign-in: username, password and, from staff who must give one
    (`selectors.staff_must_give_code`: always when STAFF_2FA_REQUIRED, otherwise whoever has a
    confirmed device), a one-time code of their authenticator or one of their recovery codes. The
    password is checked first, behind the login throttle; the code only after a right password, so
    a wrong code never says whether the password was right to someone who does not know it. Every
    outcome is a `StaffLogin` (failures of the password through `user_login_failed`, see
    receivers.py; the others here)."""

    otp_token = forms.CharField(
        label="One-time code",
        required=False,
        strip=True,
        max_length=32,
        help_text="From your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean(self):
        if self.request is not None:
            setattr(self.request, STAFF_LOGIN_ATTEMPT, True)
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and selectors.staff_must_give_code(user):
            self._check_second_factor(user, cleaned.get("otp_token", ""))
        return cleaned

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
        except forms.ValidationError:
            self._record(StaffLoginOutcome.NOT_STAFF, user)
            raise

    def _check_second_factor(self, user, token: str) -> None:
        if not selectors.staff_has_device(user):
            self._record(StaffLoginOutcome.NO_DEVICE, user)
            raise forms.ValidationError(errors.OtpNotEnrolled.default_message, code="otp_not_enrolled")
        try:
            # Django's login() puts the device in the session (django_otp's user_logged_in receiver).
            user.otp_device = services.check_staff_otp(user=user, token=token)
        except errors.OtpRequired as refusal:
            self._record(StaffLoginOutcome.BAD_OTP, user)
            raise forms.ValidationError(
                {"otp_token": forms.ValidationError(refusal.message, code="otp_required")}
            ) from None
        except (errors.OtpInvalid, errors.OtpThrottled) as refusal:
            self._record(StaffLoginOutcome.BAD_OTP, user)
            code = "otp_throttled" if isinstance(refusal, errors.OtpThrottled) else "otp_invalid"
            raise forms.ValidationError({"otp_token": forms.ValidationError(refusal.message, code=code)}) from None

    def _record(self, outcome: StaffLoginOutcome, user) -> None:
        services.record_staff_login(request=self.request, outcome=outcome, username=user.get_username(), user=user)
