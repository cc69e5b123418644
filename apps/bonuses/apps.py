from django.apps import AppConfig


class BonusesConfig(AppConfig):
    name = "apps.bonuses"
    label = "bonuses"
