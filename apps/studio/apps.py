from django.apps import AppConfig


class StudioConfig(AppConfig):
    """PAM's own games (docs/studio.md). It imports nothing of the other apps but `common`: it is
    to reach the wallet only over the signed provider API, like an external studio, so that it can
    be lifted out into its own service."""

    name = "apps.studio"
    label = "studio"

    def ready(self) -> None:
        from apps.common import sweeps
        from apps.studio import recovery

        # Rounds a crash left unfinished are completed or rolled back on the sweeper's passes.
        sweeps.register("studio.recover_rounds", recovery.sweep)
