"""What each staff role may do in the back office.

The groups themselves are created by a data migration; their permissions are (re)assigned after
every `migrate`, because permissions only exist once all apps have migrated. Later apps add
their own models' permissions here.
"""

from django.contrib.auth.models import Group, Permission

from apps.accounts.choices import StaffRole

ALL = "__all__"

ROLE_PERMISSIONS: dict[StaffRole, list[str] | str] = {
    StaffRole.SUPPORT: [
        "accounts.view_user",
        "accounts.view_player",
        "accounts.view_brand",
        "accounts.view_currency",
        "wallet.view_account",
        "wallet.view_transaction",
        "compliance.view_limit",
        "compliance.view_exclusion",
        "payments.view_depositintent",
        "payments.view_withdrawal",
        # Login history, for "was that me?" questions.
        "accounts.view_playerlogin",
        # Bonuses read, for "where is my bonus?" questions; campaigns are the admins' to change.
        "bonuses.view_campaign",
        "bonuses.view_optin",
        "bonuses.view_bonus",
    ],
    StaffRole.COMPLIANCE: [
        "accounts.view_user",
        "accounts.view_player",
        "accounts.change_player",
        "accounts.view_brand",
        "accounts.view_currency",
        "wallet.view_account",
        "wallet.view_transaction",
        "wallet.view_entry",
        # Player protection: limits and exclusions are set through the compliance services (the
        # admin forms ask for a reason); profiles and the trails are read here, not changed.
        "compliance.view_jurisdictionprofile",
        "compliance.view_limit",
        "compliance.add_limit",
        "compliance.change_limit",
        "compliance.view_limitchange",
        "compliance.view_exclusion",
        "compliance.add_exclusion",
        "compliance.view_playerprotection",
        "compliance.view_staffaction",
        # Behaviour rules: edited through the compliance service (a new version and a staff
        # action each); versions, firings and alerts read.
        "compliance.view_rule",
        "compliance.add_rule",
        "compliance.change_rule",
        "compliance.view_ruleversion",
        "compliance.view_rulefiring",
        "compliance.view_alert",
        # Cases: opened from alerts, assigned, commented, attached and resolved through
        # compliance's case services (each a staff action); never deleted. Support reads none.
        "compliance.view_case",
        "compliance.add_case",
        "compliance.change_case",
        "compliance.view_casecomment",
        "compliance.view_caseattachment",
        # Shared identity: a player's logins and the marks that tie accounts together, read.
        "accounts.view_playerlogin",
        "compliance.view_identitymark",
        # Bonuses read (abuse reviews); campaigns are the admins' to change.
        "bonuses.view_campaign",
        "bonuses.view_optin",
        "bonuses.view_bonus",
        # Games read, and each game's live RTP against its declared one (the drift rule's alerts).
        "games.view_provider",
        "games.view_game",
        "games.view_live_rtp",
        # Reports: player protection's and AML's (docs/reports.md); the money reports are finance's.
        "backoffice.view_rg_report",
        "backoffice.view_aml_report",
    ],
    StaffRole.FINANCE: [
        "accounts.view_player",
        "accounts.view_brand",
        "accounts.view_currency",
        "wallet.view_account",
        "wallet.view_transaction",
        "wallet.view_entry",
        "wallet.adjust_balance",
        # The cashier: deposits and webhooks read, withdrawals approved or rejected (four eyes).
        "payments.view_paymentprovider",
        "payments.view_depositintent",
        "payments.view_webhookevent",
        "payments.view_withdrawal",
        "payments.view_withdrawalawaitingapproval",
        "payments.approve_withdrawal",
        # Bonuses read: what campaigns cost (the cost report) and the bonuses behind it.
        "bonuses.view_campaign",
        "bonuses.view_bonus",
        # Games read, and what each game returns to players (the live RTP report).
        "games.view_provider",
        "games.view_game",
        "games.view_live_rtp",
        # Every report (docs/reports.md).
        "backoffice.view_ggr_report",
        "backoffice.view_liability_report",
        "backoffice.view_rg_report",
        "backoffice.view_aml_report",
        "backoffice.view_payments_report",
    ],
    StaffRole.ADMIN: ALL,
}


def sync_role_permissions(sender=None, **kwargs) -> None:
    """post_migrate receiver: give each existing role group exactly its permissions."""
    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=role.value).first()
        if group is None:
            continue
        if wanted == ALL:
            permissions = Permission.objects.all()
        else:
            pairs = [name.split(".", 1) for name in wanted]
            permissions = [
                p
                for p in Permission.objects.select_related("content_type").filter(
                    codename__in=[codename for _, codename in pairs]
                )
                if [p.content_type.app_label, p.codename] in pairs
            ]
        group.permissions.set(permissions)
