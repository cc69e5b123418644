import logging

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"

    def ready(self) -> None:
        from apps.common import lookups
        from apps.common.log_filters import RedactTickets

        lookups.register()

        # uvicorn configured its loggers before Django was set up; a filter leaves their handlers
        # and formats as they are.
        for name in ("uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, RedactTickets) for f in logger.filters):
                logger.addFilter(RedactTickets())
