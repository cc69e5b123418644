from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"

    def ready(self) -> None:
        from apps.common import staff_trail
        from apps.compliance import (
            gate,
            receivers,  # noqa: F401 - connects the signal receivers
            staff_audit,
        )
        from apps.wallet import extensions

        # The back office's admins and the wallet record staff actions through the shared kernel,
        # which imports no app: the trail is plugged in here.
        staff_trail.register_recorder(staff_audit.record_staff_action)
        # The wallet imports no compliance code: its money transaction calls these checks through
        # its extension point, first of any participant (extensions.py states the order).
        extensions.STAKE.register(gate.assert_may_stake, order=extensions.COMPLIANCE)
        extensions.DEPOSIT.register(gate.assert_may_deposit, order=extensions.COMPLIANCE)
        extensions.WITHDRAWAL.register(gate.assert_may_withdraw, order=extensions.COMPLIANCE)
