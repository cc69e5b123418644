from django.apps import AppConfig


class SportsbookConfig(AppConfig):
    name = "apps.sportsbook"
    label = "sportsbook"
