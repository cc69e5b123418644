from django.apps import AppConfig


class BonusesConfig(AppConfig):
    name = "apps.bonuses"
    label = "bonuses"

    def ready(self) -> None:
        from apps.bonuses import receivers  # noqa: F401  (connects the receivers)
