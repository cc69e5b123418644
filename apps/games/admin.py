from django.contrib import admin

from apps.common.admin import AuditedAdmin
from apps.games.models import Game, Provider


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ("code", "name", "enabled", "launch_url", "created_at")
    list_filter = ("enabled",)
    search_fields = ("code", "name")
    # The secret keys every signature; it is set, never shown back.
    exclude = ("secret",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # ledger rows name providers forever; disable one instead


@admin.register(Game)
class GameAdmin(AuditedAdmin):
    list_display = ("code", "name", "provider", "game_type", "enabled")
    list_filter = ("provider", "game_type", "enabled")
    search_fields = ("code", "name")
