from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from apps.accounts import (
            receivers,  # noqa: F401 - connects the signal receivers
            roles,
        )

        # Permissions exist only after every app has migrated, so the groups that the data
        # migration created get theirs here, every time migrate runs.
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
