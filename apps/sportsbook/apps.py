from django.apps import AppConfig


class SportsbookConfig(AppConfig):
    name = "apps.sportsbook"
    label = "sportsbook"

    def ready(self) -> None:
        from django.conf import settings

        from apps.common import sweeps
        from apps.sportsbook import breakers, intake, receivers, services, settler, signals
        from apps.wallet import extensions

        # A demo feed's heartbeat (SPORTSBOOK_DEMO_FEED; nothing otherwise), registered before the
        # watchdog: a server started long after the demo was seeded runs it first on its first pass,
        # so the watchdog never finds the demo feed silent.
        sweeps.register_tick(
            "sportsbook.beat_demo_feed",
            services.beat_demo_feed,
            every=lambda: settings.SPORTSBOOK_STALE_AFTER_SECONDS / 2,
        )
        # Within a second of the limit (contracts/sportsbook.md): a tick, not a sweeper's pass.
        sweeps.register_tick(
            "sportsbook.suspend_stale_feeds",
            services.suspend_stale_feeds,
            every=lambda: settings.SPORTSBOOK_WATCHDOG_TICK_SECONDS,
        )
        # The circuit breakers' automatic triggers look right after the watchdog, at its pace.
        sweeps.register_tick(
            "sportsbook.breaker_triggers",
            breakers.check_triggers,
            every=lambda: settings.SPORTSBOOK_WATCHDOG_TICK_SECONDS,
        )
        # Bet intake commits with the stake: its participant at the wallet's STAKE moment, in the
        # position the extension point reserves for the sportsbook (extensions.py).
        extensions.STAKE.register(intake.on_stake, order=extensions.SPORTSBOOK, quiet=extensions.Quiet.NO_DETAIL)
        signals.markets_throttled.connect(receivers.suspend_throttled_markets, dispatch_uid="sportsbook.throttled")
        sweeps.register("sportsbook.release_due_bets", services.release_due_bets)
        # What the settlement workers left (a crash, a bet accepted after its market's settlement
        # ran), at a tick's pace, handed to the workers: the lag of a bet they missed stays short.
        sweeps.register_tick(
            "sportsbook.settle_due_bets",
            settler.sweep,
            every=lambda: settings.SPORTSBOOK_SETTLEMENT_TICK_SECONDS,
        )
