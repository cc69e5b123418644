"""Operational endpoints and the JSON error pages of the API."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from apps.common import health
from apps.common.errors import error_body

API_PREFIX = "/api/"


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; checks nothing else (that is /readyz)."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database and, where configured, Redis answer; 503 names what failed."""
    checks = {"database": health.check_database()}
    if settings.REDIS_URL:
        checks["redis"] = health.check_redis()
    failed = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: ("error" if name in failed else "ok") for name in checks},
    }
    if failed:
        body["errors"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("NOT_FOUND", "No such endpoint."), status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("INTERNAL_ERROR", "Internal error; it has been logged."), status=500)
    return html_server_error(request)
