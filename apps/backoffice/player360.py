"""The player 360 page (`/backoffice/players/<player_id>/`): everything the back office knows about
one player on one page, each section read through the owning app's selectors and shown only to
staff whose role may view that app's model, and the live strip of the player's events.

The page only reads, but for two writes, each through a service that records its staff action: a
staff note (accounts' `add_player_note`), and a change of the account's standing with a reason
(compliance's lock, freeze and re-open, for staff who may change players, as the player list's
actions). Sections are listed in SECTIONS with the permission each needs, so what
a role sees of a player is decided in one table (the tests check it role by role).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.accounts import selectors as accounts
from apps.accounts import services as accounts_services
from apps.accounts.models import Player
from apps.bonuses import selectors as bonuses
from apps.common.admin import staff_page
from apps.common.errors import PamError
from apps.common.money import ISO_4217
from apps.compliance import selectors as compliance
from apps.compliance import services as compliance_services
from apps.payments import selectors as payments
from apps.realtime import selectors as realtime
from apps.wallet import selectors as wallet

# Section -> the permission its rows need. The profile, status and KYC status are the page itself
# (accounts.view_player, needed to open it).
SECTIONS: dict[str, str] = {
    "kyc_documents": "accounts.view_kycdocument",
    "limits": "compliance.view_limit",
    "exclusions": "compliance.view_exclusion",
    "balances": "wallet.view_account",
    "transactions": "wallet.view_transaction",
    "deposits": "payments.view_depositintent",
    "withdrawals": "payments.view_withdrawal",
    "bonuses": "bonuses.view_bonus",
    "alerts": "compliance.view_alert",
    "cases": "compliance.view_case",
    "notes": "accounts.view_playernote",
    "logins": "accounts.view_playerlogin",
}
ADD_NOTE = "accounts.add_playernote"
CHANGE_STANDING = "accounts.change_player"
# The standing form's buttons: what each does, through compliance's services.
STANDING_CHANGES = {
    "lock": compliance_services.lock_account_by_staff,
    "freeze": compliance_services.freeze_account_by_staff,
    "reopen": compliance_services.reopen_account,
}


def kyc_documents(player: Player) -> list[dict]:
    """The player's KYC documents for the page's "KYC documents" section, each a link to its
    download (checked by its own view: `accounts.view_kycdocument`) and to the KYC page."""
    return [
        {
            "kind": document.get_kind_display(),
            "name": document.original_name or f"document {document.pk}",
            "uploaded_at": document.uploaded_at,
            "status": document.content_type,
            "url": reverse("admin:player_kyc_document", args=[player.pk, document.pk]),
        }
        for document in accounts.list_kyc_documents(player.pk)
    ]


def _readers(player: Player, cursor: str | None) -> dict:
    """Each section's read, called only for the sections the staff member may see."""
    return {
        "kyc_documents": lambda: kyc_documents(player),
        "limits": lambda: compliance.list_limits(player),
        "exclusions": lambda: compliance.list_player_exclusions(player),
        "balances": lambda: wallet.list_player_balances(player.pk),
        "transactions": lambda: wallet.list_recent_transactions(player.pk, cursor=cursor),
        "deposits": lambda: payments.list_player_deposits(player)[0],
        "withdrawals": lambda: payments.list_withdrawals_for_staff(player)[0],
        "bonuses": lambda: bonuses.list_bonuses(player)[0],
        "alerts": lambda: compliance.list_player_alerts(player.pk),
        "cases": lambda: compliance.list_player_cases(player.pk),
        "notes": lambda: accounts.list_player_notes(player.pk),
        "logins": lambda: accounts.list_player_logins(player.pk),
    }


def visible_sections(user) -> list[str]:
    return [section for section, permission in SECTIONS.items() if user.has_perm(permission)]


@staff_page("accounts.view_player")
def player_360(request, player_id: int):
    try:
        player = accounts.get_player(player_id)
    except Player.DoesNotExist:
        raise Http404("No such player.") from None
    if request.method == "POST":
        if "standing" in request.POST:
            return _change_standing(request, player)
        return _add_note(request, player)
    cursor = request.GET.get("before") or None
    readers = _readers(player, cursor)
    sections = {section: readers[section]() for section in visible_sections(request.user)}
    context = {
        **admin.site.each_context(request),
        "title": f"Player {player.pk}: {player.user.username}",
        "player": player,
        "sections": sections,
        "may_add_note": request.user.has_perm(ADD_NOTE),
        "may_change_standing": request.user.has_perm(CHANGE_STANDING),
        "feed_events": realtime.feed_event_types_for(request.user),
        "exponents": {code: exponent for code, (_, exponent) in ISO_4217.items()},
        "cursor": cursor,
    }
    return TemplateResponse(request, "backoffice/player_360.html", context)


def _add_note(request, player: Player):
    if not request.user.has_perm(ADD_NOTE):
        raise PermissionDenied
    try:
        accounts_services.add_player_note(player_id=player.pk, author=request.user, text=request.POST.get("text", ""))
    except PamError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
    else:
        messages.success(request, "Note added.")
    return HttpResponseRedirect(reverse("admin:player_360", args=[player.pk]) + "#notes")


def _change_standing(request, player: Player):
    if not request.user.has_perm(CHANGE_STANDING):
        raise PermissionDenied
    change = STANDING_CHANGES.get(request.POST["standing"])
    if change is None:
        messages.error(request, "Unknown change of standing.")
    else:
        try:
            change(player=player, acting_user=request.user, reason=request.POST.get("reason", ""))
        except PamError as exc:
            messages.error(request, f"{exc.message} ({exc.code})")
        else:
            messages.success(request, f"Account {player.pk}: {request.POST['standing']} done.")
    return HttpResponseRedirect(reverse("admin:player_360", args=[player.pk]))
