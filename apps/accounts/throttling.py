"""What django-axes answers once an account or an IP address is locked out."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from apps.accounts.errors import LoginLocked
from apps.common.errors import error_body


def lockout_response(request, original_response, credentials) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the API's error shape on /api/, a plain page elsewhere (the admin)."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(LoginLocked.code, LoginLocked.default_message), status=LoginLocked.status)
    else:
        response = HttpResponse(LoginLocked.default_message, status=LoginLocked.status, content_type="text/plain")
    response["Retry-After"] = retry_after
    return response
