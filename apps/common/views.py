"""Operational endpoints and the JSON error pages of the API."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from apps.common import addresses, health, metrics
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


# Exempt: it changes nothing, and CSRF's 403 to a POST from anywhere would tell that it exists.
@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus scrape (docs/metrics.md), to METRICS_ALLOWED_ADDRESSES only; anyone else
    gets the 404 of a page that does not exist, so the endpoint does not advertise itself. The
    address is the client's as TRUSTED_PROXIES say (apps.common.addresses): a request a trusted
    proxy forwards is judged by its origin, not by the proxy's address."""
    address = addresses.parse_address(addresses.client_address(request))
    if address is None or not addresses.is_within(address, addresses.networks(settings.METRICS_ALLOWED_ADDRESSES)):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("NOT_FOUND", "No such endpoint."), status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("INTERNAL_ERROR", "Internal error; it has been logged."), status=500)
    return html_server_error(request)
