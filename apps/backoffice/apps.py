from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    label = "backoffice"

    def ready(self) -> None:
        from apps.backoffice import studio

        # Sent once per migrate for the games app (an app without models, such as this one, is
        # never a sender): the studio's provider and games follow the settings and the catalogue.
        post_migrate.connect(
            studio.provision_studio_after_migrate,
            sender=self.apps.get_app_config("games"),
            dispatch_uid="backoffice.provision_studio",
        )
