from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"

    def ready(self) -> None:
        from apps.common import staff_trail
        from apps.compliance import (
            gate,
            receivers,  # noqa: F401 - connects the signal receivers
            sockets,
            staff_audit,
        )
        from apps.realtime import extensions as realtime_extensions
        from apps.wallet import extensions as wallet_extensions

        # The back office's admins and the wallet record staff actions through the shared kernel,
        # which imports no app: the trail is plugged in here.
        staff_trail.register_recorder(staff_audit.record_staff_action)
        # The wallet imports no compliance code: its money transaction calls these checks through
        # its extension point, first of any participant (extensions.py states the order).
        wallet_extensions.STAKE.register(
            gate.assert_may_stake, order=wallet_extensions.COMPLIANCE, quiet=wallet_extensions.Quiet.FREE_PLAYER
        )
        wallet_extensions.DEPOSIT.register(gate.deposit_credited, order=wallet_extensions.COMPLIANCE)
        wallet_extensions.WITHDRAWAL.register(gate.assert_may_withdraw, order=wallet_extensions.COMPLIANCE)
        wallet_extensions.CHARGEBACK.register(gate.lock_for_chargeback, order=wallet_extensions.COMPLIANCE)
        # The real-time app never calls compliance: the exclusion notice at connect and the
        # reality-check timer of a player's socket are plugged in here.
        realtime_extensions.register(sockets.PLAYER_SOCKET)
