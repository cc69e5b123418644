"""PAM's own studio as a provider of the games app (docs/games.md, "Provisioning the studio").

The studio reaches the wallet as any provider does, with its own credentials (settings
`STUDIO_PROVIDER_CODE`, `STUDIO_PROVIDER_SECRET`); the games app must therefore know it as a
provider, with its games, or the wallet refuses its calls and the lobby cannot list them. The back
office, which may call every app's services, registers both on every `migrate` (a post_migrate
receiver), so a fresh `make run` or `make serve` has them, and a changed secret reaches the
provider row at the next migrate.

The catalogue is read from the studio's own module (`apps.studio.catalogue`): a studio lifted out
into its own service would publish it over HTTP instead.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS

from apps.games import services as games
from apps.games.models import Provider
from apps.studio import catalogue

STUDIO_NAME = "PAM Studio"
# Same origin: the studio's pages are served by PAM itself (pam/urls.py's /studio/).
STUDIO_LAUNCH_URL = "/studio/play/{game}/"


def provision_studio(*, enable: bool = False) -> Provider:
    """Create or update the studio's provider (its secret and launch URL from the settings and the
    studio's routes) and one game per catalogue entry (its name, type and expected return). An operator's choice to
    disable the provider or a game is kept, unless `enable` (the demo: every studio game playable)."""
    state = True if enable else None
    provider = games.save_provider(
        code=settings.STUDIO_PROVIDER_CODE,
        secret=settings.STUDIO_PROVIDER_SECRET,
        name=STUDIO_NAME,
        enabled=state,
        launch_url=STUDIO_LAUNCH_URL,
    )
    for game in catalogue.GAMES.values():
        # The expected return the RTP drift rule judges the game by (docs/rtp.md); a game whose
        # return depends on the player's own choices past the stake (the crash room's cash-out)
        # has no single sigma and is not monitored.
        expected = catalogue.expected_return(game.code) if hasattr(game, "return_variance") else (None, None)
        games.save_game(
            provider=provider, code=game.code, name=game.name, game_type=game.game_type, enabled=state,
            declared_rtp=expected[0], return_sigma=expected[1],
        )  # fmt: skip
    return provider


def provision_studio_after_migrate(sender, *, apps, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver (sent for the games app): provision the studio, on the default
    database, once the games app's schema has the launch URL and the expected return (a migrate back to an older state
    leaves the rows alone)."""
    if using != DEFAULT_DB_ALIAS:
        return
    try:
        apps.get_model("games", "Provider")._meta.get_field("launch_url")
        apps.get_model("games", "Game")._meta.get_field("return_sigma")
    except (LookupError, FieldDoesNotExist):
        return
    provision_studio()
