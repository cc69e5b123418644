from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import router, transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import Brand, Currency, Player, PlayerLogin, StaffLogin, User
from apps.accounts.signals import player_standing_changed
from apps.common.admin import AuditedAdmin, ReadOnlyAdmin, StaffAuditMixin, staff_page


@admin.register(User)
class PamUserAdmin(StaffAuditMixin, UserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "last_login")

    # Django's own page checks the same; the declaration puts it in the permission matrix.
    @staff_page("change")
    def user_change_password(self, request, id, form_url=""):
        # Django saves the new password outside a transaction; its staff-action record must
        # commit with it.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().user_change_password(request, id, form_url)


@admin.register(Brand)
class BrandAdmin(AuditedAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")


@admin.register(Currency)
class CurrencyAdmin(AuditedAdmin):
    list_display = ("code", "name", "exponent", "is_active", "units_per_eur")
    list_filter = ("is_active", "exponent")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # money rows point at currencies forever


class PlayerForm(forms.ModelForm):
    """The player's standing (status, KYC) changes only with a reason, which the staff-action
    trail records beside the old and new value."""

    STANDING = ("status", "kyc_status")
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="required to change the status or KYC"
    )

    class Meta:
        model = Player
        fields = ("email", "country", "date_of_birth", "status", "kyc_status")

    def clean(self):
        cleaned = super().clean()
        if set(self.STANDING) & set(self.changed_data) and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Say why the player's status or KYC changes.")
        return cleaned


@admin.register(Player)
class PlayerAdmin(AuditedAdmin):
    form = PlayerForm
    list_display = ("id", "username", "email", "brand", "country", "currency", "status", "kyc_status", "created_at")
    list_filter = ("brand", "status", "kyc_status", "currency", "country")
    search_fields = ("=id", "user__username", "email")
    list_select_related = ("user", "brand", "currency")
    readonly_fields = ("user", "brand", "currency", "created_at", "updated_at")
    fields = (
        "user",
        "brand",
        "email",
        "country",
        "currency",
        "date_of_birth",
        "status",
        "kyc_status",
        "reason",
        "created_at",
        "updated_at",
    )

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic(using=router.db_for_write(self.model)):
            super().save_model(request, obj, form, change)
            changed = frozenset(PlayerForm.STANDING) & frozenset(form.changed_data)
            if changed:
                # In the transaction: what other apps keep in step with the standing (compliance's
                # checks) commits with it, or the change does not.
                player_standing_changed.send(sender=Player, player_id=obj.pk, changed=changed)

    @admin.display(ordering="user__username")
    def username(self, player: Player) -> str:
        return player.user.username

    def has_add_permission(self, request) -> bool:
        return False  # players register; the sandbox has `create_player`

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlayerLogin)
class PlayerLoginAdmin(ReadOnlyAdmin):
    """Login history, read-only: the device is shown only as its keyed hash."""

    list_display = ("at", "player", "address", "device_hash", "user_agent")
    search_fields = ("=player__id", "player__user__username", "=address", "=device_hash")
    list_select_related = ("player__user",)
    date_hierarchy = "at"


@admin.register(StaffLogin)
class StaffLoginAdmin(ReadOnlyAdmin):
    """Every back-office sign-in, failure, throttle refusal and sign-out, read-only."""

    list_display = ("at", "username", "outcome", "address", "user", "user_agent")
    list_filter = ("outcome",)
    search_fields = ("username", "=address")
    list_select_related = ("user",)
    date_hierarchy = "at"
    show_full_result_count = False


class StaffDeviceAdmin(ReadOnlyAdmin):
    """Who has enrolled a one-time-code device, read-only and without its secret (the
    authenticator's key, the recovery codes): enrolment and replacement go through
    `manage.py enrol_staff_otp` (docs/backoffice.md). Registered before django-otp's own admins,
    which show the key and a QR code of it, and which then find the models taken."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")


admin.site.register(TOTPDevice, StaffDeviceAdmin)
admin.site.register(StaticDevice, StaffDeviceAdmin)
