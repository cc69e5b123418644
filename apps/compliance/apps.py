from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"

    def ready(self) -> None:
        from apps.common import staff_trail
        from apps.compliance import (
            receivers,  # noqa: F401 - connects the signal receivers
            sockets,
            staff_audit,
        )
        from apps.realtime import extensions

        # The back office's admins and the wallet record staff actions through the shared kernel,
        # which imports no app: the trail is plugged in here.
        staff_trail.register_recorder(staff_audit.record_staff_action)
        # The real-time app never calls compliance: the exclusion notice at connect and the
        # reality-check timer of a player's socket are plugged in here.
        extensions.register(sockets.PLAYER_SOCKET)
