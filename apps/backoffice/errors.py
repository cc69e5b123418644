"""The back office's refusals, each with a stable code."""

from apps.common.errors import PamError


class UnknownReport(PamError):
    code = "UNKNOWN_REPORT"
    status = 404
    default_message = "No such report."


class InvalidReportDay(PamError):
    code = "INVALID_REPORT_DAY"
    status = 422
    default_message = "A report cannot be run for that day."
