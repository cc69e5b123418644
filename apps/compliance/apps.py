from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"

    def ready(self) -> None:
        from apps.compliance import receivers  # noqa: F401 - connects the signal receivers
