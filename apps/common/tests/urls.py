"""The real URLs plus endpoints that fail on purpose, for the error-shape tests."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from pam.urls import handler404, handler500
from pam.urls import urlpatterns as pam_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


class BrokenApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom")


def broken_plain_view(request):
    raise RuntimeError("boom outside DRF")


urlpatterns = [
    *pam_urlpatterns,
    path("api/test/broken", BrokenApi.as_view()),
    path("api/test/broken-plain", broken_plain_view),
]
