from django.apps import AppConfig


class StudioConfig(AppConfig):
    """PAM's own games (docs/studio.md). It imports nothing of the other apps but `common`: it is
    to reach the wallet only over the signed provider API, like an external studio, so that it can
    be lifted out into its own service."""

    name = "apps.studio"
    label = "studio"
