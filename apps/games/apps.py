from django.apps import AppConfig
from django.db.models.signals import post_save


class GamesConfig(AppConfig):
    name = "apps.games"
    label = "games"

    def ready(self) -> None:
        from apps.games import selectors
        from apps.games.models import Game, Provider

        post_save.connect(selectors.forget_providers, sender=Provider, dispatch_uid="games.forget_providers")
        post_save.connect(selectors.forget_game_types, sender=Game, dispatch_uid="games.forget_game_types")
        post_save.connect(
            selectors.forget_game_expectations, sender=Game, dispatch_uid="games.forget_game_expectations"
        )
