"""What each staff role may do in the back office.

The groups themselves are created by a data migration; their permissions are (re)assigned after
every `migrate`, because permissions only exist once all apps have migrated. Later apps add
their own models' permissions here.

Least privilege: each role holds what its work needs and no more; what that lets each role open
and run, page by page and action by action, is docs/permissions.md, generated from this table and
the admins (`manage.py permission_matrix --write`; a test fails when it is out of date and opens
every page as every role). Nothing here is a "change" of money or of the trails: money moves
through the wallet's services, and four eyes are the services' rule (the approver of a withdrawal
or adjustment is never its requester), whatever the role.
"""

from django.contrib.auth.models import Group, Permission

from apps.accounts.choices import StaffRole

ALL = "__all__"

ROLE_PERMISSIONS: dict[StaffRole, list[str] | str] = {
    # Support answers players: it reads the player, their money, limits, exclusions, payments,
    # bonuses and logins, and changes nothing. Not the staff users (accounts.view_user: the user
    # list is staff accounts and their permissions; a player's login name is on the player page),
    # nor the ledger's entries (a transaction says what the player saw), nor alerts, cases or the
    # staff trail (compliance's investigations, which support must not tip off).
    StaffRole.SUPPORT: [
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
        # Staff notes on the player 360 page: read and added, never changed.
        "accounts.view_playernote",
        "accounts.add_playernote",
        # Bonuses read, for "where is my bonus?" questions; campaigns are the admins' to change.
        "bonuses.view_campaign",
        "bonuses.view_optin",
        "bonuses.view_bonus",
        # Sportsbook markets and prices read, for "why was the market suspended?" questions, and
        # the players' bets, for "why was my bet rejected?"; the feeds (their sequence and health),
        # the exposure caps and the stake factors are the admins'.
        "sportsbook.view_event",
        "sportsbook.view_market",
        "sportsbook.view_selection",
        # The circuit breakers' state, for "why can't I bet in play?" questions.
        "sportsbook.view_breaker",
        "sportsbook.view_bet",
        "sportsbook.view_betsettlement",
    ],
    # Compliance works alerts, KYC and cases and protects players: the player's standing and KYC
    # (accounts.change_player: the status and KYC fields, with a reason, and the lock, freeze and
    # re-open actions), limits, exclusions, the rules and the staff trail; it reads the money it
    # investigates and the staff users the trail names, and moves no money.
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
        # KYC: documents uploaded, read and decided on (approve needs one; reject a reason).
        # Support sees a player's KYC status on the player, never the documents.
        "accounts.view_kycdocument",
        "accounts.add_kycdocument",
        "accounts.decide_kyc",
        # Shared identity: a player's logins and the marks that tie accounts together, read.
        "accounts.view_playerlogin",
        # Staff notes on the player 360 page: read and added, never changed.
        "accounts.view_playernote",
        "accounts.add_playernote",
        "compliance.view_identitymark",
        # Staff sign-ins, failures and lockouts, read (the admins see them too).
        "accounts.view_stafflogin",
        # Bonuses read (abuse reviews); campaigns are the admins' to change.
        "bonuses.view_campaign",
        "bonuses.view_optin",
        "bonuses.view_bonus",
        # Games read, and each game's live RTP against its declared one (the drift rule's alerts).
        "games.view_provider",
        "games.view_game",
        "games.view_live_rtp",
        # Sportsbook markets, results and prices read (integrity reviews of suspicious betting).
        "sportsbook.view_event",
        "sportsbook.view_market",
        "sportsbook.view_selection",
        # The circuit breakers and who switched them, read.
        "sportsbook.view_breaker",
        "sportsbook.view_breakerrequest",
        "sportsbook.view_bet",
        "sportsbook.view_betsettlement",
        # Money in and out read, for AML reviews (a case's report lists the same movements);
        # approving withdrawals is finance's.
        "payments.view_depositintent",
        "payments.view_withdrawal",
        # Reports: player protection's and AML's (docs/reports.md); the money reports are finance's.
        "backoffice.view_reports",
        "backoffice.view_rg_report",
        "backoffice.view_aml_report",
    ],
    # Finance approves withdrawals (four eyes), adjusts balances with a reason, and reads the
    # ledger and the reports; it reads no alerts or cases and changes no configuration, but reads
    # the brands' auto-approval threshold, which decides what reaches its queue.
    StaffRole.FINANCE: [
        "accounts.view_player",
        "accounts.view_brand",
        "accounts.view_currency",
        "wallet.view_account",
        "wallet.view_transaction",
        "wallet.view_entry",
        "wallet.adjust_balance",
        # Adjustments at or above the threshold wait for a second finance member (four eyes).
        "wallet.approve_adjustment",
        "wallet.view_adjustmentrequest",
        "wallet.view_adjustmentawaitingapproval",
        # The cashier: deposits and webhooks read, withdrawals approved or rejected (four eyes).
        "payments.view_paymentprovider",
        "payments.view_depositintent",
        "payments.view_webhookevent",
        "payments.view_withdrawal",
        "payments.view_withdrawalawaitingapproval",
        "payments.approve_withdrawal",
        "payments.view_brandpaymentsettings",
        # Bonuses read: what campaigns cost (the cost report) and the bonuses behind it.
        "bonuses.view_campaign",
        "bonuses.view_bonus",
        # Games read, and what each game returns to players (the live RTP report).
        "games.view_provider",
        "games.view_game",
        "games.view_live_rtp",
        # Sportsbook markets, results and prices read, each market's margin, and the bets.
        "sportsbook.view_event",
        "sportsbook.view_market",
        "sportsbook.view_selection",
        # The sportsbook's circuit breakers protect the book's money (its liability): finance
        # asks for a change with a reason and a second finance member approves or rejects it
        # (four eyes, the service's rule); the automatic triggers need no one.
        "sportsbook.view_breaker",
        "sportsbook.view_breakerrequest",
        "sportsbook.add_breakerrequest",
        "sportsbook.approve_breakerrequest",
        # A market the liability throttle suspended is finance's to look at and reopen (with a
        # reason, in the staff trail); the feed's own `resume` reopens it too.
        "sportsbook.resume_throttled_market",
        "sportsbook.view_bet",
        "sportsbook.view_betsettlement",
        # Every report (docs/reports.md).
        "backoffice.view_reports",
        "backoffice.view_ggr_report",
        "backoffice.view_liability_report",
        "backoffice.view_rg_report",
        "backoffice.view_aml_report",
        "backoffice.view_payments_report",
    ],
    # Admins configure (brands, currencies, providers, games, campaigns, rules, staff and groups)
    # and are superusers (`services.create_staff_user`): every permission, kept on purpose rather
    # than a long list that would lag each new model. What holds them in check is not the role:
    # four eyes are enforced by the services against the person, not the permission, so an admin
    # cannot approve their own adjustment or withdrawal either; everything they change is in the
    # staff trail; ledger and trail rows refuse change in the database whoever asks. Keep the role
    # to a few named people.
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
