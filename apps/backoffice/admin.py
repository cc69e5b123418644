import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html

from apps.accounts.models import Player
from apps.bonuses import services as bonuses
from apps.common.admin import audited
from apps.compliance import services as compliance

# The third-party admin records staff actions too: a group's permissions are staff privileges.
# This app is installed last, so it is registered.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
    admin.site.register(Group, audited(GroupAdmin))


class StandingForm(ActionForm):
    reason = forms.CharField(required=False, help_text="required to lock, freeze, re-open or grant a bonus")
    campaign = forms.CharField(required=False, help_text="to grant a bonus: a staff-grant campaign's code")
    # One id per rendered form: submitting the same form twice grants each player once.
    grant_id = forms.CharField(required=False, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)


class AccountStandingActions:
    """The player list's actions that lock, freeze or re-open accounts after a review, through
    compliance's services (each records its own staff action, with the reason the form asks for).
    For staff who may change players (the `compliance` and `admin` roles)."""

    action_form = StandingForm
    actions = ("lock_accounts", "freeze_accounts", "reopen_accounts")
    actions_recorded_by_services = ("lock_accounts", "freeze_accounts", "reopen_accounts")

    def has_review_account_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_player")

    @admin.action(description="Lock the selected accounts (give a reason)", permissions=["review_account"])
    def lock_accounts(self, request, queryset) -> None:
        self._decide(request, queryset, compliance.lock_account_by_staff)

    @admin.action(description="Freeze the selected accounts (give a reason)", permissions=["review_account"])
    def freeze_accounts(self, request, queryset) -> None:
        self._decide(request, queryset, compliance.freeze_account_by_staff)

    @admin.action(description="Re-open the selected accounts after review (give a reason)",
                  permissions=["review_account"])  # fmt: skip
    def reopen_accounts(self, request, queryset) -> None:
        self._decide(request, queryset, compliance.reopen_account)

    def _decide(self, request, queryset, change) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A change of an account's standing needs a reason.", messages.ERROR)
            return
        self.decide_each(request, queryset, lambda player: change(player=player, acting_user=request.user,
                         reason=reason), label=str)  # fmt: skip


class BonusGrantAction:
    """The player list's staff grant of a `staff_grant` campaign, through bonuses' service (which
    records the `bonus.grant` staff action with the form's reason). For staff who may change
    campaigns (the `admin` role)."""

    actions = ("grant_bonus",)
    actions_recorded_by_services = ("grant_bonus",)

    def has_grant_bonus_permission(self, request) -> bool:
        return request.user.has_perm("bonuses.change_campaign")

    @admin.action(description="Grant a staff bonus to the selected players (campaign code, reason)",
                  permissions=["grant_bonus"])  # fmt: skip
    def grant_bonus(self, request, queryset) -> None:
        reason = request.POST.get("reason", "").strip()
        code = request.POST.get("campaign", "").strip()
        if not reason or not code:
            self.message_user(request, "A staff bonus needs a campaign code and a reason.", messages.ERROR)
            return
        grant_id = request.POST.get("grant_id") or uuid.uuid4().hex
        self.decide_each(request, queryset, lambda player: bonuses.staff_grant(
            player, code, acting_user=request.user, reason=reason, grant_id=grant_id), label=str)  # fmt: skip


class Player360Link:
    """A link to the player 360 page (player360.py) in the player list and on the change page."""

    @admin.display(description="360")
    def player_360(self, player: Player) -> str:
        if player.pk is None:
            return ""
        return format_html('<a href="{}">Player 360</a>', reverse("admin:player_360", args=[player.pk]))


# Accounts registers the player's admin and may not call compliance (docs/architecture.md): the
# back office, which calls every app's services and is installed last, adds the actions to it.
if admin.site.is_registered(Player):
    _player_admin = type(admin.site.get_model_admin(Player))
    admin.site.unregister(Player)
    admin.site.register(
        Player,
        type(
            f"Standing{_player_admin.__name__}",
            (AccountStandingActions, BonusGrantAction, Player360Link, _player_admin),
            {
                "__module__": __name__,
                "list_display": (*_player_admin.list_display, "player_360"),
                "readonly_fields": (*_player_admin.readonly_fields, "player_360"),
                "fields": ("player_360", *_player_admin.fields),
                "actions": AccountStandingActions.actions + BonusGrantAction.actions,
                "actions_recorded_by_services": (
                    AccountStandingActions.actions_recorded_by_services + BonusGrantAction.actions_recorded_by_services
                ),
            },
        ),
    )
