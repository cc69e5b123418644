from django.apps import AppConfig


class SportsbookConfig(AppConfig):
    name = "apps.sportsbook"
    label = "sportsbook"

    def ready(self) -> None:
        from apps.common import sweeps
        from apps.sportsbook import intake, services
        from apps.wallet import extensions

        # Bet intake commits with the stake: its participant at the wallet's STAKE moment, in the
        # position the extension point reserves for the sportsbook (extensions.py).
        extensions.STAKE.register(intake.on_stake, order=extensions.SPORTSBOOK)
        sweeps.register("sportsbook.release_due_bets", services.release_due_bets)
