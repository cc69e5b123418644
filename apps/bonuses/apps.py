from django.apps import AppConfig


class BonusesConfig(AppConfig):
    name = "apps.bonuses"
    label = "bonuses"

    def ready(self) -> None:
        from apps.bonuses import receivers, services, wagering  # noqa: F401  (connects the receivers)
        from apps.common import sweeps
        from apps.wallet import extensions

        extensions.STAKE.register(wagering.on_stake, order=extensions.BONUSES, quiet=extensions.Quiet.NO_BONUS)
        extensions.REFUND.register(wagering.on_refund, order=extensions.BONUSES)
        extensions.WITHDRAWAL.register(wagering.on_withdrawal, order=extensions.BONUSES)
        sweeps.register("bonuses.expire_due_bonuses", services.expire_due_bonuses)
        sweeps.register("bonuses.pay_due_cashback", services.pay_due_cashback)
