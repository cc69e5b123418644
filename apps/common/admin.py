"""Admin pieces shared by the apps' back-office views (nothing is registered here)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are never added, changed or deleted in the back office: the ledger,
    audit trails, exclusions. A correction goes through the owning app's service."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
